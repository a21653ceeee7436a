import { getIntrospectionQuery } from 'graphql'
import http from 'node:http'
import net from 'node:net'
import WebSocket from 'ws'
import { GqlResponse, startTestLab, TestLab } from '../helpers/lab'

/** A: defaults for the GraphQL limits, small WebSocket limits. B: introspection off, named host and origin. */
let a: TestLab
let b: TestLab
let datasetId: string

const code = (res: GqlResponse) => res.errors?.[0]?.extensions?.code

const PROTOCOL = 'graphql-transport-ws'

/** A raw WebSocket (no graphql-ws client), so tests can misbehave on purpose. */
function rawWs(url: string, opts: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, PROTOCOL, opts)
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)))
  })
  const closed = new Promise<{ code: number; at: number }>((resolve) =>
    ws.once('close', (code) => resolve({ code, at: Date.now() })),
  )
  opened.catch(() => {})
  return { ws, opened, closed }
}

/** Runs an operation over graphql-ws and returns its first result or its errors. */
function overWs(t: TestLab, query: string, variables: Record<string, unknown> = {}) {
  return new Promise<{ data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] }>(
    (resolve) => {
      const unsubscribe = t.ws().subscribe(
        { query, variables },
        {
          next: (value) => {
            resolve(value as never)
            unsubscribe()
          },
          error: (err) => resolve({ errors: Array.isArray(err) ? err : [{ message: String(err) }] }),
          complete: () => {},
        },
      )
    },
  )
}

/** A request with headers fetch() refuses to set (Host), answered as status and text. */
function rawHttp(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'POST', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString(), headers: res.headers }),
      )
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

const aliasQuery = (n: number) =>
  `{ ${Array.from({ length: n }, (_, i) => `a${i}: runs(first: 100) { edges { node { history { epoch } } } }`).join(' ')} }`

/** 22 fragments, each spreading the next twice: 2^22 paths if followed naively. */
function fragmentBomb(n: number) {
  const frags = Array.from({ length: n }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`)
  return `{ ...F0 }\n${frags.join('\n')}\nfragment F${n} on Query { datasets { totalCount } }`
}

beforeAll(async () => {
  a = await startTestLab({
    LAB_WS_MAX_PAYLOAD_BYTES: String(64 * 1024),
    LAB_WS_MAX_SUBSCRIPTIONS: '3',
    LAB_WS_CONNECTION_INIT_TIMEOUT_MS: '400',
    LAB_WS_KEEPALIVE_MS: '300',
    LAB_HTTP_HEADERS_TIMEOUT_MS: '500',
  })
  b = await startTestLab({
    LAB_INTROSPECTION: 'off',
    LAB_ALLOWED_HOSTS: 'lab.example.com',
    LAB_ALLOWED_ORIGINS: 'https://lab.example.com',
    LAB_WS_MAX_CONNECTIONS: '2',
    LAB_DB_STATEMENT_TIMEOUT_MS: '300',
  })
  const res = await a.gql<{ generateDataset: { id: string } }>(
    `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
    { input: { name: 'limits', generator: 'FRIEDMAN1', rows: 1000, noise: 0.1, seed: 1 } },
  )
  datasetId = res.data!.generateDataset.id
}, 120_000)

afterAll(async () => {
  await a?.stop()
  await b?.stop()
})

describe('GraphQL limits, over HTTP and graphql-ws', () => {
  it('refuses 1,000 aliases of runs(first: 100) quickly, with a client code', async () => {
    const started = Date.now()
    const res = await a.gql(aliasQuery(1000))
    expect(Date.now() - started).toBeLessThan(2000)
    expect(res.status).toBe(400)
    expect(res.data).toBeUndefined()
    // The document is refused by the token limit before it is even parsed to the end.
    expect(code(res)).toBe('GRAPHQL_PARSE_FAILED')
    expect(res.errors![0]!.message).toMatch(/contains more tha[nt] 5000 tokens/)
    const ws = await overWs(a, aliasQuery(1000))
    expect(ws.errors![0]!.extensions!.code).toBe('GRAPHQL_PARSE_FAILED')
  })

  it('refuses more aliases than the limit even in a small document', async () => {
    const res = await a.gql(aliasQuery(21))
    expect(code(res)).toBe('GRAPHQL_VALIDATION_FAILED')
    expect(res.errors!.map((e) => e.message)).toContain('Aliases limit of 20 exceeded, found 21.')
    expect((await a.gql(aliasQuery(2))).errors).toBeUndefined()
    const ws = await overWs(a, aliasQuery(21))
    expect(ws.errors!.map((e) => e.message)).toContain('Aliases limit of 20 exceeded, found 21.')
    // __typename is a field like any other: 1,000 aliases of it (3,000 tokens, under the token limit) are refused.
    const typenames = `{ ${Array.from({ length: 1000 }, (_, i) => `t${i}: __typename`).join(' ')} }`
    const many = await a.gql(typenames)
    expect(many.status).toBe(400)
    expect(code(many)).toBe('GRAPHQL_VALIDATION_FAILED')
    expect(many.errors!.map((e) => e.message)).toContain('Aliases limit of 20 exceeded, found 1000.')
  })

  it('rejects the fragment bomb in well under a second', async () => {
    for (const n of [22, 40]) {
      const started = Date.now()
      const res = await a.gql(fragmentBomb(n))
      expect(Date.now() - started).toBeLessThan(2000)
      expect(res.status).toBe(400)
      expect(code(res)).toBe('GRAPHQL_VALIDATION_FAILED')
      expect(res.errors![0]!.message).toMatch(/Cost limit of 20000 exceeded/)
    }
    const started = Date.now()
    const ws = await overWs(a, fragmentBomb(22))
    expect(Date.now() - started).toBeLessThan(2000)
    expect(ws.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED')
  })

  it('refuses a query whose cost is over the limit', async () => {
    const nested = `{ experiments(first: 100) { edges { node { runs(first: 100) { edges { node { id name } } } } } } }`
    const res = await a.gql(nested)
    expect(code(res)).toBe('GRAPHQL_VALIDATION_FAILED')
    expect(res.errors![0]!.message).toMatch(/Cost limit of 20000 exceeded/)
    const page = await a.gql(`{ experiments(first: 100) { edges { node { id name } } } }`)
    expect(page.errors).toBeUndefined()
  })

  it("counts introspection's depth: the explorer's query passes, a deeper one is refused", async () => {
    const standard = await a.gql(getIntrospectionQuery())
    expect(standard.errors).toBeUndefined()
    const ofTypes = (n: number) => `${'ofType { '.repeat(n)}name${' }'.repeat(n)}`
    const deep = await a.gql(`{ __schema { types { fields { type { ${ofTypes(20)} } } } } }`)
    expect(code(deep)).toBe('GRAPHQL_VALIDATION_FAILED')
    expect(deep.errors![0]!.message).toMatch(/depth limit of 15 exceeded/)
    // __type is held to the ordinary limit (12).
    const viaType = await a.gql(`{ __type(name: "Run") { fields { type { ${ofTypes(12)} } } } }`)
    expect(viaType.errors![0]!.message).toMatch(/depth limit of 12 exceeded/)
    const ws = await overWs(a, `{ __schema { types { fields { type { ${ofTypes(20)} } } } } }`)
    expect(ws.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED')
  })

  it('turns introspection off by configuration and then hides field suggestions', async () => {
    const typo = `{ datasets { totalCont } }`
    const withSuggestions = await a.gql(typo)
    expect(withSuggestions.errors![0]!.message).toMatch(/Did you mean "totalCount"\?/)

    const intro = await b.gql(`{ __schema { types { name } } }`)
    expect(code(intro)).toBe('GRAPHQL_VALIDATION_FAILED')
    expect(intro.data).toBeUndefined()
    const res = await b.gql(typo)
    expect(code(res)).toBe('GRAPHQL_VALIDATION_FAILED')
    expect(res.errors![0]!.message).toBe('Cannot query field "totalCont" on type "DatasetConnection".')
    const ws = await overWs(b, typo)
    expect(ws.errors![0]!.message).not.toMatch(/Did you mean/)
    expect((await overWs(b, `{ __type(name: "Run") { name } }`)).errors![0]!.extensions!.code).toBe(
      'GRAPHQL_VALIDATION_FAILED',
    )
  })

  it('bounds echoed input: a 10 MB id does not come back', async () => {
    const id = 'x'.repeat(10 * 1024 * 1024)
    const res = await fetch(a.lab.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`,
        variables: { input: { datasetId: id } },
      }),
    })
    const text = await res.text()
    expect(text.length).toBeLessThan(5000)
    expect(JSON.parse(text).errors[0].extensions.code).toBe('BAD_USER_INPUT')
    const coerced = await a.gql(`query($first: Int) { datasets(first: $first) { totalCount } }`, {
      first: 'y'.repeat(1024 * 1024),
    })
    expect(code(coerced)).toBe('BAD_USER_INPUT')
    expect(JSON.stringify(coerced).length).toBeLessThan(5000)
  })
})

describe('WebSocket', () => {
  it('refuses a foreign Origin at the upgrade and accepts none, its own and a listed one', async () => {
    const evil = rawWs(a.lab.wsUrl, { origin: 'https://evil.example' })
    await expect(evil.opened).rejects.toThrow(/refused with 403/)
    const none = rawWs(a.lab.wsUrl)
    await none.opened
    none.ws.close()
    const own = rawWs(a.lab.wsUrl, { origin: new URL(a.lab.url).origin })
    await own.opened
    own.ws.close()
    const listed = rawWs(b.lab.wsUrl, { origin: 'https://lab.example.com' })
    await listed.opened
    listed.ws.close()
    await expect(rawWs(a.lab.wsUrl, { origin: 'https://lab.example.com' }).opened).rejects.toThrow(/403/)
  })

  it('refuses a Host header that is not ours (DNS rebinding), over WebSocket and HTTP', async () => {
    const rebound = rawWs(a.lab.wsUrl, { headers: { host: `evil.example:${a.lab.port}` } })
    await expect(rebound.opened).rejects.toThrow(/refused with 403/)
    const body = JSON.stringify({ query: '{ datasets { totalCount } }' })
    const headers = { 'content-type': 'application/json' }
    const res = await rawHttp(a.lab.url, {
      headers: { ...headers, host: `evil.example:${a.lab.port}` },
      body,
    })
    expect(res.status).toBe(403)
    expect(JSON.parse(res.text).errors[0].extensions.code).toBe('BAD_REQUEST')
    const named = await rawHttp(b.lab.url, {
      headers: { ...headers, host: `lab.example.com:${b.lab.port}` },
      body,
    })
    expect(named.status).toBe(200)
    const local = await rawHttp(a.lab.url, { headers: { ...headers, host: `localhost:${a.lab.port}` }, body })
    expect(local.status).toBe(200)
  })

  it('closes a socket that sends a message above maxPayload', async () => {
    const { ws, opened, closed } = rawWs(a.lab.wsUrl)
    await opened
    ws.on('error', () => {})
    ws.send(JSON.stringify({ type: 'connection_init' }))
    ws.send(JSON.stringify({ type: 'ping', payload: { pad: 'p'.repeat(100 * 1024) } }))
    expect((await closed).code).toBe(1009)
  })

  it('refuses more operations on one connection than the cap', async () => {
    const client = a.ws()
    const results: string[] = []
    const subscribe = (i: number) =>
      new Promise<void>((resolve) => {
        client.subscribe(
          { query: `subscription { experimentEvents(experiment: "cap-${i}") { __typename } }` },
          {
            next: () => {},
            error: (err) => {
              results.push(JSON.stringify(err))
              resolve()
            },
            complete: () => resolve(),
          },
        )
        setTimeout(resolve, 500)
      })
    await Promise.all([1, 2, 3].map(subscribe))
    expect(results).toEqual([])
    await subscribe(4)
    expect(results).toHaveLength(1)
    expect(results[0]).toMatch(/"code":"BAD_REQUEST"/)
    expect(results[0]).toMatch(/at most 3 operations/)
  })

  it('closes a client that never sends connection_init after the timeout', async () => {
    const { opened, closed } = rawWs(a.lab.wsUrl)
    await opened
    const openedAt = Date.now()
    const { code, at } = await closed
    expect(code).toBe(4408)
    expect(at - openedAt).toBeGreaterThanOrEqual(300)
    expect(at - openedAt).toBeLessThan(3000)
  })

  it('drops a socket that stops answering pings', async () => {
    const silent = rawWs(a.lab.wsUrl, { autoPong: false })
    const polite = rawWs(a.lab.wsUrl)
    await Promise.all([silent.opened, polite.opened])
    for (const s of [silent, polite]) s.ws.send(JSON.stringify({ type: 'connection_init' }))
    const { code, at } = await silent.closed
    expect(code).toBe(1006) // terminated, no close frame
    // The socket that answers is still open well after the silent one was dropped.
    await new Promise((r) => setTimeout(r, Math.max(0, at + 700 - Date.now())))
    expect(polite.ws.readyState).toBe(WebSocket.OPEN)
    polite.ws.close()
  })

  it('caps connections in total', async () => {
    const first = rawWs(b.lab.wsUrl)
    const second = rawWs(b.lab.wsUrl)
    await Promise.all([first.opened, second.opened])
    await expect(rawWs(b.lab.wsUrl).opened).rejects.toThrow(/refused with 503/)
    first.ws.close()
    await first.closed
    const third = rawWs(b.lab.wsUrl)
    await third.opened
    third.ws.close()
    second.ws.close()
  })
})

describe('HTTP', () => {
  const post = (headers: Record<string, string>, body: string | Buffer) =>
    rawHttp(a.lab.url, { headers: { 'content-type': 'application/json', ...headers }, body })

  const expectJsonError = (res: { status: number; text: string; headers: http.IncomingHttpHeaders }) => {
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    expect(res.text).not.toMatch(/<html|<pre|\bat \w|node_modules|\/work\/|\.js:\d/i)
    const body = JSON.parse(res.text) as { errors: { extensions: { code: string } }[] }
    expect(body.errors[0]!.extensions.code).toBe('BAD_REQUEST')
  }

  it('answers body-parser failures as JSON with a stable code, never an HTML stack trace', async () => {
    const query = JSON.stringify({ query: '{ datasets { totalCount } }' })
    const charset = await post({ 'content-type': 'application/json; charset=klingon' }, query)
    expect(charset.status).toBe(415)
    expectJsonError(charset)
    const encoding = await post({ 'content-encoding': 'klingon' }, query)
    expect(encoding.status).toBe(415)
    expectJsonError(encoding)
    const gzipLie = await post({ 'content-encoding': 'gzip' }, query)
    expect(gzipLie.status).toBe(400)
    expectJsonError(gzipLie)
    const malformed = await post({}, '{"query": ')
    expect(malformed.status).toBe(400)
    expectJsonError(malformed)
  })

  it('keeps CSRF prevention on: a simple cross-site request is not executed', async () => {
    const res = await post(
      { 'content-type': 'text/plain' },
      JSON.stringify({ query: '{ datasets { totalCount } }' }),
    )
    expect(res.status).toBe(400)
    expect(res.text).toMatch(/Cross-Site Request Forgery/)
  })

  it('cuts a client that never finishes its headers', async () => {
    const socket = net.connect(a.lab.port, '127.0.0.1')
    await new Promise((r) => socket.once('connect', r))
    const started = Date.now()
    socket.write(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n`)
    socket.on('data', () => {})
    await new Promise((r) => socket.once('close', r))
    expect(Date.now() - started).toBeGreaterThanOrEqual(400)
    expect(Date.now() - started).toBeLessThan(5000)
  })
})

describe('database', () => {
  it('sets statement_timeout on the API connections', async () => {
    const [row] = await a.lab.db.$queryRaw<{ statement_timeout: string }[]>`SHOW statement_timeout`
    expect(row!.statement_timeout).toBe('30s')
    await expect(b.lab.db.$queryRaw`SELECT pg_sleep(2)`).rejects.toThrow(/statement timeout/)
    expect(await b.lab.db.$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }])
  })
})

describe('compute caps in startRun', () => {
  const START = `mutation($input: StartRunInput!) { startRun(input: $input) { id status } }`
  const count = async () =>
    (await a.gql<{ runs: { totalCount: number } }>(`{ runs { totalCount } }`)).data!.runs.totalCount

  it('refuses a huge network before anything is queued', async () => {
    const before = await count()
    const res = await a.gql(START, {
      input: { datasetId, hiddenLayers: Array(16).fill(4096), epochs: 10000, batchSize: 1 },
    })
    expect(code(res)).toBe('BAD_USER_INPUT')
    expect(res.errors![0]!.extensions).toMatchObject({ field: 'hiddenLayers', limit: 5_000_000 })
    expect(res.errors![0]!.message).toMatch(/has 251\d{6} parameters/)
    const vae = await a.gql(START, { input: { datasetId, family: 'VAE', hiddenLayers: [2048, 2048] } })
    expect(vae.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'hiddenLayers' })
    expect(await count()).toBe(before)
  })

  it('refuses a dataset wider than the feature limit', async () => {
    const create = (n: number) =>
      a.gql(`mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`, {
        input: {
          name: `wide-${n}`,
          task: 'REGRESSION',
          featureNames: Array.from({ length: n }, (_, i) => `f${i}`),
          targetName: 'y',
          rows: [Array(n).fill(1), Array(n).fill(2)],
          targets: [1, 2],
        },
      })
    const wide = await create(1025)
    expect(wide.errors![0]!.extensions).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', maxFeatures: 1024 })
    expect((await create(1024)).errors).toBeUndefined()
  })

  it('refuses a run of too many training steps, and queues one within the budget', async () => {
    const before = await count()
    const res = await a.gql(START, { input: { datasetId, hiddenLayers: [8], epochs: 10000, batchSize: 1 } })
    expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'epochs' })
    expect(res.errors![0]!.message).toMatch(/8000000 training steps; at most 2000000/)
    expect(await count()).toBe(before)
    const ok = await a.gql(START, { input: { datasetId, hiddenLayers: [8], epochs: 2 } })
    expect(ok.errors).toBeUndefined()
    expect(await count()).toBe(before + 1)
  })
})
