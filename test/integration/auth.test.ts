import { spawnSync } from 'node:child_process'
import path from 'node:path'
import type { Client } from 'graphql-ws'
import { Client as PgClient } from 'pg'
import { startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'
import { ExitCode } from '../../src/cli/main'
import { runCli } from '../unit/cli/harness'

const ADMIN_KEY = 'admin-key-for-tests-0123456789abcdef'

const CREATE_DATASET = `mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`
const datasetInput = (name: string) => ({
  input: {
    name,
    task: 'REGRESSION',
    featureNames: ['a'],
    rows: [[1], [2], [3], [4]],
    targets: [1, 2, 3, 4],
  },
})
const START_RUN = `mutation($input: StartRunInput!) { startRun(input: $input) { id status } }`
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { id name scope key } }`

interface Outcome {
  events: unknown[]
  /** The error a subscription ended with: a close event (with `code`) or GraphQL errors. */
  error?: unknown
  completed: boolean
}

/** Subscribes and records what happens, without failing on errors (the tests look at them). */
function observe(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const outcome: Outcome = { events: [], completed: false }
  let settle: () => void = () => {}
  const done = new Promise<void>((resolve) => (settle = resolve))
  const unsubscribe = client.subscribe(
    { query, variables },
    {
      next: (value) => void outcome.events.push(value),
      error: (err) => {
        outcome.error = err
        settle()
      },
      complete: () => {
        outcome.completed = true
        settle()
      },
    },
  )
  return { outcome, done, unsubscribe }
}

const closeCode = (err: unknown) => (err as { code?: number } | undefined)?.code

describe('API keys with LAB_AUTH=required', () => {
  let t: TestLab
  let db: PgClient
  let readKey: string
  let writeKey: string
  let writeKeyId: string
  let datasetId: string

  const codeOf = (res: { errors?: { extensions?: { code?: string } }[] }) => res.errors?.[0]?.extensions?.code
  const createKey = async (name: string, scope: string, apiKey = ADMIN_KEY) => {
    const res = await t.gql<{ createApiKey: { id: string; key: string; scope: string; name: string } }>(
      CREATE_KEY,
      { input: { name, scope } },
      { apiKey },
    )
    expect(res.errors).toBeUndefined()
    return res.data!.createApiKey
  }
  const countRows = async (table: string) =>
    Number((await db.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows[0].n)

  beforeAll(async () => {
    t = await startTestLab({
      LAB_AUTH: 'required',
      LAB_ADMIN_KEY: ADMIN_KEY,
      LAB_RATE_LIMIT_MUTATIONS_PER_MINUTE: '1000',
      LAB_MAX_QUEUED_RUNS_PER_KEY: '3',
    })
    db = new PgClient({ connectionString: t.lab.databaseUrl })
    await db.connect()
    readKey = (await createKey('reader', 'READ')).key
    const write = await createKey('writer', 'WRITE')
    writeKey = write.key
    writeKeyId = write.id
    const created = await t.gql<{ createDataset: { id: string } }>(CREATE_DATASET, datasetInput('d1'), {
      apiKey: writeKey,
    })
    expect(created.errors).toBeUndefined()
    datasetId = created.data!.createDataset.id
  })
  afterAll(async () => {
    await db?.end()
    await t?.stop()
  })

  it('answers HTTP without a key, with a wrong key or a malformed header with 401 UNAUTHENTICATED', async () => {
    for (const apiKey of [undefined, 'lab_not-a-key-at-all-000000000000000000000', ADMIN_KEY + 'x']) {
      const res = await t.gql(`{ datasets { totalCount } }`, {}, apiKey === undefined ? {} : { apiKey })
      expect(res.status).toBe(401)
      expect(codeOf(res)).toBe('UNAUTHENTICATED')
      expect(res.data).toBeUndefined()
    }
    const malformed = await fetch(t.lab.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${ADMIN_KEY}` },
      body: JSON.stringify({ query: '{ datasets { totalCount } }' }),
    })
    expect(malformed.status).toBe(401)
    expect(malformed.headers.get('www-authenticate')).toBe('Bearer')
    expect(
      ((await malformed.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code,
    ).toBe('UNAUTHENTICATED')
  })

  it('tells each key its own scope through viewer, and a request without a key nothing', async () => {
    const VIEWER = `{ viewer { authRequired scope keyName } }`
    for (const [apiKey, scope, keyName] of [
      [readKey, 'READ', 'reader'],
      [writeKey, 'WRITE', 'writer'],
      [ADMIN_KEY, 'ADMIN', expect.any(String)],
    ] as const) {
      const res = await t.gql(VIEWER, {}, { apiKey })
      expect(res.errors).toBeUndefined()
      expect(res.data).toEqual({ viewer: { authRequired: true, scope, keyName } })
    }
    const anonymous = await t.gql(VIEWER)
    expect(anonymous.status).toBe(401)
    expect(codeOf(anonymous)).toBe('UNAUTHENTICATED')
  })

  it('keeps /healthz open', async () => {
    const res = await fetch(t.lab.url.replace('/graphql', '/healthz'))
    expect(res.status).toBe(200)
  })

  it('closes a WebSocket without a key or with a wrong key with 4401', async () => {
    for (const apiKey of [undefined, 'lab_wrong-key-000000000000000000000000000']) {
      const sub = observe(t.ws(apiKey === undefined ? {} : { apiKey }), `{ datasets { totalCount } }`)
      await sub.done
      expect(closeCode(sub.outcome.error)).toBe(4401)
      expect(sub.outcome.events).toEqual([])
    }
  })

  it('lets READ query and subscribe, but not mutate (FORBIDDEN, nothing written)', async () => {
    const query = await t.gql<{ datasets: { totalCount: number } }>(
      `{ datasets { totalCount } }`,
      {},
      {
        apiKey: readKey,
      },
    )
    expect(query.status).toBe(200)
    expect(query.data!.datasets.totalCount).toBe(1)

    const before = { datasets: await countRows('Dataset'), runs: await countRows('Run') }
    const mutate = await t.gql(CREATE_DATASET, datasetInput('by-reader'), { apiKey: readKey })
    expect(codeOf(mutate)).toBe('FORBIDDEN')
    expect(mutate.errors![0]!.message).toMatch(/READ key cannot run a mutation: it needs WRITE/)
    expect(mutate.data ?? null).toBeNull()
    const start = await t.gql(START_RUN, { input: { datasetId, experiment: 'reader' } }, { apiKey: readKey })
    expect(codeOf(start)).toBe('FORBIDDEN')
    expect({ datasets: await countRows('Dataset'), runs: await countRows('Run') }).toEqual(before)

    // Over WebSocket: the subscription works; a mutation (on another connection: it closes that one) is refused.
    const client = t.ws({ apiKey: readKey })
    const sub = observe(
      client,
      `subscription($e: String!) { experimentEvents(experiment: $e) { __typename ... on RunCreated { run { id } } } }`,
      { e: 'watched' },
    )
    const refused = observe(t.ws({ apiKey: readKey }), CREATE_DATASET, datasetInput('by-reader-ws'))
    await refused.done
    const refusedResult = refused.outcome.events[0] as { errors?: { extensions?: { code?: string } }[] }
    expect(refusedResult.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    expect(await countRows('Dataset')).toBe(before.datasets)

    // Subscriptions are set up before a run appears: wait until the server listens, then create one.
    let runId = ''
    await waitFor(
      async () => {
        if (!runId) {
          const started = await t.gql<{ startRun: { id: string } }>(
            START_RUN,
            { input: { datasetId, experiment: 'watched' } },
            { apiKey: writeKey },
          )
          expect(started.errors).toBeUndefined()
          runId = started.data!.startRun.id
        }
        return sub.outcome.events.length > 0
      },
      { what: 'a RunCreated event for the READ subscriber', timeoutMs: 10_000 },
    )
    expect(sub.outcome.error).toBeUndefined()
    expect(sub.outcome.events[0]).toEqual({
      data: { experimentEvents: { __typename: 'RunCreated', run: { id: runId } } },
    })
    sub.unsubscribe()
    await db.query(`UPDATE "Run" SET status = 'CANCELLED' WHERE id = $1`, [runId])
  })

  it('gives the reason with 4401; answers a FORBIDDEN operation, then closes its connection with 4403', async () => {
    const reasons: [string | undefined, RegExp][] = [
      [undefined, /^an API key is required: send "Authorization: Bearer <key>"$/],
      ['lab_wrong-key-000000000000000000000000000', /^unknown or revoked API key$/],
    ]
    for (const [apiKey, reason] of reasons) {
      const sub = observe(t.ws(apiKey === undefined ? {} : { apiKey }), `{ datasets { totalCount } }`)
      await sub.done
      const closed = sub.outcome.error as { code?: number; reason?: string }
      expect([closed.code, closed.reason]).toEqual([4401, expect.stringMatching(reason)])
    }

    const closes: { code?: number; reason?: string }[] = []
    const client = t.ws({
      apiKey: readKey,
      onClosed: (event) => closes.push(event as { code?: number; reason?: string }),
    })
    // A live table held open on the same connection: it ends with the connection.
    const table = observe(client, `subscription { experimentEvents(experiment: "reader-ws") { __typename } }`)
    const datasetsBefore = await countRows('Dataset')
    const refused = observe(client, CREATE_DATASET, datasetInput('by-reader-ws-2'))
    await refused.done
    expect(refused.outcome.events).toEqual([
      {
        errors: [
          expect.objectContaining({
            message: expect.stringMatching(/READ key cannot run a mutation: it needs WRITE/),
            extensions: expect.objectContaining({ code: 'FORBIDDEN', requiredScope: 'WRITE' }),
          }),
        ],
      },
    ])
    await waitFor(async () => closes.length > 0, { what: 'the 4403 close', timeoutMs: 10_000 })
    expect(closes[0]).toEqual(
      expect.objectContaining({
        code: 4403,
        reason: expect.stringMatching(/READ key cannot run a mutation/),
      }),
    )
    await table.done
    expect(table.outcome.error).toEqual(expect.objectContaining({ code: 4403 }))
    expect(await countRows('Dataset')).toBe(datasetsBefore)

    // A new connection with the same key subscribes as before.
    const again = observe(t.ws({ apiKey: readKey }), `{ datasets { totalCount } }`)
    await again.done
    expect(again.outcome.error).toBeUndefined()
    expect(again.outcome.events).toEqual([{ data: { datasets: { totalCount: datasetsBefore } } }])
  })

  it('lets WRITE start runs (recording the key) but not manage keys', async () => {
    const started = await t.gql<{ startRun: { id: string; status: string } }>(
      START_RUN,
      { input: { datasetId, experiment: 'writer' } },
      { apiKey: writeKey },
    )
    expect(started.errors).toBeUndefined()
    expect(started.data!.startRun.status).toBe('QUEUED')
    const row = await db.query(`SELECT "apiKeyId" FROM "Run" WHERE id = $1`, [started.data!.startRun.id])
    expect(row.rows[0].apiKeyId).toBe(writeKeyId)
    await db.query(`UPDATE "Run" SET status = 'CANCELLED' WHERE id = $1`, [started.data!.startRun.id])

    const keysBefore = await countRows('ApiKey')
    const create = await t.gql(
      CREATE_KEY,
      { input: { name: 'sneaky', scope: 'ADMIN' } },
      { apiKey: writeKey },
    )
    expect(codeOf(create)).toBe('FORBIDDEN')
    expect(create.errors![0]!.message).toMatch(/WRITE key cannot manage API keys: it needs ADMIN/)
    expect(await countRows('ApiKey')).toBe(keysBefore)
    // An operation that also needs ADMIN is refused whole: its WRITE part does not run either.
    const datasetsBefore = await countRows('Dataset')
    const mixed = await t.gql(
      `mutation($input: CreateDatasetInput!) {
        createDataset(input: $input) { id }
        ... on Mutation { createApiKey(input: { name: "sneaky", scope: ADMIN }) { key } }
      }`,
      datasetInput('mixed'),
      { apiKey: writeKey },
    )
    expect(codeOf(mixed)).toBe('FORBIDDEN')
    expect(mixed.status).toBe(403)
    expect(mixed.data ?? null).toBeNull()
    expect(await countRows('Dataset')).toBe(datasetsBefore)
    expect(await countRows('ApiKey')).toBe(keysBefore)
    const viaFragment = await t.gql(
      `query { ...Keys } fragment Keys on Query { apiKeys { id } }`,
      {},
      {
        apiKey: writeKey,
      },
    )
    expect(codeOf(viaFragment)).toBe('FORBIDDEN')
    expect(viaFragment.data ?? null).toBeNull()
    const list = await t.gql(`{ apiKeys { id } }`, {}, { apiKey: writeKey })
    expect(codeOf(list)).toBe('FORBIDDEN')
    const revoke = await t.gql(
      `mutation($id: ID!) { revokeApiKey(id: $id) }`,
      { id: writeKeyId },
      {
        apiKey: writeKey,
      },
    )
    expect(codeOf(revoke)).toBe('FORBIDDEN')
    const stored = await db.query(`SELECT "revokedAt" FROM "ApiKey" WHERE id = $1`, [writeKeyId])
    expect(stored.rows[0].revokedAt).toBeNull()
  })

  it('lets ADMIN create, list and revoke keys; a revoked key is UNAUTHENTICATED at once', async () => {
    const created = await createKey('temporary', 'READ')
    expect(created).toMatchObject({ name: 'temporary', scope: 'READ' })
    expect(created.key).toMatch(/^lab_[A-Za-z0-9_-]{43}$/)
    expect((await t.gql(`{ datasets { totalCount } }`, {}, { apiKey: created.key })).status).toBe(200)

    const revoked = await t.gql<{ revokeApiKey: boolean }>(
      `mutation($id: ID!) { revokeApiKey(id: $id) }`,
      { id: created.id },
      { apiKey: ADMIN_KEY },
    )
    expect(revoked.data).toEqual({ revokeApiKey: true })
    const again = await t.gql<{ revokeApiKey: boolean }>(
      `mutation($id: ID!) { revokeApiKey(id: $id) }`,
      { id: created.id },
      { apiKey: ADMIN_KEY },
    )
    expect(again.data).toEqual({ revokeApiKey: false })
    const unknown = await t.gql(
      `mutation($id: ID!) { revokeApiKey(id: $id) }`,
      { id: '00000000-0000-4000-8000-000000000000' },
      { apiKey: ADMIN_KEY },
    )
    expect(codeOf(unknown)).toBe('NOT_FOUND')

    const http = await t.gql(`{ datasets { totalCount } }`, {}, { apiKey: created.key })
    expect(http.status).toBe(401)
    expect(codeOf(http)).toBe('UNAUTHENTICATED')
    const fresh = observe(t.ws({ apiKey: created.key }), `{ datasets { totalCount } }`)
    await fresh.done
    expect(closeCode(fresh.outcome.error)).toBe(4401)
    const list = await t.gql<{
      apiKeys: {
        id: string
        name: string
        scope: string
        prefix: string
        revokedAt: string | null
        lastUsedAt: string | null
      }[]
    }>(`{ apiKeys { id name scope prefix createdAt lastUsedAt revokedAt } }`, {}, { apiKey: ADMIN_KEY })
    expect(list.errors).toBeUndefined()
    const byName = new Map(list.data!.apiKeys.map((k) => [k.name, k]))
    expect(byName.get('LAB_ADMIN_KEY')).toMatchObject({ scope: 'ADMIN', prefix: ADMIN_KEY.slice(0, 8) })
    expect(byName.get('LAB_ADMIN_KEY')!.lastUsedAt).not.toBeNull()
    expect(byName.get('temporary')).toMatchObject({ id: created.id, prefix: created.key.slice(0, 8) })
    expect(byName.get('temporary')!.revokedAt).not.toBeNull()
    expect(byName.get('writer')!.revokedAt).toBeNull()
    // The secret is in no answer after the first, and not in the table in plain text.
    const everything = JSON.stringify(list)
    for (const secret of [created.key, readKey, writeKey, ADMIN_KEY]) expect(everything).not.toContain(secret)
    const introspection = await t.gql<{ __type: { fields: { name: string }[] } }>(
      `{ __type(name: "ApiKey") { fields { name } } }`,
      {},
      { apiKey: ADMIN_KEY },
    )
    expect(introspection.data!.__type.fields.map((f) => f.name).sort()).toEqual(
      ['createdAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'scope'].sort(),
    )
    const rows = await db.query(`SELECT row_to_json(k)::text AS json, hash FROM "ApiKey" k`)
    expect(rows.rows).toHaveLength(list.data!.apiKeys.length)
    for (const secret of [created.key, readKey, writeKey, ADMIN_KEY]) {
      for (const row of rows.rows) expect(row.json).not.toContain(secret)
    }
    for (const row of rows.rows) expect(row.hash).toMatch(/^[0-9a-f]{64}$/)
  })

  it('closes a WebSocket whose key was revoked with 4401 on its next operation', async () => {
    const doomed = await createKey('doomed', 'READ')
    const closes: number[] = []
    const client = t.ws({ apiKey: doomed.key, onClosed: (e) => closes.push(closeCode(e) ?? -1) })
    // A subscription keeps the (lazy) connection open across the revocation.
    const held = observe(client, `subscription { experimentEvents(experiment: "nothing") { __typename } }`)
    const ok = observe(client, `{ datasets { totalCount } }`)
    await ok.done
    expect(ok.outcome.error).toBeUndefined()
    expect(ok.outcome.events).toEqual([{ data: { datasets: { totalCount: 1 } } }])
    await t.gql(`mutation($id: ID!) { revokeApiKey(id: $id) }`, { id: doomed.id }, { apiKey: ADMIN_KEY })
    const refused = observe(client, `{ datasets { totalCount } }`)
    await refused.done
    await held.done
    await waitFor(() => closes.length > 0, { what: 'the socket to close', timeoutMs: 5000 })
    expect(closes).toEqual([4401])
    expect(refused.outcome.events).toEqual([])
    expect(JSON.stringify(refused.outcome.error)).toMatch(/UNAUTHENTICATED.*revoked|revoked.*UNAUTHENTICATED/)
  })

  it('refuses runs beyond LAB_MAX_QUEUED_RUNS_PER_KEY with TOO_MANY_QUEUED_RUNS', async () => {
    const owner = await createKey('queue-filler', 'WRITE')
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const res = await t.gql<{ startRun: { id: string } }>(
        START_RUN,
        { input: { datasetId, experiment: 'queue' } },
        { apiKey: owner.key },
      )
      expect(res.errors).toBeUndefined()
      ids.push(res.data!.startRun.id)
    }
    const before = await countRows('Run')
    const over = await t.gql(START_RUN, { input: { datasetId, experiment: 'queue' } }, { apiKey: owner.key })
    expect(codeOf(over)).toBe('TOO_MANY_QUEUED_RUNS')
    expect(over.errors![0]!.extensions).toMatchObject({ limit: 3 })
    expect(await countRows('Run')).toBe(before)
    // Another key has its own allowance; and cancelling frees a place.
    const other = await t.gql(START_RUN, { input: { datasetId, experiment: 'queue' } }, { apiKey: writeKey })
    expect(other.errors).toBeUndefined()
    const cancel = await t.gql(
      `mutation($id: ID!) { cancelRun(id: $id) { status } }`,
      { id: ids[0] },
      {
        apiKey: owner.key,
      },
    )
    expect(cancel.data).toEqual({ cancelRun: { status: 'CANCELLED' } })
    const after = await t.gql(START_RUN, { input: { datasetId, experiment: 'queue' } }, { apiKey: owner.key })
    expect(after.errors).toBeUndefined()
  })

  it('refuses mutations beyond the per-key rate limit with RATE_LIMITED', async () => {
    // A second API process on the same database with a small allowance: 3 per minute refills one token
    // every 20 s, far longer than the few requests below take even on a busy machine.
    const limited = await startTestLab(
      { LAB_AUTH: 'required', LAB_RATE_LIMIT_MUTATIONS_PER_MINUTE: '3' },
      { databaseUrl: t.lab.databaseUrl },
    )
    try {
      const busy = await createKey('busy', 'WRITE')
      const cancel = `mutation { cancelRun(id: "00000000-0000-4000-8000-000000000000") { id } }`
      const codes: (string | undefined)[] = []
      for (let i = 0; i < 3; i++) codes.push(codeOf(await limited.gql(cancel, {}, { apiKey: busy.key })))
      expect(codes).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND'])
      const refused = await limited.gql(cancel, {}, { apiKey: busy.key })
      expect(refused.status).toBe(429)
      expect(codeOf(refused)).toBe('RATE_LIMITED')
      expect(refused.errors![0]!.extensions!['retryAfterMs']).toEqual(expect.any(Number))
      expect(refused.errors![0]!.extensions!['retryAfterMs']).toBeGreaterThan(0)
      expect(refused.errors![0]!.extensions!['retryAfterMs']).toBeLessThanOrEqual(20_000)
      // Also over WebSocket, where a mutation takes from the same bucket.
      const ws = observe(limited.ws({ apiKey: busy.key }), cancel)
      await ws.done
      const wsResult = ws.outcome.events[0] as { errors?: { extensions?: { code?: string } }[] }
      expect(wsResult.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED')
      // Queries are not limited, and another key has its own bucket.
      expect((await limited.gql(`{ datasets { totalCount } }`, {}, { apiKey: busy.key })).status).toBe(200)
      expect(codeOf(await limited.gql(cancel, {}, { apiKey: writeKey }))).toBe('NOT_FOUND')
    } finally {
      await limited.stop()
    }
  })

  it('lab CLI: --api-key and LAB_API_KEY on HTTP and WebSocket; lab keys create, list, revoke', async () => {
    const env = { LAB_URL: t.lab.url }
    const denied = await runCli(['datasets'], { env })
    expect(denied.code).toBe(ExitCode.SERVER)
    expect(denied.stderr).toMatch(/\[UNAUTHENTICATED\] \(pass --api-key or set LAB_API_KEY\)/)

    const created = await runCli(
      ['--api-key', ADMIN_KEY, 'keys', 'create', '--name', 'cli', '--scope', 'write'],
      {
        env,
      },
    )
    expect(created.code).toBe(ExitCode.OK)
    const cliKey = created.stdout.trim()
    expect(cliKey).toMatch(/^lab_[A-Za-z0-9_-]{43}$/)
    expect(created.stderr).toMatch(/created WRITE key [0-9a-f-]{36} \(cli\); the key is shown only this once/)

    const listed = await runCli(['keys', 'list', '--json'], { env: { ...env, LAB_API_KEY: ADMIN_KEY } })
    expect(listed.code).toBe(ExitCode.OK)
    const keys = JSON.parse(listed.stdout) as { id: string; name: string; scope: string }[]
    const cli = keys.find((k) => k.name === 'cli')!
    expect(cli.scope).toBe('WRITE')
    expect(listed.stdout).not.toContain(cliKey)
    const table = await runCli(['keys', 'list'], { env: { ...env, LAB_API_KEY: ADMIN_KEY } })
    expect(table.stdout.split('\n')[0]).toMatch(
      /^ID\s+NAME\s+SCOPE\s+PREFIX\s+CREATED\s+LAST USED\s+REVOKED$/,
    )

    // The new WRITE key over both transports: a cancelled run, watched over graphql-ws, exits 3.
    const runId = (
      await t.gql<{ startRun: { id: string } }>(
        START_RUN,
        { input: { datasetId, experiment: 'cli' } },
        {
          apiKey: cliKey,
        },
      )
    ).data!.startRun.id
    await t.gql(`mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: runId }, { apiKey: cliKey })
    const watched = await runCli(['--api-key', cliKey, 'watch', runId], { env })
    expect(watched.code).toBe(ExitCode.CANCELLED)
    const forbidden = await runCli(['--api-key', cliKey, 'keys', 'list'], { env })
    expect(forbidden.code).toBe(ExitCode.SERVER)
    expect(forbidden.stderr).toMatch(/\[FORBIDDEN\]/)

    const revoked = await runCli(['--api-key', ADMIN_KEY, 'keys', 'revoke', cli.id], { env })
    expect(revoked.code).toBe(ExitCode.OK)
    expect(revoked.stderr).toContain(`revoked key ${cli.id}`)
    const after = await runCli(['--api-key', cliKey, 'datasets'], { env })
    expect(after.code).toBe(ExitCode.SERVER)
    expect(after.stderr).toMatch(/UNAUTHENTICATED/)
    const badScope = await runCli(
      ['--api-key', ADMIN_KEY, 'keys', 'create', '--name', 'x', '--scope', 'root'],
      {
        env,
      },
    )
    expect(badScope.code).toBe(ExitCode.USAGE)
  })

  it('seeds LAB_ADMIN_KEY once: a restart with the same key adds no row', async () => {
    const before = await db.query(`SELECT id FROM "ApiKey" WHERE name = 'LAB_ADMIN_KEY'`)
    expect(before.rows).toHaveLength(1)
    const second = await startTestLab(
      { LAB_AUTH: 'required', LAB_ADMIN_KEY: ADMIN_KEY },
      { databaseUrl: t.lab.databaseUrl },
    )
    try {
      const after = await db.query(`SELECT id FROM "ApiKey" WHERE name = 'LAB_ADMIN_KEY'`)
      expect(after.rows).toEqual(before.rows)
      const res = await second.gql(`{ apiKeys { id } }`, {}, { apiKey: ADMIN_KEY })
      expect(res.errors).toBeUndefined()
    } finally {
      await second.stop()
    }
  })
})

describe('auth off on loopback (the default for HOST=127.0.0.1)', () => {
  let t: TestLab
  beforeAll(async () => {
    t = await startTestLab({})
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('serves queries, mutations and subscriptions without a key, and ignores one that is sent', async () => {
    const created = await t.gql<{ createDataset: { id: string } }>(CREATE_DATASET, datasetInput('open'))
    expect(created.status).toBe(200)
    expect(created.errors).toBeUndefined()
    const withJunk = await t.gql(`{ datasets { totalCount } }`, {}, { apiKey: 'not-a-key' })
    expect(withJunk.data).toEqual({ datasets: { totalCount: 1 } })
    const sub = observe(t.ws(), `{ datasets { totalCount } }`)
    await sub.done
    expect(sub.outcome.events).toEqual([{ data: { datasets: { totalCount: 1 } } }])
    const keys = await t.gql<{ apiKeys: unknown[] }>(`{ apiKeys { id } }`)
    expect(keys.data).toEqual({ apiKeys: [] })
    const viewer = await t.gql(`{ viewer { authRequired scope keyName } }`)
    expect(viewer.data).toEqual({ viewer: { authRequired: false, scope: 'ADMIN', keyName: null } })
  })
})

describe('start-up refuses LAB_AUTH=off off loopback', () => {
  it('exits 2 with a configuration error naming LAB_AUTH', () => {
    const main = path.resolve(__dirname, '..', '..', 'dist', 'src', 'main.js')
    const result = spawnSync(process.execPath, [main], {
      env: {
        ...process.env,
        HOST: '0.0.0.0',
        LAB_AUTH: 'off',
        PORT: '0',
        DATABASE_URL: 'postgresql://x@127.0.0.1:1/x',
      },
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/configuration error: LAB_AUTH=off is only allowed when HOST is a loopback/)
  })
})
