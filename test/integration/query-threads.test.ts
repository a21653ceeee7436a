import fs from 'node:fs'
import { DatasetRepository } from '../../src/modules/dataset/dataset.repository'
import { DatasetService } from '../../src/modules/dataset/dataset.service'
import { ExplanationRepository } from '../../src/modules/explanation/explanation.repository'
import { ExplanationService } from '../../src/modules/explanation/explanation.service'
import { familyOf } from '../../src/models/registry'
import { PredictionService } from '../../src/modules/run/prediction.service'
import { RunRepository } from '../../src/modules/run/run.repository'
import { QueryPool, runStreamed } from '../../src/query/query-pool'
import { selectBackend } from '../../src/training/backend'
import { createLogger } from '../../src/logger'
import { collect, GqlResponse, startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'
import * as path from 'node:path'
import { gzipSync } from 'node:zlib'
import { OFF_LOOP_BODY_BYTES } from '../../src/server/off-loop-body'
import { SPLICE_MIN_ITEMS } from '../../src/modules/common/spliced-lists'

// predict, explainInstance and the generative queries on worker threads (src/query/): answers equal to the
// in-process ones, the event loop free while they compute, and the pool's bounds and failures.

let t: TestLab
let runId: string
const code = (res: GqlResponse) => res.errors?.[0]?.extensions?.code

const INSTANCE = `prediction baselinePrediction attributions { method feature value } checks { method maxGap meanGap }`
const EXPLAIN = `query($id: ID!, $row: [Float!]!, $methods: [ExplanationMethod!], $baseline: [Float!]) {
  explainInstance(runId: $id, row: $row, methods: $methods, baseline: $baseline) { ${INSTANCE} } }`
const ROW = [0.9, 0.8, 0.1, 0.9, 0.7, 0.5, 0.5, 0.5, 0.5, 0.5]

beforeAll(async () => {
  // Tokens enough for a long list of rows inline in the query (the splicing tests).
  t = await startTestLab({ LAB_WORKERS: '1', LAB_QUERY_THREADS: '2', LAB_MAX_QUERY_TOKENS: '100000' })
  const ds = await t.gql<{ generateDataset: { id: string } }>(
    `mutation { generateDataset(input: { name: "friedman-threads", generator: FRIEDMAN1, rows: 600, seed: 5 }) { id } }`,
  )
  const run = await t.gql<{ startRun: { id: string } }>(
    `mutation($d: ID!) { startRun(input: { datasetId: $d, hiddenLayers: [32, 16], epochs: 3 }) { id } }`,
    { d: ds.data!.generateDataset.id },
  )
  if (run.errors) throw new Error(JSON.stringify(run.errors))
  runId = run.data!.startRun.id
  await waitFor(
    async () => {
      const res = await t.gql<{ run: { status: string } }>(`query($id: ID!) { run(id: $id) { status } }`, {
        id: runId,
      })
      const status = res.data!.run.status
      if (status === 'FAILED' || status === 'CANCELLED') throw new Error(`run ended ${status}`)
      return status === 'SUCCEEDED'
    },
    { timeoutMs: 180_000, what: 'the run to succeed' },
  )
}, 240_000)
afterAll(async () => {
  await t?.stop()
})

describe('answers computed on a query thread', () => {
  it('equal the ones computed in the API process for the same model and input', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => ROW.map((v, j) => (v + 0.037 * i * (j + 1)) % 1))
    const threaded = await t.gql<{ predict: number[] }>(
      `query($id: ID!, $rows: [[Float!]!]!) { predict(runId: $id, rows: $rows) }`,
      { id: runId, rows },
    )
    const explained = await t.gql<{ explainInstance: unknown }>(EXPLAIN, { id: runId, row: ROW })
    expect(threaded.errors).toBeUndefined()
    expect(explained.errors).toBeUndefined()

    // The same services, answering in this process: the path LAB_QUERY_THREADS=0 takes.
    const runs = new RunRepository(t.lab.db)
    const inProcess = new PredictionService(runs, async (run, stored) => {
      await selectBackend()
      return familyOf(run.family).load(stored)
    })
    try {
      const datasets = new DatasetService(new DatasetRepository(t.lab.db), {
        maxRows: 1e6,
        maxCells: 1e9,
        maxFeatures: 1e4,
      })
      const explanations = new ExplanationService(
        new ExplanationRepository(t.lab.db),
        runs,
        datasets,
        inProcess,
        { maxEvaluations: 1e9 },
      )
      expect(threaded.data!.predict).toEqual(
        Array.from(await inProcess.answer(runId, { kind: 'predict', rows })),
      )
      expect(explained.data!.explainInstance).toEqual(
        JSON.parse(JSON.stringify(await explanations.explainInstance(runId, ROW, null, null))),
      )
    } finally {
      inProcess.dispose()
    }
  })

  it('leave the event loop free: a query sent after an explanation started answers before it', async () => {
    const order: string[] = []
    const started = new Promise<void>((resolve) => {
      const off = t.lab.app.queries.onStart((id, kind) => {
        if (id === runId && kind === 'explainInstance') {
          off()
          resolve()
        }
      })
    })
    // Exact Shapley over the 10 features: 1,022 coalitions times the background, plus IG's path.
    const explanation = t.gql(EXPLAIN, { id: runId, row: ROW }).then((res) => {
      order.push('explainInstance')
      return res
    })
    await started
    const typename = await t.gql<{ __typename: string }>(`{ __typename }`)
    order.push('__typename')
    expect(typename.data!.__typename).toBe('Query')
    expect((await explanation).errors).toBeUndefined()
    expect(order).toEqual(['__typename', 'explainInstance'])
  })

  it('run at LAB_QUERY_THREAD_NICE (default 10), below the event loop, which keeps its own priority', async () => {
    // By now both threads have answered (the tests above ran two explanations at once).
    await Promise.all([t.gql(EXPLAIN, { id: runId, row: ROW }), t.gql(EXPLAIN, { id: runId, row: ROW })])
    // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's niceness (after the parenthesised name).
    const niceOf = (tid: string) => {
      const stat = fs.readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8')
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
    }
    const tids = fs.readdirSync(`/proc/${process.pid}/task`)
    expect(niceOf(String(process.pid))).toBe(0)
    expect(tids.filter((tid) => niceOf(tid) === 10)).toHaveLength(2)
  })

  it('keep the validation codes and messages of the client errors', async () => {
    const short = await t.gql(EXPLAIN, { id: runId, row: [1, 2] })
    expect(code(short)).toBe('BAD_USER_INPUT')
    expect(short.errors![0]!.message).toBe('row 0 has 2 values; the model takes 10')
    expect(short.errors![0]!.extensions).toMatchObject({ field: 'row', row: 0 })
    const huge = await t.gql(`query($id: ID!, $rows: [[Float!]!]!) { predict(runId: $id, rows: $rows) }`, {
      id: runId,
      rows: [ROW, ROW.map(() => 1e39)],
    })
    expect(code(huge)).toBe('BAD_USER_INPUT')
    expect(huge.errors![0]!.message).toBe('row 1 has a value that is not a finite float32 number')
    const generative = await t.gql(`query($id: ID!) { decode(runId: $id, latents: [[0]]) }`, { id: runId })
    expect(code(generative)).toBe('BAD_USER_INPUT')
    expect(generative.errors![0]!.message).toMatch(/is not a generative model/)
  })
})

describe('a large predict body, parsed on a query thread with its rows packed', () => {
  const PREDICT = `query($id: ID!, $rows: [[Float!]!]!) { predict(runId: $id, rows: $rows) }`
  const manyRows = (n: number) =>
    Array.from({ length: n }, (_, i) => ROW.map((v, j) => (v + 0.0007 * i * (j + 1)) % 1))
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(t.lab.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    }).then(async (res) => ({ status: res.status, ...((await res.json()) as Omit<GqlResponse, 'status'>) }))
  const large = (rows: unknown) => {
    const body = JSON.stringify({ query: PREDICT, variables: { id: runId, rows } })
    expect(body.length).toBeGreaterThan(OFF_LOOP_BODY_BYTES)
    return body
  }

  it('answers as the same rows sent in small bodies, for every field that reads the variable', async () => {
    const rows = manyRows(2_000)
    const small: number[] = []
    for (let i = 0; i < rows.length; i += 250) {
      const part = await t.gql<{ predict: number[] }>(PREDICT, { id: runId, rows: rows.slice(i, i + 250) })
      expect(part.errors).toBeUndefined()
      small.push(...part.data!.predict)
    }
    const whole = await post(large(rows))
    expect(whole.errors).toBeUndefined()
    expect((whole.data as { predict: number[] }).predict).toEqual(small)
    const twice = await post(
      JSON.stringify({
        query: `query($id: ID!, $rows: [[Float!]!]!) { a: predict(runId: $id, rows: $rows) b: predict(runId: $id, rows: $rows) }`,
        variables: { id: runId, rows },
      }),
    )
    expect(twice.data).toEqual({ a: small, b: small })
    const gzipped = await post(gzipSync(large(rows)), { 'content-encoding': 'gzip' })
    expect((gzipped.data as { predict: number[] }).predict).toEqual(small)
  })

  it('refuses bad rows in a large body with BAD_USER_INPUT and the same messages as in a small one', async () => {
    const rows = manyRows(2_000)
    const refusal = async (bad: unknown) => {
      const res = await post(large(bad))
      expect(res.errors).toHaveLength(1)
      expect(code(res)).toBe('BAD_USER_INPUT')
      return res.errors![0]!
    }
    const beyond = await refusal([...rows.slice(0, -1), ROW.map(() => -1e39)])
    expect(beyond).toMatchObject({
      message: 'row 1999 has a value that is not a finite float32 number',
      extensions: { field: 'rows', row: 1999 },
    })
    expect((await refusal(rows.map((r) => [...r, 0.5]))).message).toBe(
      'row 0 has 11 values; the model takes 10',
    )
    const ragged = rows.map((r, i) => (i === 7 ? r.slice(1) : r))
    expect((await refusal(ragged)).message).toBe('row 7 has 9 values; the model takes 10')
    expect((await refusal(manyRows(10_001))).message).toBe('at most 10000 rows per call')
    const nul = await refusal(rows.map((r, i) => (i === 3 ? [...r.slice(1), 'x\u0000'] : r)))
    expect(nul.message).toMatch(/\$rows.*Float cannot represent/)
    const text = large(rows).replace(/\]\]/, ',1e999]]')
    expect(code(await post(text))).toBe('BAD_USER_INPUT')
  })

  it('answers a large body that is not JSON 400 BAD_REQUEST, as a small one', async () => {
    const res = await post(large(manyRows(2_000)).slice(0, -1))
    expect(res.status).toBe(400)
    expect(res.errors![0]).toEqual({
      message: 'request body is not valid JSON',
      extensions: { code: 'BAD_REQUEST' },
    })
  })
})

describe('long predict answers, serialised on the thread and spliced into the HTTP response', () => {
  // From SPLICE_MIN_ITEMS rows on, the answer's JSON is built where it is computed: the response text must be
  // the one Apollo writes for the same numbers, whatever surrounds the field.
  const rowsFrom = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => ROW.map((v, j) => (v + 0.00037 * (i + seed) * (j + 1)) % 1))
  const raw = async (body: unknown) => {
    const res = await fetch(t.lab.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
  }
  let inProcess: PredictionService
  /** The in-process answer (the LAB_QUERY_THREADS=0 path), as GraphQL lists it. */
  const expected = async (rows: number[][]) =>
    Array.from(await inProcess.answer(runId, { kind: 'predict', rows }))
  beforeAll(() => {
    inProcess = new PredictionService(new RunRepository(t.lab.db), async (run, stored) => {
      await selectBackend()
      return familyOf(run.family).load(stored)
    })
  })
  afterAll(() => inProcess?.dispose())

  it('answers the exact JSON text of the in-process answer: variables, aliases, two fields, fields beside', async () => {
    expect(SPLICE_MIN_ITEMS).toBeLessThanOrEqual(1_500)
    const one = rowsFrom(1_500, 0)
    const two = rowsFrom(2_000, 7)
    const [a, b] = [await expected(one), await expected(two)]
    // Packed (a large body) and not packed (the same rows inline beside a small body's variables are tested below).
    const plain = await raw({
      query: `query($id: ID!, $rows: [[Float!]!]!) { predict(runId: $id, rows: $rows) }`,
      variables: { id: runId, rows: one },
    })
    expect(plain.status).toBe(200)
    expect(plain.type).toBe('application/json; charset=utf-8')
    expect(plain.text).toBe(`${JSON.stringify({ data: { predict: a } })}\n`)

    const both = await raw({
      query: `query($id: ID!, $one: [[Float!]!]!, $two: [[Float!]!]!) {
        __typename first: predict(runId: $id, rows: $one) run(id: $id) { status }
        second: predict(runId: $id, rows: $two) again: predict(runId: $id, rows: $one) }`,
      variables: { id: runId, one, two },
    })
    expect(both.text).toBe(
      `${JSON.stringify({
        data: { __typename: 'Query', first: a, run: { status: 'SUCCEEDED' }, second: b, again: a },
      })}\n`,
    )
  })

  it('skips what @include and @skip leave out, and splices rows given inline in the query', async () => {
    const one = rowsFrom(1_200, 3)
    const a = await expected(one)
    const directives = await raw({
      query: `query($id: ID!, $rows: [[Float!]!]!, $yes: Boolean!, $no: Boolean!) {
        kept: predict(runId: $id, rows: $rows) @include(if: $yes)
        dropped: predict(runId: $id, rows: $rows) @include(if: $no)
        skipped: predict(runId: $id, rows: $rows) @skip(if: $yes) __typename }`,
      variables: { id: runId, rows: one, yes: true, no: false },
    })
    expect(directives.text).toBe(`${JSON.stringify({ data: { kept: a, __typename: 'Query' } })}\n`)

    // Inline rows are coerced by GraphQL (no packing), the answer still spliced; the test lab allows the tokens.
    const inline = await raw({
      query: `query($id: ID!) { p: predict(runId: $id, rows: ${JSON.stringify(one)}) }`,
      variables: { id: runId },
    })
    expect(inline.text).toBe(`${JSON.stringify({ data: { p: a } })}\n`)
  })

  it('keeps the error codes: an error beside a spliced field nulls the data as before, nothing spliced', async () => {
    const one = rowsFrom(1_500, 1)
    const query = `query($id: ID!, $good: [[Float!]!]!, $bad: [[Float!]!]!) {
      good: predict(runId: $id, rows: $good) bad: predict(runId: $id, rows: $bad) }`
    const refused = async (bad: unknown) => {
      const res = await raw({ query, variables: { id: runId, good: one, bad } })
      const body = JSON.parse(res.text) as Omit<GqlResponse, 'status'>
      expect(body.data).toBeNull()
      expect(body.errors).toHaveLength(1)
      return body.errors![0]!
    }
    expect(await refused(one.map((r, i) => (i === 1_400 ? r.map(() => 1e39) : r)))).toMatchObject({
      message: 'row 1400 has a value that is not a finite float32 number',
      extensions: { code: 'BAD_USER_INPUT', field: 'rows', row: 1400 },
      path: ['bad'],
    })
    expect(await refused(one.map((r) => [...r, 0.5]))).toMatchObject({
      message: 'row 0 has 11 values; the model takes 10',
      extensions: { code: 'BAD_USER_INPUT' },
    })
    // Refused by GraphQL's coercion of the variables before any resolver runs: nothing was computed.
    const nul = await raw({
      query,
      variables: { id: runId, good: one, bad: one.map((r, i) => (i === 3 ? [...r.slice(1), 'x\u0000'] : r)) },
    })
    const nulBody = JSON.parse(nul.text) as Omit<GqlResponse, 'status'>
    expect(nulBody.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT')
    expect(nulBody.errors![0]!.message).toMatch(/\$bad.*Float cannot represent/)
    const infinite = JSON.stringify({ query, variables: { id: runId, good: one, bad: one } }).replace(
      /\]\]\}\}$/,
      ',1e999]]}}',
    )
    const res = await fetch(t.lab.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: infinite,
    })
    const infiniteBody = (await res.json()) as Omit<GqlResponse, 'status'>
    expect(infiniteBody.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT')
  })

  it('answers a long predict over WebSocket with the numbers themselves (no splicing there)', async () => {
    const one = rowsFrom(1_100, 5)
    const client = t.ws()
    const [answer] = await collect<{ predict: number[] }>(
      client,
      `query($id: ID!, $rows: [[Float!]!]!) { predict(runId: $id, rows: $rows) }`,
      { id: runId, rows: one },
    ).done
    expect(JSON.stringify(answer)).toBe(JSON.stringify({ predict: await expected(one) }))
  })
})

describe('limits', () => {
  let other: TestLab
  afterEach(async () => {
    await other?.stop()
  })

  it('refuses an explanation above LAB_MAX_EXPLAIN_EVALUATIONS before computing, naming budget and figure', async () => {
    other = await startTestLab(
      { LAB_QUERY_THREADS: '1', LAB_MAX_EXPLAIN_EVALUATIONS: '1000' },
      { databaseUrl: t.lab.databaseUrl },
    )
    let computations = 0
    other.lab.app.queries.onStart(() => computations++)
    const res = await other.gql(EXPLAIN, { id: runId, row: ROW, methods: ['SHAPLEY'], baseline: ROW })
    expect(code(res)).toBe('BAD_USER_INPUT')
    const ext = res.errors![0]!.extensions!
    expect(ext['budget']).toBe(1000)
    // One background row (the baseline): f(x), f(x'), E[f] over it, f(x) and the 2^10 - 2 coalitions.
    expect(ext['evaluations']).toBe(2 + 1 + 1 + 1022)
    expect(res.errors![0]!.message).toMatch(/needs 1026 model evaluations; the budget is 1000/)
    expect(res.errors![0]!.message).toMatch(/LAB_MAX_EXPLAIN_EVALUATIONS/)
    expect(computations).toBe(0)
    // Integrated Gradients alone (2 + 50 + 2) fits.
    const ig = await other.gql(EXPLAIN, { id: runId, row: ROW, methods: ['INTEGRATED_GRADIENTS'] })
    expect(ig.errors).toBeUndefined()
    expect(computations).toBe(1)
  })

  it('refuses a large body over LAB_MAX_BODY_BYTES with 413 before parsing it, and parses one under it', async () => {
    other = await startTestLab(
      { LAB_QUERY_THREADS: '1', LAB_MAX_BODY_BYTES: String(4 * OFF_LOOP_BODY_BYTES) },
      { databaseUrl: t.lab.databaseUrl },
    )
    const body = (n: number) =>
      JSON.stringify({
        query: `query($id: ID!, $rows: [[Float!]!]!) { predict(runId: $id, rows: $rows) }`,
        variables: { id: runId, rows: Array.from({ length: n }, () => ROW) },
      })
    const send = (text: string) =>
      fetch(other.lab.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text })
    const under = body(2_000)
    expect(under.length).toBeGreaterThan(OFF_LOOP_BODY_BYTES)
    expect(under.length).toBeLessThan(4 * OFF_LOOP_BODY_BYTES)
    const answered = (await (await send(under)).json()) as { data: { predict: number[] } }
    expect(answered.data.predict).toHaveLength(2_000)
    const over = await send(body(10_000))
    expect(over.status).toBe(413)
    expect(((await over.json()) as GqlResponse).errors![0]!.extensions).toEqual({
      code: 'PAYLOAD_TOO_LARGE',
      limit: 4 * OFF_LOOP_BODY_BYTES,
    })
  })

  it('parses large bodies within the pool bound: SERVER_BUSY while the only thread is busy', async () => {
    other = await startTestLab(
      { LAB_QUERY_THREADS: '1', LAB_QUERY_QUEUE: '0' },
      { databaseUrl: t.lab.databaseUrl },
    )
    const started = new Promise<void>((resolve) => other.lab.app.queries.onStart(() => resolve()))
    const explanation = other.gql(EXPLAIN, { id: runId, row: ROW })
    await started
    const body = JSON.stringify({
      query: `query($id: ID!, $rows: [[Float!]!]!) { predict(runId: $id, rows: $rows) }`,
      variables: { id: runId, rows: Array.from({ length: 2_000 }, () => ROW) },
    })
    expect(body.length).toBeGreaterThan(OFF_LOOP_BODY_BYTES)
    const res = await fetch(other.lab.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    const refused = (await res.json()) as GqlResponse
    expect(refused.errors).toHaveLength(1)
    expect(code(refused)).toBe('SERVER_BUSY')
    expect(refused.errors![0]!.extensions!['retryAfterMs']).toBeGreaterThan(0)
    // Refused before GraphQL ran (a refused model task would answer `data: null` beside the error).
    expect(refused).not.toHaveProperty('data')
    expect((await explanation).errors).toBeUndefined()
    const again = (await (
      await fetch(other.lab.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    ).json()) as { data: { predict: number[] } }
    expect(again.data.predict).toHaveLength(2_000)
  })

  it('answers SERVER_BUSY with retryAfterMs when every thread is busy and the queue is full', async () => {
    other = await startTestLab(
      { LAB_QUERY_THREADS: '1', LAB_QUERY_QUEUE: '0' },
      { databaseUrl: t.lab.databaseUrl },
    )
    // Three explanations sent together: one thread takes the first, and nothing may wait.
    const results = await Promise.all([1, 2, 3].map(() => other.gql(EXPLAIN, { id: runId, row: ROW })))
    const busy = results.filter((r) => r.errors)
    expect(busy.length).toBeGreaterThan(0)
    for (const r of busy) {
      expect(r.errors).toHaveLength(1)
      expect(code(r)).toBe('SERVER_BUSY')
      expect(r.errors![0]!.extensions!['retryAfterMs']).toBeGreaterThan(0)
      expect(r.errors![0]!.message).toMatch(/LAB_QUERY_QUEUE/)
    }
    const answered = results.filter((r) => !r.errors)
    expect(answered.length).toBeGreaterThan(0)
    for (const r of answered) expect(r.data).toHaveProperty('explainInstance.prediction')
    // The pool is not stuck: once the thread is free the next query is answered.
    const again = await other.gql(EXPLAIN, { id: runId, row: ROW, methods: ['INTEGRATED_GRADIENTS'] })
    expect(again.errors).toBeUndefined()
  })
})

describe('a query thread that fails', () => {
  const pool = new QueryPool({
    threads: 1,
    maxQueue: 4,
    settings: { cacheSize: 1, tfBackend: undefined, nice: 0 },
    logger: createLogger('silent', 'test'),
    filename: path.join(__dirname, '../fixtures/dying-thread.js'),
  })
  afterAll(() => pool.close())

  it('answers QUERY_THREAD_FAILED and the pool goes on with a new thread', async () => {
    await expect(pool.run({ die: true })).rejects.toMatchObject({ code: 'QUERY_THREAD_FAILED' })
    await expect(pool.run({ throw: true })).rejects.toMatchObject({ code: 'QUERY_THREAD_FAILED' })
    expect(await pool.run({ value: 7 })).toBe(7)
    expect(pool.size).toBe(0)
  })

  it('refuses past its bound without queueing, and answers the ones it took', async () => {
    const taken = Array.from({ length: 5 }, (_, i) => pool.run({ value: i, waitMs: 200 }))
    await expect(pool.run({ value: 99 })).rejects.toMatchObject({ code: 'SERVER_BUSY' })
    expect(await Promise.all(taken)).toEqual([0, 1, 2, 3, 4])
  })
})

describe('a streamed generation on a query thread', () => {
  const pool = new QueryPool({
    threads: 1,
    maxQueue: 4,
    settings: { cacheSize: 1, tfBackend: undefined, nice: 0 },
    logger: createLogger('silent', 'test'),
    filename: path.join(__dirname, '../fixtures/streaming-thread.js'),
  })
  afterAll(() => pool.close())
  const task = (count: number, msPerToken: number) =>
    ({ count, msPerToken }) as unknown as Parameters<typeof runStreamed>[1]

  it('delivers each token while the thread is still computing, every one once and in order', async () => {
    const arrivals: { symbol: number; at: number }[] = []
    let settledAt = 0
    const started = Date.now()
    const result = await runStreamed(pool, task(10, 60), (t) =>
      arrivals.push({ symbol: t.symbol, at: Date.now() - started }),
    ).finally(() => (settledAt = Date.now() - started))
    expect(arrivals.map((a) => a.symbol)).toEqual([...Array(10).keys()])
    expect(result.tokens.map((t) => t.symbol)).toEqual([...Array(10).keys()])
    // The first token arrived long before the last was computed (10 x 60 ms).
    expect(arrivals[0]!.at).toBeLessThan(settledAt - 300)
  })

  it('ends the generation at the next token when the signal aborts', async () => {
    const controller = new AbortController()
    const seen: number[] = []
    const result = await runStreamed(
      pool,
      task(200, 20),
      (t) => {
        seen.push(t.symbol)
        if (seen.length === 3) controller.abort()
      },
      controller.signal,
    )
    expect(result.tokens.length).toBeGreaterThanOrEqual(3)
    expect(result.tokens.length).toBeLessThan(50)
    expect(seen).toEqual(result.tokens.map((t) => t.symbol))
  })
})
