import { randomUUID } from 'node:crypto'
import { startTestLab, TestLab } from '../helpers/lab'
import { downsample } from '../../src/modules/run/downsample'
import { RunRepository } from '../../src/modules/run/run.repository'

let t: TestLab
let queries = 0
let datasetId: string
let otherDatasetId: string

interface Node {
  id: string
  name: string
  learningRate: number
  batchSize: number
  tags: string[]
  status: string
  createdAt: string
  summary: {
    finalLoss: number | null
    finalValLoss: number | null
    bestValLoss: number | null
    bestEpoch: number | null
  }
}
type Page = {
  runs: {
    totalCount: number
    pageInfo: { hasNextPage: boolean; endCursor: string | null }
    edges: { cursor: string; node: Node }[]
  }
}

const RUNS = `query($filter: RunFilter, $orderBy: [RunOrder!], $first: Int, $after: String) {
  runs(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id name learningRate batchSize tags status createdAt
      summary { finalLoss finalValLoss bestValLoss bestEpoch } } } } }`

const STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const

/** Inserts runs straight into the store: these tests are about querying, not training. */
async function insertRuns(n: number, experiment: string, offset = 0) {
  const exp = await t.lab.db.experiment.upsert({
    where: { name: experiment },
    create: { name: experiment },
    update: {},
  })
  const base = Date.UTC(2026, 0, 1)
  await t.lab.db.run.createMany({
    data: Array.from({ length: n }, (_, k) => {
      const i = k + offset
      const done = i % 5 === 2
      return {
        id: randomUUID(),
        name: `run-${String(i).padStart(4, '0')}`,
        experimentId: exp.id,
        datasetId: i % 7 === 0 ? otherDatasetId : datasetId,
        status: STATUSES[i % 5]!,
        hiddenLayers: [8],
        activation: i % 2 ? 'RELU' : 'TANH',
        epochs: 10 + (i % 3),
        batchSize: [16, 32, 64][i % 3]!,
        learningRate: [0.1, 0.01, 0.001, 0.0001][i % 4]!,
        optimizer: 'ADAM',
        validationSplit: 0.2,
        seed: i,
        tags: i % 2 ? ['odd'] : ['even', i % 4 === 0 ? 'four' : 'two'],
        explainMethods: [],
        createdAt: new Date(base + (i % 50) * 1000),
        ...(done
          ? { finalLoss: 1 / (i + 1), finalValLoss: 2 / (i + 1), bestValLoss: 1.5 / (i + 1), bestEpoch: 3 }
          : {}),
      }
    }),
  })
}

async function page(variables: Record<string, unknown>) {
  const res = await t.gql<Page>(RUNS, variables)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data!.runs
}

async function all(variables: Record<string, unknown>, pageSize = 37): Promise<Node[]> {
  const out: Node[] = []
  let after: string | null = null
  do {
    const p: Page['runs'] = await page({ ...variables, first: pageSize, after })
    out.push(...p.edges.map((e) => e.node))
    after = p.pageInfo.hasNextPage ? p.pageInfo.endCursor : null
  } while (after)
  return out
}

beforeAll(async () => {
  // The supervisor's periodic pass is slowed down so that only the requests' own queries are counted.
  t = await startTestLab(
    { LAB_HEARTBEAT_INTERVAL_MS: '60000', LAB_HEARTBEAT_TIMEOUT_MS: '600000' },
    { onQuery: () => queries++ },
  )
  const gen = async (name: string) =>
    (
      await t.gql<{ generateDataset: { id: string } }>(
        `mutation($name: String!) { generateDataset(input: { name: $name, generator: LINEAR, rows: 20, seed: 1 }) { id } }`,
        { name },
      )
    ).data!.generateDataset.id
  datasetId = await gen('q1')
  otherDatasetId = await gen('q2')
  await insertRuns(300, 'alpha')
  await insertRuns(100, 'beta', 300)
})
afterAll(async () => {
  await t?.stop()
})

describe('runs(filter, orderBy, first, after)', () => {
  it('filters on experiment, status, dataset, tags, hyperparameter ranges and summaries', async () => {
    expect((await page({ filter: { experiment: 'beta' } })).totalCount).toBe(100)
    expect((await page({ filter: { status: ['SUCCEEDED', 'FAILED'] } })).totalCount).toBe(160)
    expect((await page({ filter: { datasetId: otherDatasetId } })).totalCount).toBe(Math.ceil(400 / 7))
    expect((await page({ filter: { tags: ['even', 'four'] } })).totalCount).toBe(100)
    expect((await page({ filter: { learningRate: { min: 0.001, max: 0.01 } } })).totalCount).toBe(200)
    expect((await page({ filter: { batchSize: { min: 32 } } })).totalCount).toBe(266)
    const lowLoss = await all({ filter: { finalLoss: { max: 0.01 } } })
    expect(lowLoss.length).toBeGreaterThan(0)
    for (const n of lowLoss) expect(n.summary.finalLoss!).toBeLessThanOrEqual(0.01)
    const range = {
      from: new Date(Date.UTC(2026, 0, 1, 0, 0, 10)).toISOString(),
      to: new Date(Date.UTC(2026, 0, 1, 0, 0, 20)).toISOString(),
    }
    expect((await page({ filter: { createdAt: range } })).totalCount).toBe(80)
  })

  it('combines filters with and, or and not', async () => {
    const or = await page({ filter: { or: [{ experiment: 'beta' }, { status: ['QUEUED'] }] } })
    expect(or.totalCount).toBe(100 + 60)
    const not = await page({ filter: { experiment: 'alpha', not: { status: ['QUEUED'] } } })
    expect(not.totalCount).toBe(240)
    const and = await page({ filter: { and: [{ tags: ['odd'] }, { learningRate: { max: 0.001 } }] } })
    expect(and.totalCount).toBe(100)
  })

  it('orders on summaries and hyperparameters, nulls last, with stable keyset pages', async () => {
    const byLoss = await all({ orderBy: [{ field: 'FINAL_LOSS', direction: 'ASC' }] })
    expect(byLoss).toHaveLength(400)
    const losses = byLoss.map((n) => n.summary.finalLoss)
    const firstNull = losses.indexOf(null)
    expect(firstNull).toBe(80)
    expect(losses.slice(firstNull).every((l) => l === null)).toBe(true)
    const known = losses.slice(0, firstNull) as number[]
    expect([...known].sort((a, b) => a - b)).toEqual(known)
    expect(new Set(byLoss.map((n) => n.id)).size).toBe(400)

    const multi = await all({
      orderBy: [
        { field: 'LEARNING_RATE', direction: 'DESC' },
        { field: 'BATCH_SIZE', direction: 'ASC' },
      ],
    })
    for (let i = 1; i < multi.length; i++) {
      const [a, b] = [multi[i - 1]!, multi[i]!]
      expect(
        a.learningRate > b.learningRate || (a.learningRate === b.learningRate && a.batchSize <= b.batchSize),
      ).toBe(true)
    }
  })

  it('does not skip or repeat runs when runs are added between pages', async () => {
    const first = await page({ first: 50, orderBy: [{ field: 'CREATED_AT', direction: 'DESC' }] })
    await insertRuns(30, 'gamma', 400)
    const seen = first.edges.map((e) => e.node.id)
    let after = first.pageInfo.endCursor
    while (after) {
      const p = await page({ first: 50, after, orderBy: [{ field: 'CREATED_AT', direction: 'DESC' }] })
      seen.push(...p.edges.map((e) => e.node.id))
      after = p.pageInfo.hasNextPage ? p.pageInfo.endCursor : null
    }
    expect(new Set(seen).size).toBe(seen.length)
    // Everything that existed before the first page was read is there.
    const before = await t.lab.db.run.count({ where: { experiment: { name: { in: ['alpha', 'beta'] } } } })
    const ids = new Set(
      (await t.lab.db.run.findMany({ where: { experiment: { name: { in: ['alpha', 'beta'] } } } })).map(
        (r) => r.id,
      ),
    )
    expect(seen.filter((id) => ids.has(id))).toHaveLength(before)
  })

  it('refuses bad input', async () => {
    const codes = async (v: Record<string, unknown>) => (await t.gql(RUNS, v)).errors?.[0]?.extensions?.code
    expect(await codes({ first: 101 })).toBe('BAD_USER_INPUT')
    expect(await codes({ filter: { learningRate: { min: 1, max: 0 } } })).toBe('BAD_USER_INPUT')
    const p = await page({ first: 1, orderBy: [{ field: 'NAME', direction: 'ASC' }] })
    // A cursor from another ordering is refused rather than misread.
    expect(
      await codes({ after: p.pageInfo.endCursor, orderBy: [{ field: 'EPOCHS', direction: 'ASC' }] }),
    ).toBe('BAD_USER_INPUT')
  })

  it('costs a fixed number of SQL queries per page, whatever its size (no N+1)', async () => {
    const q = `query($first: Int) { runs(first: $first) { totalCount edges { node { id name
      dataset { id name featureNames } experiment { id name } summary { finalLoss bestValLoss } } } } }`
    const count = async (first: number) => {
      const before = queries
      const res = await t.gql(q, { first })
      expect(res.errors).toBeUndefined()
      return queries - before
    }
    const small = await count(5)
    const large = await count(100)
    expect(large).toBe(small)
    expect(large).toBeLessThanOrEqual(5)
  })
})

describe('Run.metricHistory', () => {
  it('reduces in SQL exactly as downsample() specifies, ties and named metrics included', async () => {
    const run = await t.lab.db.run.findFirstOrThrow({ where: { experiment: { name: 'gamma' } } })
    // Values on a coarse grid: many ties inside buckets, where "the first minimum" decides.
    let state = 12345
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) % 17
    const epochs = Array.from({ length: 3001 }, (_, i) => i + 1).filter((e) => e % 7 !== 3)
    const rows = epochs.map((epoch) => ({ epoch, loss: next() / 4, named: next() - 8 }))
    await t.lab.db.$executeRaw`
      INSERT INTO "EpochMetric" ("runId", epoch, loss, "durationMs", "values")
      SELECT ${run.id}::uuid, r.epoch, r.loss, 1, jsonb_build_array(jsonb_build_object('name', 'kl', 'value', r.named))
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(epoch int, loss float8, named float8)`
    const repo = new RunRepository(t.lab.db)
    for (const maxPoints of [4, 5, 64, 1001, 2999, 5000]) {
      const loss = rows.map((r) => ({ epoch: r.epoch, value: r.loss }))
      expect(await repo.metricHistory(run.id, 'loss', maxPoints)).toEqual(downsample(loss, maxPoints))
      const kl = rows.map((r) => ({ epoch: r.epoch, value: r.named }))
      expect(await repo.metricHistory(run.id, 'kl', maxPoints)).toEqual(downsample(kl, maxPoints))
    }
  })

  it('reduces a series without gaps (numbered from its epochs, not by row) exactly as downsample() does', async () => {
    const run = await t.lab.db.run.findFirstOrThrow({ where: { experiment: { name: 'gamma' } }, skip: 1 })
    let state = 777
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) % 13
    // Epochs 5..2504, contiguous (a run resumed past its first epochs need not start at 1).
    const rows = Array.from({ length: 2500 }, (_, i) => ({
      epoch: i + 5,
      loss: next() / 2,
      named: 6 - next(),
    }))
    await t.lab.db.$executeRaw`
      INSERT INTO "EpochMetric" ("runId", epoch, loss, "durationMs", "values")
      SELECT ${run.id}::uuid, r.epoch, r.loss, 1, jsonb_build_array(jsonb_build_object('name', 'kl', 'value', r.named))
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(epoch int, loss float8, named float8)`
    const repo = new RunRepository(t.lab.db)
    for (const maxPoints of [4, 7, 100, 1001, 2499, 2500, 10_000]) {
      const loss = rows.map((r) => ({ epoch: r.epoch, value: r.loss }))
      expect(await repo.metricHistory(run.id, 'loss', maxPoints)).toEqual(downsample(loss, maxPoints))
      const kl = rows.map((r) => ({ epoch: r.epoch, value: r.named }))
      expect(await repo.metricHistory(run.id, 'kl', maxPoints)).toEqual(downsample(kl, maxPoints))
    }
    expect(await repo.metricHistory(run.id, 'valLoss', 100)).toEqual([])
  })

  it('downsamples 100,000 epochs to maxPoints keeping first, last and extremes; full resolution when short', async () => {
    const run = await t.lab.db.run.findFirstOrThrow({ where: { experiment: { name: 'alpha' } } })
    await t.lab.db.$executeRaw`
      INSERT INTO "EpochMetric" ("runId", epoch, loss, "valLoss", "durationMs")
      SELECT ${run.id}::uuid, e, 1.0 / e + CASE WHEN e = 54321 THEN 5 ELSE 0 END, CASE WHEN e % 2 = 0 THEN 0.5 END, 1
      FROM generate_series(1, 100000) AS e`
    const q = `query($id: ID!, $metric: String!, $max: Int) { run(id: $id) { metricHistory(metric: $metric, maxPoints: $max) { epoch value } } }`
    const res = await t.gql<{ run: { metricHistory: { epoch: number; value: number }[] } }>(q, {
      id: run.id,
      metric: 'loss',
      max: 1000,
    })
    const points = res.data!.run.metricHistory
    expect(points.length).toBeLessThanOrEqual(1000)
    expect(points[0]).toEqual({ epoch: 1, value: 1 })
    expect(points.at(-1)!.epoch).toBe(100_000)
    expect(points.find((p) => p.epoch === 54_321)!.value).toBeCloseTo(5 + 1 / 54_321, 12)
    const again = await t.gql<{ run: { metricHistory: unknown } }>(q, {
      id: run.id,
      metric: 'loss',
      max: 1000,
    })
    expect(again.data!.run.metricHistory).toEqual(points)
    const val = await t.gql<{ run: { metricHistory: { epoch: number }[] } }>(q, {
      id: run.id,
      metric: 'valLoss',
      max: 100,
    })
    expect(val.data!.run.metricHistory.every((p) => p.epoch % 2 === 0)).toBe(true)
    const short = await t.lab.db.run.findFirstOrThrow({ where: { experiment: { name: 'beta' } } })
    await t.lab.db.$executeRaw`
      INSERT INTO "EpochMetric" ("runId", epoch, loss, "durationMs") SELECT ${short.id}::uuid, e, e, 1 FROM generate_series(1, 30) AS e`
    const full = await t.gql<{ run: { metricHistory: unknown[] } }>(q, {
      id: short.id,
      metric: 'loss',
      max: 1000,
    })
    expect(full.data!.run.metricHistory).toHaveLength(30)
    const bad = await t.gql(q, { id: short.id, metric: 'nope' })
    expect(bad.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT')
  })
})
