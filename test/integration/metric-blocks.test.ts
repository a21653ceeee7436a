/**
 * MetricBlock, the per-16-epochs summary that triggers keep on EpochMetric, and RunRepository.metricHistory, which
 * reads it: the points stay exactly downsample()'s, and the blocks stay exactly what the epochs sum to, whoever
 * writes the epochs (recordEpoch, bulk inserts, a rewound attempt, concurrent writers, deletes and updates).
 */
import { randomUUID } from 'node:crypto'
import { closeDb, createDb, Db } from '../../src/db/client'
import { downsample, Point } from '../../src/modules/run/downsample'
import { RunRepository } from '../../src/modules/run/run.repository'
import { createTestDatabase, TestDatabase } from '../helpers/db'

let database: TestDatabase
let db: Db
let repo: RunRepository
let datasetId: string
let experimentId: string

beforeAll(async () => {
  database = await createTestDatabase()
  db = createDb(database.url, { max: 8 })
  repo = new RunRepository(db)
  datasetId = (
    await db.dataset.create({
      data: {
        name: 'blocks',
        version: 1,
        task: 'REGRESSION',
        rowCount: 0,
        contentHash: 'x',
        featureStats: [],
        features: new Uint8Array(),
        targets: new Uint8Array(),
        source: {},
      },
    })
  ).id
  experimentId = (await db.experiment.create({ data: { name: 'blocks' } })).id
}, 60_000)
afterAll(async () => {
  if (db) await closeDb(db)
  await database?.drop()
})

async function newRun(status: 'RUNNING' | 'SUCCEEDED' = 'SUCCEEDED'): Promise<string> {
  const id = randomUUID()
  await db.run.create({
    data: {
      id,
      name: `run-${id.slice(0, 8)}`,
      experimentId,
      datasetId,
      status,
      attempt: 1,
      hiddenLayers: [8],
      activation: 'RELU',
      epochs: 100_000,
      batchSize: 32,
      learningRate: 0.01,
      optimizer: 'ADAM',
      validationSplit: 0.2,
      seed: 1,
      tags: [],
      explainMethods: [],
    },
  })
  return id
}

interface Row {
  epoch: number
  loss: number
  valLoss: number | null
  /** Named metrics, in "values"; null leaves the metric out of that epoch. */
  kl: number | null
}

/** Inserts epochs in one statement (the statement trigger sees them all at once). */
async function insert(runId: string, rows: Row[]) {
  await db.$executeRaw`
    INSERT INTO "EpochMetric" ("runId", epoch, loss, "valLoss", "durationMs", "values")
    SELECT ${runId}::uuid, r.epoch, r.loss, r."valLoss", 1,
           CASE WHEN r.kl IS NULL THEN '[{"name":"loss","value":0}]'::jsonb
                ELSE jsonb_build_array(jsonb_build_object('name', 'loss', 'value', 0),
                                       jsonb_build_object('name', 'kl', 'value', r.kl)) END
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(epoch int, loss float8, "valLoss" float8, kl float8)`
}

const series = (rows: Row[], pick: (r: Row) => number | null): Point[] =>
  rows.flatMap((r) => {
    const value = pick(r)
    return value === null ? [] : [{ epoch: r.epoch, value }]
  })

/** Block rows that differ from the epochs they summarise (both ways), for every run. */
async function blockDrift(): Promise<unknown[]> {
  return db.$queryRaw`
    WITH want AS (
      SELECT a."runId", p.metric, a.epoch / 16 AS block, count(*)::int AS count, min(a.epoch) AS "firstEpoch",
             max(a.epoch) AS "lastEpoch", (min(ARRAY[p.value, a.epoch]))[1] AS "minValue",
             (min(ARRAY[p.value, a.epoch]))[2]::int AS "minEpoch", (max(ARRAY[p.value, -a.epoch]))[1] AS "maxValue",
             (-(max(ARRAY[p.value, -a.epoch]))[2])::int AS "maxEpoch"
      FROM "EpochMetric" a CROSS JOIN LATERAL metric_block_points(a) p
      GROUP BY 1, 2, 3
    ), have AS (
      SELECT "runId", metric, block, count, "firstEpoch", "lastEpoch", "minValue", "minEpoch", "maxValue", "maxEpoch"
      FROM "MetricBlock"
    )
    (SELECT 'missing' AS side, * FROM (SELECT * FROM want EXCEPT SELECT * FROM have) x)
    UNION ALL
    (SELECT 'extra' AS side, * FROM (SELECT * FROM have EXCEPT SELECT * FROM want) y)`
}

/** metricHistory against downsample() for loss, valLoss and kl at each maxPoints. */
async function expectDownsampled(runId: string, rows: Row[], maxPointsList: number[]) {
  for (const maxPoints of maxPointsList) {
    expect(await repo.metricHistory(runId, 'loss', maxPoints)).toEqual(
      downsample(
        series(rows, (r) => r.loss),
        maxPoints,
      ),
    )
    expect(await repo.metricHistory(runId, 'valLoss', maxPoints)).toEqual(
      downsample(
        series(rows, (r) => r.valLoss),
        maxPoints,
      ),
    )
    expect(await repo.metricHistory(runId, 'kl', maxPoints)).toEqual(
      downsample(
        series(rows, (r) => r.kl),
        maxPoints,
      ),
    )
  }
}

/** A seeded generator of small integers: values on a coarse grid tie often, where "the first" decides. */
function lcg(seed: number) {
  let state = seed
  return (mod: number) => (state = (state * 1103515245 + 12345) % 2 ** 31) % mod
}

describe('metricHistory over MetricBlock', () => {
  it('equals downsample() with gaps, ties and named metrics, from 4 points up to more than the series', async () => {
    const next = lcg(4242)
    const runId = await newRun()
    // Epochs with holes (runs of missing epochs across block edges too); valLoss every third epoch, kl missing
    // in a few epochs of its own.
    const rows: Row[] = []
    for (let epoch = 3; epoch <= 4100; epoch++) {
      if (epoch % 11 === 4 || (epoch > 700 && epoch < 741)) continue
      rows.push({
        epoch,
        loss: next(9) / 4,
        valLoss: epoch % 3 === 0 ? next(5) - 2 : null,
        kl: epoch % 13 === 5 ? null : next(7) - 3,
      })
    }
    await insert(runId, rows)
    expect(await blockDrift()).toEqual([])
    await expectDownsampled(runId, rows, [4, 5, 6, 9, 33, 64, 201, 1000, 1001, 3000, 3724, 3725, 10_000])
  })

  it('equals downsample() when blocks end exactly where buckets do, and on series shorter than maxPoints', async () => {
    const next = lcg(99)
    const runId = await newRun()
    // Epochs 15..176: point i is epoch 15 + i, so block k (epochs 16k..16k+15) holds points 16k-15..16k, and
    // with maxPoints 12 (5 buckets over 160 inner points, 32 each) and 22 (10 buckets of 16) every bucket starts
    // where a block starts: whole blocks fill the buckets, and the last point is alone in its block.
    const rows: Row[] = Array.from({ length: 162 }, (_, i) => ({
      epoch: 15 + i,
      loss: next(5),
      valLoss: next(3),
      kl: next(4),
    }))
    await insert(runId, rows)
    expect(await blockDrift()).toEqual([])
    await expectDownsampled(runId, rows, [4, 12, 22, 42, 161, 162, 163, 1000])
    // Shorter than maxPoints: the whole series, one point per epoch.
    expect(await repo.metricHistory(runId, 'loss', 1000)).toHaveLength(162)
    // Unknown metric, run without epochs: nothing.
    expect(await repo.metricHistory(runId, 'nope', 100)).toEqual([])
    expect(await repo.metricHistory(await newRun(), 'loss', 100)).toEqual([])
  })

  it('keeps the blocks of epochs recorded one by one, and of a rewound attempt that records them again', async () => {
    const runId = await newRun('RUNNING')
    const record = async (epoch: number, loss: number, kl: number) => {
      const outcome = await repo.recordEpoch(runId, 1, {
        epoch,
        durationMs: 5,
        metrics: [
          { name: 'loss', value: loss },
          { name: 'valLoss', value: loss * 2 },
          { name: 'kl', value: kl },
        ],
      })
      expect(outcome).toEqual({ cancelRequested: false })
    }
    for (let epoch = 1; epoch <= 100; epoch++) await record(epoch, 1 / epoch, epoch % 7)
    expect(await blockDrift()).toEqual([])
    const blocks = await db.metricBlock.count({ where: { runId } })
    // loss, valLoss, durationMs and kl, over epochs 1..100: blocks 0..6.
    expect(blocks).toBe(4 * 7)

    // No usable checkpoint: the next attempt starts over, and its epochs differ from the first attempt's.
    expect(await repo.rewind(runId, 1)).toBe(true)
    expect(await db.metricBlock.count({ where: { runId } })).toBe(0)
    const rows: Row[] = []
    for (let epoch = 1; epoch <= 60; epoch++) {
      const loss = (epoch % 9) - 4
      await record(epoch, loss, -epoch)
      rows.push({ epoch, loss, valLoss: loss * 2, kl: -epoch })
    }
    expect(await blockDrift()).toEqual([])
    await expectDownsampled(runId, rows, [4, 7, 20, 59, 60])
    // Nothing of the first attempt is left: epoch 100's point is gone from the series.
    expect((await repo.metricHistory(runId, 'loss', 4)).at(-1)).toEqual({ epoch: 60, value: (60 % 9) - 4 })
  })

  it('stays exact under concurrent writers, deletes and updates of epochs, and goes with its run', async () => {
    const next = lcg(7)
    const runId = await newRun()
    // 400 epochs, one statement each, 8 at a time on separate connections, in shuffled order: writers of the same
    // block race on its row.
    const rows: Row[] = Array.from({ length: 400 }, (_, i) => ({
      epoch: i + 1,
      loss: next(6),
      valLoss: null,
      kl: next(6),
    }))
    const order = [...rows].sort(() => next(3) - 1)
    for (let k = 0; k < order.length; k += 8)
      await Promise.all(order.slice(k, k + 8).map((r) => insert(runId, [r])))
    expect(await blockDrift()).toEqual([])
    await expectDownsampled(runId, rows, [4, 10, 100])

    // A hole torn in the middle and one value changed: the blocks they touch are summed again.
    await db.epochMetric.deleteMany({ where: { runId, epoch: { gte: 150, lte: 190 } } })
    await db.epochMetric.update({ where: { runId_epoch: { runId, epoch: 300 } }, data: { loss: -100 } })
    const now = rows
      .filter((r) => r.epoch < 150 || r.epoch > 190)
      .map((r) => (r.epoch === 300 ? { ...r, loss: -100 } : r))
    expect(await blockDrift()).toEqual([])
    await expectDownsampled(runId, now, [4, 10, 100])
    expect(await repo.metricHistory(runId, 'loss', 4)).toContainEqual({ epoch: 300, value: -100 })

    await db.run.delete({ where: { id: runId } })
    expect(await db.metricBlock.count({ where: { runId } })).toBe(0)
    expect(await blockDrift()).toEqual([])
  })
})
