/**
 * MetricBlock: the per-block summaries metricHistory reads, kept by triggers on EpochMetric (migration
 * metric_blocks). Every write path must leave the table equal to the blocks rebuilt here in JavaScript from
 * EpochMetric itself: the trainer's recordEpoch, multi-row and out-of-order inserts, updates (an epoch moved
 * to another block included), deletes, and concurrent writers of one run and of several.
 */
import pg from 'pg'
import { startTestLab, TestLab } from '../helpers/lab'
import { RunRepository } from '../../src/modules/run/run.repository'
import { COLUMN_METRICS, downsample } from '../../src/modules/run/downsample'

let t: TestLab
let datasetId: string
let experimentId: string

beforeAll(async () => {
  t = await startTestLab({ LAB_WORKERS: '0' })
  const res = await t.gql<{ generateDataset: { id: string } }>(
    `mutation { generateDataset(input: { name: "blocks", generator: LINEAR, rows: 20, seed: 1 }) { id } }`,
  )
  datasetId = res.data!.generateDataset.id
  experimentId = (await t.lab.db.experiment.create({ data: { name: 'blocks' } })).id
})
afterAll(() => t?.stop())

async function newRun(status: 'QUEUED' | 'RUNNING' = 'QUEUED'): Promise<string> {
  const run = await t.lab.db.run.create({
    data: {
      name: 'r',
      experimentId,
      datasetId,
      hiddenLayers: [4],
      activation: 'RELU',
      epochs: 1000,
      batchSize: 8,
      learningRate: 0.01,
      optimizer: 'ADAM',
      validationSplit: 0.2,
      seed: 1,
      status,
      attempt: 1,
    },
  })
  return run.id
}

interface Block {
  metric: string
  block: number
  count: number
  epochs: number[]
  values: number[]
  minValue: number
  minEpoch: number
  maxValue: number
  maxEpoch: number
}

/** The blocks of `runId` rebuilt from EpochMetric by the rule the migration states, independently of it. */
async function expectedBlocks(runId: string): Promise<Block[]> {
  const rows = await t.lab.db.epochMetric.findMany({ where: { runId }, orderBy: { epoch: 'asc' } })
  const blocks = new Map<string, Block>()
  for (const row of rows) {
    const points: [string, number | null][] = COLUMN_METRICS.map((m) => [m, row[m]])
    for (const v of row.values as { name?: unknown; value?: unknown }[]) {
      if (typeof v.name !== 'string' || typeof v.value !== 'number') continue
      if ((COLUMN_METRICS as readonly string[]).includes(v.name)) continue
      points.push([v.name, v.value])
    }
    for (const [metric, value] of points) {
      if (value === null) continue
      const block = Math.floor(row.epoch / 16)
      const key = `${metric}/${block}`
      let b = blocks.get(key)
      if (!b) {
        b = {
          metric,
          block,
          count: 0,
          epochs: [],
          values: [],
          minValue: value,
          minEpoch: row.epoch,
          maxValue: value,
          maxEpoch: row.epoch,
        }
        blocks.set(key, b)
      }
      b.count++
      b.epochs.push(row.epoch)
      b.values.push(value)
      if (value < b.minValue) [b.minValue, b.minEpoch] = [value, row.epoch]
      if (value > b.maxValue) [b.maxValue, b.maxEpoch] = [value, row.epoch]
    }
  }
  return [...blocks.values()].sort(byKey)
}

function byKey(a: Block, b: Block): number {
  return a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : a.block - b.block
}

async function storedBlocks(runId: string): Promise<Block[]> {
  const rows = await t.lab.db.metricBlock.findMany({ where: { runId } })
  return rows.map(({ runId: _, ...b }) => b).sort(byKey)
}

async function expectBlocksExact(runId: string): Promise<void> {
  const expected = await expectedBlocks(runId)
  expect(await storedBlocks(runId)).toEqual(expected)
}

/** A client of its own (the tests' concurrent writers are separate sessions, as trainers are). */
async function session(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: t.databaseUrl })
  await client.connect()
  return client
}

const values = (epoch: number) =>
  JSON.stringify([
    { name: 'loss', value: -1 }, // a column metric named again in values: the column wins
    ...(epoch % 3 ? [{ name: 'kl', value: (epoch * 7919) % 13 }] : []),
    { name: 'recon', value: 1 / epoch },
  ])

describe('MetricBlock', () => {
  it("follows the trainer's recordEpoch epoch by epoch, and metricHistory reads it as downsample() specifies", async () => {
    const runId = await newRun('RUNNING')
    const repo = new RunRepository(t.lab.db)
    const series: { epoch: number; loss: number; kl?: number }[] = []
    for (let epoch = 1; epoch <= 200; epoch++) {
      const loss = ((epoch * 31) % 17) / 4 // ties inside blocks and buckets
      const kl = epoch % 5 ? (epoch % 9) - 4 : undefined
      series.push({ epoch, loss, ...(kl === undefined ? {} : { kl }) })
      const metrics = [
        { name: 'loss', value: loss },
        ...(kl === undefined ? [] : [{ name: 'kl', value: kl }]),
      ]
      const res = await repo.recordEpoch(runId, 1, { epoch, metrics, durationMs: 1 })
      expect(res).not.toBe('stale')
    }
    await expectBlocksExact(runId)
    const blocks = await storedBlocks(runId)
    expect(blocks.filter((b) => b.metric === 'loss').map((b) => b.count)).toEqual([
      15,
      ...Array(11).fill(16),
      9,
    ])
    for (const maxPoints of [4, 9, 30, 64, 199, 200]) {
      const loss = series.map((s) => ({ epoch: s.epoch, value: s.loss }))
      expect(await repo.metricHistory(runId, 'loss', maxPoints)).toEqual(downsample(loss, maxPoints))
      const kl = series.flatMap((s) => (s.kl === undefined ? [] : [{ epoch: s.epoch, value: s.kl }]))
      expect(await repo.metricHistory(runId, 'kl', maxPoints)).toEqual(downsample(kl, maxPoints))
    }
  })

  it('stays exact through multi-row and out-of-order inserts, updates, moved epochs and deletes', async () => {
    const runId = await newRun()
    const insert = (epochs: number[]) => t.lab.db.$executeRaw`
      INSERT INTO "EpochMetric" ("runId", epoch, loss, "valLoss", "durationMs", "values")
      SELECT ${runId}::uuid, e, (e * 13) % 7, CASE WHEN e % 4 = 0 THEN NULL ELSE e / 10.0 END, 1, v::jsonb
      FROM unnest(${epochs}::int[], ${epochs.map(values)}::text[]) AS t(e, v)`
    await insert([40, 41, 42, 5, 7, 100, 33])
    await expectBlocksExact(runId)
    await insert(Array.from({ length: 60 }, (_, i) => 43 + i).filter((e) => e !== 100))
    await insert([0, 1, 2, 3, 4, 6, 8])
    await expectBlocksExact(runId)

    await t.lab.db
      .$executeRaw`UPDATE "EpochMetric" SET loss = -5 WHERE "runId" = ${runId}::uuid AND epoch IN (7, 50, 51)`
    await expectBlocksExact(runId)
    // Moving epochs to other blocks: both the block left and the one entered are rebuilt.
    await t.lab.db
      .$executeRaw`UPDATE "EpochMetric" SET epoch = epoch + 1000 WHERE "runId" = ${runId}::uuid AND epoch BETWEEN 30 AND 40`
    await expectBlocksExact(runId)
    expect((await storedBlocks(runId)).some((b) => b.block === Math.floor(1030 / 16))).toBe(true)

    await t.lab.db.$executeRaw`DELETE FROM "EpochMetric" WHERE "runId" = ${runId}::uuid AND epoch % 3 = 0`
    await expectBlocksExact(runId)
    // A rewind drops the whole history: no block may outlive its epochs.
    await t.lab.db.epochMetric.deleteMany({ where: { runId } })
    expect(await storedBlocks(runId)).toEqual([])
  })

  it('keeps concurrent writers of one run and of several exact, without deadlocks', async () => {
    const [a, b] = [await newRun(), await newRun()]
    const writers = await Promise.all(Array.from({ length: 4 }, () => session()))
    try {
      // Four sessions insert interleaved epochs of one run, into the same blocks, each row its own statement.
      await Promise.all(
        writers.map(async (client, k) => {
          for (let epoch = k; epoch < 160; epoch += writers.length) {
            await client.query(
              `INSERT INTO "EpochMetric" ("runId", epoch, loss, "durationMs", "values") VALUES ($1, $2, $3, 1, $4)`,
              [a, epoch, (epoch * 37) % 11, values(epoch)],
            )
          }
        }),
      )
      // Multi-row statements over both runs, listed in opposite orders, inside explicit transactions.
      await Promise.all(
        writers.map(async (client, k) => {
          const [first, second] = k % 2 ? [a, b] : [b, a]
          for (let round = 0; round < 10; round++) {
            const epoch = 200 + round * writers.length + k
            await client.query('BEGIN')
            await client.query(
              `INSERT INTO "EpochMetric" ("runId", epoch, loss, "durationMs", "values")
               VALUES ($1, $3, $3 % 5, 1, '[]'), ($2, $3, $3 % 7, 1, '[]')`,
              [first, second, epoch],
            )
            await client.query('COMMIT')
          }
        }),
      )
    } finally {
      await Promise.all(writers.map((c) => c.end()))
    }
    await expectBlocksExact(a)
    await expectBlocksExact(b)
    expect((await storedBlocks(a)).find((x) => x.metric === 'loss' && x.block === 0)!.count).toBe(16)
  })

  it('is rebuilt from EpochMetric alone, as the migration backfills the epochs stored before it', async () => {
    const runId = await newRun()
    await t.lab.db.$executeRaw`
      INSERT INTO "EpochMetric" ("runId", epoch, loss, "durationMs", "values")
      SELECT ${runId}::uuid, e, sin(e), 1, jsonb_build_array(jsonb_build_object('name', 'kl', 'value', cos(e)))
      FROM generate_series(1, 500) e`
    const before = await storedBlocks(runId)
    await t.lab.db.$executeRaw`DELETE FROM "MetricBlock" WHERE "runId" = ${runId}::uuid`
    await t.lab.db.$executeRaw`
      SELECT metric_blocks_rebuild(array_agg(r), array_agg(b))
      FROM (SELECT DISTINCT "runId" AS r, epoch >> 4 AS b FROM "EpochMetric" WHERE "runId" = ${runId}::uuid) k`
    expect(await storedBlocks(runId)).toEqual(before)
    await expectBlocksExact(runId)
  })
})
