import { createTestDatabase } from '../helpers/db'
import { collect, GqlResponse, startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

const SWEEP_FIELDS = `id status method metric goal runCap maxConcurrent seed error runCount finishedCount
  bestRun { id name summary { finalLoss finalValLoss } }
  runs(first: 100) { edges { node { id name status learningRate batchSize hiddenLayers epochs lastEpoch error
    summary { finalLoss finalValLoss } } } }`

interface SweepView {
  id: string
  status: string
  runCap: number
  seed: number
  error: string | null
  runCount: number
  finishedCount: number
  bestRun: { id: string; summary: { finalLoss: number; finalValLoss: number } } | null
  runs: {
    edges: {
      node: {
        id: string
        name: string
        status: string
        learningRate: number
        batchSize: number
        hiddenLayers: number[]
        epochs: number
        lastEpoch: number
        error: string | null
        summary: { finalLoss: number | null; finalValLoss: number | null }
      }
    }[]
  }
}

const START = `mutation($input: SweepInput!) { startSweep(input: $input) { ${SWEEP_FIELDS} } }`
const GET = `query($id: ID!) { sweep(id: $id) { ${SWEEP_FIELDS} } }`
const code = (res: GqlResponse) => res.errors?.[0]?.extensions?.code

let t: TestLab
let datasetId: string

async function startSweep(input: Record<string, unknown>, lab = t): Promise<SweepView> {
  const res = await lab.gql<{ startSweep: SweepView }>(START, { input: { datasetId, ...input } })
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data!.startSweep
}

async function ended(id: string, lab = t, timeoutMs = 120_000): Promise<SweepView> {
  return waitFor(
    async () => {
      const s = (await lab.gql<{ sweep: SweepView }>(GET, { id })).data!.sweep
      return s.status !== 'RUNNING' ? s : undefined
    },
    { timeoutMs, what: `sweep ${id} to end` },
  )
}

const base = {
  datasetId: '00000000-0000-0000-0000-000000000000',
  hiddenLayers: [4],
  epochs: 2,
  batchSize: 16,
}

beforeAll(async () => {
  t = await startTestLab({ LAB_WORKERS: '1', LAB_TF_BACKEND: 'cpu' })
  const res = await t.gql<{ generateDataset: { id: string } }>(
    `mutation { generateDataset(input: { name: "sweep-data", generator: LINEAR, rows: 200, noise: 0.1, seed: 4 }) { id } }`,
  )
  datasetId = res.data!.generateDataset.id
}, 60_000)
afterAll(async () => {
  await t?.stop()
})

describe('startSweep validation', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['an unknown parameter name', { parameters: [{ name: 'momentum', values: [0.9] }] }],
    ['a parameter that cannot be swept', { parameters: [{ name: 'datasetId', values: ['x'] }] }],
    ['an empty grid', { parameters: [{ name: 'learningRate', values: [] }] }],
    ['min above max', { method: 'RANDOM', parameters: [{ name: 'learningRate', min: 0.1, max: 0.01 }] }],
    [
      'a non-positive LOG_UNIFORM bound',
      {
        method: 'RANDOM',
        parameters: [{ name: 'learningRate', min: 0, max: 0.1, distribution: 'LOG_UNIFORM' }],
      },
    ],
    ['a range in a GRID sweep', { parameters: [{ name: 'learningRate', min: 0.001, max: 0.1 }] }],
    ['a value of the wrong type', { parameters: [{ name: 'hiddenLayers', values: ['big'] }] }],
    ['a value no run accepts', { parameters: [{ name: 'batchSize', values: [16, 5000] }] }],
    ['an unknown metric', { metric: 'f1' }],
    ['no parameters', { parameters: [] }],
    ['maxConcurrent 0', { maxConcurrent: 0 }],
  ]
  it.each(cases)('refuses %s with BAD_USER_INPUT and starts nothing', async (_label, change) => {
    const [sweeps, runs] = [await t.lab.db.sweep.count(), await t.lab.db.run.count()]
    const res = await t.gql(START, {
      input: {
        experiment: 'bad-sweeps',
        datasetId,
        method: 'GRID',
        parameters: [{ name: 'learningRate', values: [0.01] }],
        metric: 'valLoss',
        goal: 'MINIMIZE',
        base,
        ...change,
      },
    })
    expect(code(res)).toBe('BAD_USER_INPUT')
    expect(await t.lab.db.sweep.count()).toBe(sweeps)
    expect(await t.lab.db.run.count()).toBe(runs)
  })
})

describe('a grid sweep', () => {
  it('runs every combination with at most maxConcurrent at once, streams them, and names the best', async () => {
    const sweep = await startSweep({
      experiment: 'grid',
      method: 'GRID',
      parameters: [
        { name: 'learningRate', values: [0.05, 0.0001] },
        { name: 'hiddenLayers', values: [[4], [8, 4]] },
      ],
      base,
      metric: 'valLoss',
      goal: 'MINIMIZE',
      maxConcurrent: 2,
    })
    expect(sweep).toMatchObject({ status: 'RUNNING', runCap: 4 })
    const events = collect<{ sweepEvents: { __typename: string; status?: string; epoch?: number } }>(
      t.ws(),
      `subscription($id: ID!) { sweepEvents(sweepId: $id) { __typename
        ... on SweepRunStarted { run { id } } ... on SweepRunFinished { run { id status } }
        ... on RunProgress { runId epoch epochs loss } ... on SweepStatusChanged { status bestRun { id } } } }`,
      { id: sweep.id },
    )
    let maxActive = 0
    const done = await waitFor(
      async () => {
        const active = await t.lab.db.run.count({
          where: { sweepId: sweep.id, status: { in: ['QUEUED', 'RUNNING'] } },
        })
        maxActive = Math.max(maxActive, active)
        const s = (await t.gql<{ sweep: SweepView }>(GET, { id: sweep.id })).data!.sweep
        return s.status !== 'RUNNING' ? s : undefined
      },
      { timeoutMs: 120_000, intervalMs: 50 },
    )
    expect(done.status).toBe('FINISHED')
    expect(maxActive).toBeLessThanOrEqual(2)
    expect(done.runCount).toBe(4)
    expect(done.finishedCount).toBe(4)
    const runs = done.runs.edges.map((e) => e.node)
    expect(runs.map((r) => [r.learningRate, r.hiddenLayers])).toEqual([
      [0.05, [4]],
      [0.05, [8, 4]],
      [0.0001, [4]],
      [0.0001, [8, 4]],
    ])
    for (const r of runs) expect(r).toMatchObject({ status: 'SUCCEEDED', epochs: 2, batchSize: 16 })
    const best = runs.reduce((a, b) => (a.summary.finalValLoss! <= b.summary.finalValLoss! ? a : b))
    expect(done.bestRun!.id).toBe(best.id)

    const received = (await events.done).map((e) => e.sweepEvents)
    const kinds = received.map((e) => e.__typename)
    expect(kinds.filter((k) => k === 'SweepRunStarted')).toHaveLength(4)
    expect(kinds.filter((k) => k === 'SweepRunFinished')).toHaveLength(4)
    expect(kinds).toContain('RunProgress')
    expect(received.at(-1)).toMatchObject({ __typename: 'SweepStatusChanged', status: 'FINISHED' })
  }, 150_000)
})

describe('a random sweep', () => {
  it('draws each parameter from its distribution, reproducibly for a seed, and stops at runCap', async () => {
    const input = {
      experiment: 'random',
      method: 'RANDOM',
      parameters: [
        { name: 'learningRate', min: 0.0001, max: 0.1, distribution: 'LOG_UNIFORM' },
        { name: 'batchSize', min: 8, max: 32, distribution: 'INT_UNIFORM' },
        { name: 'hiddenLayers', values: [[4], [6]] },
      ],
      base: { ...base, epochs: 1 },
      metric: 'loss',
      goal: 'MINIMIZE',
      runCap: 3,
      maxConcurrent: 3,
      seed: 99,
    }
    const a = await ended((await startSweep(input)).id)
    const b = await ended((await startSweep(input)).id)
    expect(a.status).toBe('FINISHED')
    expect(a.runCount).toBe(3)
    const params = (s: SweepView) =>
      s.runs.edges.map((e) => [e.node.learningRate, e.node.batchSize, e.node.hiddenLayers])
    expect(params(a)).toEqual(params(b))
    for (const [lr, bs] of params(a) as [number, number][]) {
      expect(lr).toBeGreaterThanOrEqual(0.0001)
      expect(lr).toBeLessThanOrEqual(0.1)
      expect(Number.isInteger(bs)).toBe(true)
      expect(bs).toBeGreaterThanOrEqual(8)
      expect(bs).toBeLessThanOrEqual(32)
    }
  }, 150_000)
})

describe('early termination', () => {
  it('stops a run whose metric is worse than the median of completed runs at the same epoch', async () => {
    const sweep = await startSweep({
      experiment: 'median-stop',
      method: 'GRID',
      parameters: [{ name: 'learningRate', values: [0.02, 0.0000001] }],
      base: { ...base, epochs: 40, hiddenLayers: [8] },
      metric: 'loss',
      goal: 'MINIMIZE',
      maxConcurrent: 1,
      earlyTerminate: { type: 'MEDIAN_STOP', minEpochs: 2 },
    })
    const done = await ended(sweep.id)
    const [good, bad] = done.runs.edges.map((e) => e.node)
    expect(good!.status).toBe('SUCCEEDED')
    expect(good!.lastEpoch).toBe(40)
    expect(bad!.status).toBe('CANCELLED')
    expect(bad!.error).toMatch(/stopped early: loss .* is worse than the median/)
    expect(bad!.lastEpoch).toBeLessThan(40)
    expect(done.status).toBe('FINISHED')
    expect(done.bestRun!.id).toBe(good!.id)
  }, 150_000)
})

describe('cancelSweep', () => {
  it('cancels the sweep and its unfinished runs', async () => {
    const sweep = await startSweep({
      experiment: 'cancelled',
      method: 'GRID',
      parameters: [{ name: 'learningRate', values: [0.01, 0.02, 0.03] }],
      base: { ...base, epochs: 3000 },
      metric: 'loss',
      goal: 'MINIMIZE',
    })
    await waitFor(
      async () => (await t.lab.db.run.count({ where: { sweepId: sweep.id, status: 'RUNNING' } })) > 0,
    )
    const res = await t.gql<{ cancelSweep: { status: string } }>(
      `mutation($id: ID!) { cancelSweep(id: $id) { status } }`,
      {
        id: sweep.id,
      },
    )
    expect(res.data!.cancelSweep.status).toBe('CANCELLED')
    await waitFor(
      async () =>
        (await t.lab.db.run.count({
          where: { sweepId: sweep.id, status: { in: ['QUEUED', 'RUNNING'] } },
        })) === 0,
      { what: 'the sweep runs to stop' },
    )
    expect(await t.lab.db.run.count({ where: { sweepId: sweep.id } })).toBe(1)
    expect((await t.gql<{ sweep: SweepView }>(GET, { id: sweep.id })).data!.sweep.status).toBe('CANCELLED')
  }, 60_000)
})

describe('restarting the API', () => {
  it('carries a sweep on where it was', async () => {
    const database = await createTestDatabase()
    try {
      const first = await startTestLab({ LAB_WORKERS: '0' }, { databaseUrl: database.url })
      const ds = await first.gql<{ generateDataset: { id: string } }>(
        `mutation { generateDataset(input: { name: "restart", generator: LINEAR, rows: 100, seed: 1 }) { id } }`,
      )
      const sweep = await startSweep(
        {
          datasetId: ds.data!.generateDataset.id,
          experiment: 'restart',
          method: 'GRID',
          parameters: [{ name: 'learningRate', values: [0.01, 0.02] }],
          base: { ...base, epochs: 1 },
          metric: 'loss',
          goal: 'MINIMIZE',
        },
        first,
      )
      expect(sweep.runCount).toBe(1)
      await first.stop()
      const second = await startTestLab(
        { LAB_WORKERS: '1', LAB_TF_BACKEND: 'cpu' },
        { databaseUrl: database.url },
      )
      try {
        const done = await ended(sweep.id, second)
        expect(done.status).toBe('FINISHED')
        expect(done.runCount).toBe(2)
        expect(done.runs.edges.every((e) => e.node.status === 'SUCCEEDED')).toBe(true)
      } finally {
        await second.stop()
      }
    } finally {
      await database.drop()
    }
  }, 120_000)
})

describe('experimentEvents', () => {
  it('streams run creation, status changes and throttled progress that ends on the last epoch', async () => {
    const sub = collect<{ experimentEvents: { __typename: string; status?: string; epoch?: number } }>(
      t.ws(),
      `subscription { experimentEvents(experiment: "live-table") { __typename
        ... on RunCreated { run { id name } } ... on RunStatusChanged { runId status }
        ... on RunProgress { runId epoch epochs loss } } }`,
    )
    await new Promise((r) => setTimeout(r, 300))
    const res = await t.gql<{ startRun: { id: string } }>(
      `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`,
      { input: { ...base, datasetId, experiment: 'live-table', epochs: 60, explain: [] } },
    )
    const runId = res.data!.startRun.id
    await waitFor(async () =>
      sub.items.some(
        (i) =>
          i.experimentEvents.__typename === 'RunStatusChanged' && i.experimentEvents.status === 'SUCCEEDED',
      ),
    )
    sub.unsubscribe()
    const events = sub.items.map((i) => i.experimentEvents)
    expect(events[0]).toMatchObject({ __typename: 'RunCreated' })
    const statuses = events.filter((e) => e.__typename === 'RunStatusChanged').map((e) => e.status)
    expect(statuses).toEqual(['RUNNING', 'SUCCEEDED'])
    const progress = events.filter((e) => e.__typename === 'RunProgress')
    expect(progress.length).toBeGreaterThan(0)
    expect(progress.length).toBeLessThan(60)
    expect(progress.at(-1)!.epoch).toBe(60)
    const epochs = progress.map((p) => p.epoch!)
    expect([...epochs].sort((a, b) => a - b)).toEqual(epochs)
    expect(runId).toBeDefined()
  }, 60_000)
})
