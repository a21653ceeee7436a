import { collect, GqlResponse, startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

/** Small network and data so runs take about a second; the behaviour under test does not depend on size. */
const SMALL = { hiddenLayers: [8, 4], batchSize: 16, validationSplit: 0.25 }

const RUN_FIELDS = `id name status epochs seed backend error attempt lastEpoch startedAt finishedAt tags
  hiddenLayers activation optimizer learningRate batchSize validationSplit
  experiment { id name } dataset { id name }
  history { epoch loss valLoss accuracy valAccuracy durationMs }`

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { ${RUN_FIELDS} } }`
const GET = `query($id: ID!) { run(id: $id) { ${RUN_FIELDS} } }`
const EVENTS = `subscription($runId: ID!, $afterEpoch: Int) { runEvents(runId: $runId, afterEpoch: $afterEpoch) {
  __typename
  ... on EpochCompleted { runId metric { epoch loss valLoss durationMs } }
  ... on RunStatusChanged { runId status error } } }`

interface Metric {
  epoch: number
  loss: number
  valLoss: number | null
  accuracy: number | null
  valAccuracy: number | null
  durationMs: number
}
interface RunView {
  id: string
  name: string
  status: string
  epochs: number
  seed: number
  backend: string | null
  error: string | null
  attempt: number
  lastEpoch: number
  tags: string[]
  hiddenLayers: number[]
  experiment: { id: string; name: string }
  dataset: { id: string; name: string }
  history: Metric[]
}
type RunEvent =
  | { __typename: 'EpochCompleted'; runId: string; metric: Metric }
  | { __typename: 'RunStatusChanged'; runId: string; status: string; error: string | null }

let t: TestLab
let regression: string
let classification: string

const code = (res: GqlResponse) => res.errors?.[0]?.extensions?.code

async function startRun(input: Record<string, unknown>): Promise<RunView> {
  const res = await t.gql<{ startRun: RunView }>(START, {
    input: { datasetId: regression, ...SMALL, ...input },
  })
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data!.startRun
}

async function getRun(id: string): Promise<RunView> {
  return (await t.gql<{ run: RunView }>(GET, { id })).data!.run
}

async function finished(id: string, timeoutMs = 60_000): Promise<RunView> {
  return waitFor(
    async () => {
      const run = await getRun(id)
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status) ? run : undefined
    },
    { timeoutMs, what: `run ${id} to finish` },
  )
}

beforeAll(async () => {
  t = await startTestLab({ LAB_WORKERS: '1', LAB_TF_BACKEND: 'cpu' })
  const gen = async (name: string, generator: string) =>
    (
      await t.gql<{ generateDataset: { id: string } }>(
        `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
        { input: { name, generator, rows: 400, noise: 0.1, seed: 1 } },
      )
    ).data!.generateDataset.id
  regression = await gen('runs-linear', 'LINEAR')
  classification = await gen('runs-xor', 'XOR')
}, 120_000)

afterAll(async () => {
  await t?.stop()
})

describe('startRun', () => {
  it('returns at once with a QUEUED run carrying the defaults and the drawn seed', async () => {
    const res = await t.gql<{ startRun: RunView }>(START, { input: { datasetId: regression, epochs: 2 } })
    const run = res.data!.startRun
    expect(run.status).toBe('QUEUED')
    expect(run).toMatchObject({
      hiddenLayers: [128, 64, 32, 16],
      activation: 'RELU',
      optimizer: 'ADAM',
      learningRate: 0.001,
      batchSize: 32,
      validationSplit: 0.2,
      experiment: { name: 'default' },
      dataset: { id: regression },
      history: [],
    })
    expect(Number.isInteger(run.seed)).toBe(true)
    const done = await finished(run.id)
    expect(done.status).toBe('SUCCEEDED')
    expect(done.backend).toBe('cpu')
    expect(done.history.map((m) => m.epoch)).toEqual([1, 2])
  })

  const bad: [string, Record<string, unknown>][] = [
    ['an unknown dataset', { datasetId: '00000000-0000-0000-0000-000000000000' }],
    ['a malformed dataset id', { datasetId: 'nope' }],
    ['0 epochs', { epochs: 0 }],
    ['10001 epochs', { epochs: 10_001 }],
    ['batch size 0', { batchSize: 0 }],
    ['batch size above the row count', { batchSize: 401 }],
    ['a zero learning rate', { learningRate: 0 }],
    ['a negative learning rate', { learningRate: -0.1 }],
    ['a layer of 0 units', { hiddenLayers: [8, 0] }],
    ['a layer of 4097 units', { hiddenLayers: [4097] }],
    ['17 layers', { hiddenLayers: Array(17).fill(2) }],
    ['validationSplit 0.9', { validationSplit: 0.9 }],
    ['a negative validationSplit', { validationSplit: -0.1 }],
  ]
  it.each(bad)('refuses %s with BAD_USER_INPUT and queues nothing', async (_label, change) => {
    const before = await t.lab.db.run.count()
    const jobsBefore = await countJobs()
    const res = await t.gql(START, { input: { datasetId: regression, ...change } })
    expect(code(res)).toBe('BAD_USER_INPUT')
    expect(await t.lab.db.run.count()).toBe(before)
    expect(await countJobs()).toBe(jobsBefore)
  })

  it('returns the same run for an idempotency key seen before, even under concurrency', async () => {
    const input = { datasetId: regression, ...SMALL, epochs: 1, idempotencyKey: 'key-1' }
    const results = await Promise.all([1, 2, 3].map(() => t.gql<{ startRun: RunView }>(START, { input })))
    const ids = new Set(results.map((r) => r.data!.startRun.id))
    expect(ids.size).toBe(1)
    const later = await t.gql<{ startRun: RunView }>(START, { input })
    expect(later.data!.startRun.id).toBe([...ids][0])
    expect(await t.lab.db.run.count({ where: { idempotencyKey: 'key-1' } })).toBe(1)
    await finished([...ids][0]!)
  })
})

describe('a 20-epoch run', () => {
  it('streams every epoch in order then SUCCEEDED; a late subscriber gets all 20 once; predict answers', async () => {
    // A queued job wakes the trainer at once, so the run would start before the early subscription is live: a
    // long run holds the only trainer while it subscribes, and is cancelled once the trainer has stored a few
    // more of its epochs (the subscription's set-up is a few queries; those epochs take far longer).
    const blocker = await startRun({ ...SMALL, epochs: 10_000, seed: 12, datasetId: classification })
    await waitFor(async () => (await getRun(blocker.id)).lastEpoch >= 1, { what: 'the blocker to train' })
    const run = await startRun({
      epochs: 20,
      seed: 11,
      datasetId: classification,
      name: 'streamed',
      tags: ['a', 'b'],
    })
    const early = collect<{ runEvents: RunEvent }>(t.ws(), EVENTS, { runId: run.id })
    const held = (await getRun(blocker.id)).lastEpoch
    await waitFor(async () => (await getRun(blocker.id)).lastEpoch >= held + 5, { what: 'blocker epochs' })
    await t.gql(`mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: blocker.id })
    // Join again once epoch 10 is stored, asking for everything from the start.
    await waitFor(async () => (await getRun(run.id)).lastEpoch >= 10, { what: 'epoch 10' })
    const late = collect<{ runEvents: RunEvent }>(t.ws(), EVENTS, { runId: run.id, afterEpoch: 0 })
    const [earlyEvents, lateEvents] = await Promise.all([early.done, late.done])

    for (const events of [earlyEvents, lateEvents]) {
      const epochs = events.filter((e) => e.runEvents.__typename === 'EpochCompleted')
      expect(epochs.map((e) => (e.runEvents as { metric: Metric }).metric.epoch)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      )
      const last = events.at(-1)!.runEvents
      expect(last).toMatchObject({ __typename: 'RunStatusChanged', status: 'SUCCEEDED', runId: run.id })
    }
    // The early subscriber saw the run start.
    expect(earlyEvents[0]!.runEvents).toMatchObject({ __typename: 'RunStatusChanged', status: 'RUNNING' })

    const done = await getRun(run.id)
    expect(done).toMatchObject({ status: 'SUCCEEDED', name: 'streamed', tags: ['a', 'b'], lastEpoch: 20 })
    expect(done.history).toHaveLength(20)
    // Streamed metrics are the stored ones.
    const streamed = earlyEvents.flatMap((e) =>
      e.runEvents.__typename === 'EpochCompleted' ? [e.runEvents.metric] : [],
    )
    expect(streamed.map((m) => m.loss)).toEqual(done.history.map((m) => m.loss))
    expect(done.history.every((m) => m.accuracy !== null && m.valAccuracy !== null)).toBe(true)

    // A subscriber to a finished run gets the replay after afterEpoch, the explanation, then the terminal status.
    const replay = await collect<{ runEvents: RunEvent }>(t.ws(), EVENTS, { runId: run.id, afterEpoch: 15 })
      .done
    expect(replay.map((e) => e.runEvents.__typename)).toEqual([
      ...Array(5).fill('EpochCompleted'),
      'ExplanationReady',
      'RunStatusChanged',
    ])

    const p = await t.gql<{ predict: number[] }>(
      `query($id: ID!, $rows: [[Float!]!]!) { predict(runId: $id, rows: $rows) }`,
      {
        id: run.id,
        rows: [
          [0.8, 0.8],
          [-0.8, 0.8],
        ],
      },
    )
    expect(p.errors).toBeUndefined()
    expect(p.data!.predict).toHaveLength(2)
    for (const v of p.data!.predict) expect(v).toBeGreaterThanOrEqual(0)
    for (const v of p.data!.predict) expect(v).toBeLessThanOrEqual(1)
    const badRows = await t.gql(`query($id: ID!) { predict(runId: $id, rows: [[1, 2, 3]]) }`, { id: run.id })
    expect(code(badRows)).toBe('BAD_USER_INPUT')
  }, 120_000)
})

describe('reproducibility', () => {
  it('gives the same losses for the same seed, data and backend', async () => {
    const a = await startRun({ epochs: 3, seed: 5 })
    const b = await startRun({ epochs: 3, seed: 5 })
    const c = await startRun({ epochs: 3, seed: 6 })
    const [ra, rb, rc] = [await finished(a.id), await finished(b.id), await finished(c.id)]
    expect(ra.history.map((m) => m.loss)).toEqual(rb.history.map((m) => m.loss))
    expect(ra.history.map((m) => m.loss)).not.toEqual(rc.history.map((m) => m.loss))
  }, 120_000)
})

describe('cancelRun', () => {
  it('stops a running run within one epoch', async () => {
    const run = await startRun({ epochs: 5000 })
    await waitFor(async () => (await getRun(run.id)).lastEpoch >= 2, { what: 'epoch 2' })
    const res = await t.gql<{ cancelRun: RunView }>(
      `mutation($id: ID!) { cancelRun(id: $id) { id status } }`,
      {
        id: run.id,
      },
    )
    expect(res.errors).toBeUndefined()
    const atCancel = (await getRun(run.id)).lastEpoch
    const done = await finished(run.id)
    expect(done.status).toBe('CANCELLED')
    expect(done.lastEpoch).toBeLessThanOrEqual(atCancel + 1)
    const again = await t.gql(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: run.id })
    expect(again.errors).toBeUndefined()
  }, 60_000)

  it('refuses to cancel a finished run with CONFLICT and an unknown one with NOT_FOUND', async () => {
    const run = await startRun({ epochs: 1 })
    await finished(run.id)
    expect(code(await t.gql(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: run.id }))).toBe(
      'CONFLICT',
    )
    expect(
      code(await t.gql(`mutation { cancelRun(id: "00000000-0000-0000-0000-000000000000") { status } }`)),
    ).toBe('NOT_FOUND')
  })
})

describe('failures', () => {
  it('ends a run whose loss diverges FAILED with the message', async () => {
    const huge = (
      await t.gql<{ createDataset: { id: string } }>(
        `mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`,
        {
          input: {
            name: 'diverges',
            task: 'REGRESSION',
            featureNames: ['x'],
            rows: Array.from({ length: 64 }, (_, i) => [i]),
            targets: Array.from({ length: 64 }, (_, i) => (i % 2 ? 1e38 : -1e38)),
          },
        },
      )
    ).data!.createDataset.id
    const run = await startRun({
      datasetId: huge,
      epochs: 5,
      optimizer: 'SGD',
      learningRate: 10,
      validationSplit: 0,
    })
    const done = await finished(run.id)
    expect(done.status).toBe('FAILED')
    expect(done.error).toMatch(/NaN|finite|Infinity/i)
  })

  it('fails a run whose worker process is killed, and the next run still trains', async () => {
    const run = await startRun({ epochs: 5000 })
    await waitFor(async () => (await getRun(run.id)).lastEpoch >= 1, { what: 'epoch 1' })
    const pid = t.lab.app.pool!.pidOf(run.id)
    expect(pid).toBeDefined()
    process.kill(pid!, 'SIGKILL')
    const done = await finished(run.id, 30_000)
    expect(done.status).toBe('FAILED')
    expect(done.error).toMatch(/exited \(SIGKILL\)/)
    const next = await startRun({ epochs: 2 })
    expect((await finished(next.id)).status).toBe('SUCCEEDED')
  }, 90_000)
})

describe('the API stays responsive while a run trains', () => {
  it('answers a query in well under a second during training', async () => {
    const run = await startRun({ epochs: 5000, hiddenLayers: [128, 64, 32, 16], batchSize: 8 })
    await waitFor(async () => (await getRun(run.id)).status === 'RUNNING', { what: 'RUNNING' })
    const timings: number[] = []
    for (let i = 0; i < 10; i++) {
      const start = performance.now()
      await t.gql(`{ datasets(first: 5) { totalCount } }`)
      timings.push(performance.now() - start)
    }
    expect(Math.max(...timings)).toBeLessThan(500)
    await t.gql(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: run.id })
    expect((await finished(run.id)).status).toBe('CANCELLED')
  }, 60_000)
})

async function countJobs(): Promise<number> {
  const rows = await t.lab.db.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM pgboss.job`
  return Number(rows[0]!.n)
}

describe('experiments', () => {
  it('creates a new experiment once when runs for it start concurrently', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map(() =>
        t.gql<{ startRun: { id: string; experiment: { id: string } } }>(
          `mutation($input: StartRunInput!) { startRun(input: $input) { id experiment { id } } }`,
          {
            input: {
              datasetId: regression,
              ...SMALL,
              epochs: 1,
              experiment: 'born-concurrently',
              explain: [],
            },
          },
        ),
      ),
    )
    for (const r of results) expect(r.errors).toBeUndefined()
    expect(new Set(results.map((r) => r.data!.startRun.experiment.id)).size).toBe(1)
    for (const r of results) await finished(r.data!.startRun.id)
  }, 60_000)
})
