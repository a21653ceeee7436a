/**
 * Dashboard queries against the real server (in this process, on port 0, over HTTP), with the SQL each request
 * sends counted through startLab's `onQuery` hook:
 *
 * (a) `runs(first: 100)` over 10,000 runs (inserted directly with createMany, as test/integration/
 *     run-queries.test.ts does), selecting dataset, experiment and summary: filtered on
 *     `{ status: [SUCCEEDED], learningRate: { max: 0.01 } }` and ordered by FINAL_VAL_LOSS ASC (first page, and
 *     the second page through its keyset cursor), against the unfiltered newest-first page as the baseline.
 *     p50/p95 latency and SQL statements per request.
 * (b) `metricHistory(metric: "loss", maxPoints: 1000)` of a run with 100,000 epochs (inserted with
 *     generate_series), against the full-resolution `history { epoch loss }` of the same run as the baseline
 *     (maxPoints is capped at 10,000 by the API, so `maxPoints: 100000` is refused; 10,000 is measured too).
 *
 * The supervisor is slowed down (LAB_HEARTBEAT_INTERVAL_MS=60000, LAB_HEARTBEAT_TIMEOUT_MS=600000) and no
 * trainer runs (LAB_WORKERS=0), so the statements counted are the request's own, except the sweep driver's poll
 * (`SELECT "Sweep"."id" ... WHERE status = RUNNING`, every 2 s whatever the settings, src/app.ts) and the
 * supervisor's pass (every 30 s at most): those are recognised and left out, and how many requests they
 * overlapped is printed. The count reported is the median
 * per request, with the range. The variants are interleaved request by request, so load changes on this shared
 * machine hit them alike.
 *
 * Run (compiled; the server needs decorator metadata): `npx tsc -p tsconfig.build.json && node
 * dist/bench/queries.js [--quick] [--only a|b]`.
 */
import 'reflect-metadata'

import { randomUUID } from 'node:crypto'

import { loadConfig } from '../src/config'
import type { Db } from '../src/db/client'
import { Prisma } from '../src/generated/prisma/client'
import type { Point } from '../src/modules/run/downsample'
import { RunRepository } from '../src/modules/run/run.repository'
import { Lab, startLab } from '../src/lab'
import { createLogger } from '../src/logger'
import {
  Cleanups,
  createBenchDatabase,
  fmt,
  gql,
  GqlError,
  heading,
  machineLine,
  median,
  parseBenchArgs,
  percentile,
  printTable,
  requireCompiled,
  runMain,
} from './support'

const RUN_FIELDS = `id name status learningRate batchSize hiddenLayers createdAt
  dataset { id name featureNames } experiment { id name }
  summary { finalLoss finalValLoss bestValLoss bestEpoch }`
const RUNS = `query($filter: RunFilter, $orderBy: [RunOrder!], $first: Int, $after: String) {
  runs(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${RUN_FIELDS} } } } }`
type RunsPage = {
  runs: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: unknown[] }
}

const METRIC_HISTORY = `query($id: ID!, $max: Int, $metric: String! = "loss") { run(id: $id) { metricHistory(metric: $metric, maxPoints: $max) { epoch value } } }`
const FULL_HISTORY = `query($id: ID!) { run(id: $id) { history { epoch loss } } }`

// Terminal statuses only: QUEUED runs inserted without a queue job would be re-enqueued by the supervisor's
// next pass (2,000 transactions in the middle of the measurement); RUNNING ones would need live heartbeats.
const STATUSES = ['FAILED', 'CANCELLED', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const
const LEARNING_RATES = [0.1, 0.01, 0.001, 0.0001] as const

/**
 * Statements of the server's own timers, not of any request: the sweep driver's `findRunningIds` (every 2 s,
 * src/app.ts) and the supervisor's pass (every 30 s here: findStale, then the orphaned-QUEUED-runs query).
 */
const BACKGROUND = [
  /FROM "public"\."Sweep" WHERE "public"\."Sweep"\."status" = /,
  /"public"\."Run"\."heartbeatAt" < /,
  /FROM "Run" r WHERE r\.status = 'QUEUED'/,
]
const isBackground = (sql: string) => {
  const flat = sql.replace(/\s+/g, ' ')
  return BACKGROUND.some((re) => re.test(flat))
}

/** A server whose every SQL statement is counted; `during(fn)` returns the statements sent while fn ran. */
interface CountingLab {
  lab: Lab
  url: string
  during<T>(fn: () => Promise<T>): Promise<{ value: T; statements: string[] }>
}

async function startCountingLab(cleanups: Cleanups): Promise<CountingLab> {
  const database = await createBenchDatabase(cleanups)
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    LAB_WORKERS: '0',
    LAB_HEARTBEAT_INTERVAL_MS: '60000',
    LAB_HEARTBEAT_TIMEOUT_MS: '600000',
    DATABASE_URL: database.url,
  })
  let current: string[] | undefined
  const lab = await startLab(config, createLogger(config.logLevel, 'bench-queries'), {
    onQuery: (sql) => current?.push(sql),
  })
  cleanups.add(() => lab.stop())
  return {
    lab,
    url: lab.url,
    during: async (fn) => {
      const statements: string[] = []
      current = statements
      try {
        return { value: await fn(), statements }
      } finally {
        current = undefined
      }
    },
  }
}

/** POSTs a pre-serialised body; returns the parsed data and the response size. */
async function post<T>(url: string, body: string): Promise<{ data: T; bytes: number }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const text = await res.text()
  const json = JSON.parse(text) as { data?: T | null; errors?: GqlError[] }
  if (json.errors?.length || json.data == null) {
    throw new Error(`GraphQL request failed (HTTP ${res.status}): ${JSON.stringify(json.errors)}`)
  }
  return { data: json.data, bytes: Buffer.byteLength(text) }
}

interface Variant {
  name: string
  body: string
  check?: (data: unknown) => string | undefined
}

export interface LatencyRow {
  query: string
  p50: number
  p95: number
  max: number
  /** Median SQL statements per request, and the range seen. */
  sqlMedian: number
  sqlMin: number
  sqlMax: number
  /** Requests during which a background statement ran (left out of the counts). */
  overlappedPolls: number
  responseKb: number
  note: string
}

/** Warms up, then times `requests` rounds, each round sending every variant once (in order). */
async function measure(
  server: CountingLab,
  variants: Variant[],
  requests: number,
  warmup: number,
): Promise<LatencyRow[]> {
  const times = variants.map(() => [] as number[])
  const counts = variants.map(() => [] as number[])
  const polls = variants.map(() => 0)
  const bytes = variants.map(() => 0)
  const notes = variants.map(() => '')
  for (let round = -warmup; round < requests; round++) {
    for (const [i, v] of variants.entries()) {
      const t0 = performance.now()
      const { value, statements } = await server.during(() => post<unknown>(server.url, v.body))
      const ms = performance.now() - t0
      if (round < 0) continue
      times[i]!.push(ms)
      const own = statements.filter((sql) => !isBackground(sql))
      counts[i]!.push(own.length)
      if (own.length < statements.length) polls[i]!++
      bytes[i] = value.bytes
      if (round === 0) notes[i] = v.check?.(value.data) ?? ''
    }
  }
  return variants.map((v, i) => ({
    query: v.name,
    p50: percentile(times[i]!, 50),
    p95: percentile(times[i]!, 95),
    max: Math.max(...times[i]!),
    sqlMedian: median(counts[i]!),
    sqlMin: Math.min(...counts[i]!),
    sqlMax: Math.max(...counts[i]!),
    overlappedPolls: polls[i]!,
    responseKb: bytes[i]! / 1024,
    note: notes[i]!,
  }))
}

function printLatency(rows: LatencyRow[], requests: number): void {
  const base = rows[0]
  printTable(
    rows.map((r) => ({
      query: r.query,
      'p50 ms': fmt(r.p50, 1),
      'p95 ms': fmt(r.p95, 1),
      'max ms': fmt(r.max, 1),
      'p50 vs baseline': base ? `${fmt(r.p50 / base.p50, 2)}x` : '',
      'SQL / request':
        r.sqlMin === r.sqlMax ? String(r.sqlMedian) : `${r.sqlMedian} (${r.sqlMin}-${r.sqlMax})`,
      'response KB': fmt(r.responseKb, 1),
      result: r.note,
    })),
  )
  const polls = rows.reduce((s, r) => s + r.overlappedPolls, 0)
  console.log(
    `\n${requests} timed requests per query (after warm-up), interleaved; the first row is the baseline. ` +
      `SQL / request: the request's own statements (background ones of the sweep driver and the ` +
      `supervisor, seen during ${polls} of ${requests * rows.length} requests, left out).`,
  )
}

/** Sends one request of `variant` and prints the start of each SQL statement it sent (for the record). */
async function printStatements(server: CountingLab, variant: Variant): Promise<string[]> {
  const { statements } = await server.during(() => post(server.url, variant.body))
  const own = statements.filter((sql) => !isBackground(sql))
  console.log(`\nSQL of one request "${variant.name}":`)
  for (const sql of own) console.log(`  - ${sql.replace(/\s+/g, ' ').slice(0, 100)} ...`)
  return own
}

// ---------------------------------------------------------------------------------------------------------
// (a) runs over 10,000 runs

export async function benchRunsQuery(
  cleanups: Cleanups,
  opts: { quick: boolean },
): Promise<{ runs: number; insertMs: number; rows: LatencyRow[]; statements: string[] }> {
  const runCount = opts.quick ? 2000 : 10_000
  const requests = opts.quick ? 15 : 50
  heading(`(a) runs(first: 100) over ${fmt(runCount)} runs`)
  const server = await startCountingLab(cleanups)
  const db = server.lab.db

  const gen = async (name: string) =>
    (
      await gql<{ generateDataset: { id: string } }>(
        server.url,
        `mutation($name: String!) { generateDataset(input: { name: $name, generator: LINEAR, rows: 20, seed: 1 }) { id } }`,
        { name },
      )
    ).generateDataset.id
  const datasets = [await gen('bench-q1'), await gen('bench-q2'), await gen('bench-q3')]
  const experiments = await Promise.all(
    Array.from({ length: 10 }, (_, k) => db.experiment.create({ data: { name: `bench-exp-${k}` } })),
  )

  // Spread over 10,000 seconds of creation time; every 5th run SUCCEEDED with summaries (2,000 runs), and
  // 3 of the 4 learning rates are <= 0.01, so the filter keeps 1,500 runs.
  const insertStart = performance.now()
  const base = Date.UTC(2026, 0, 1)
  const CHUNK = 1000
  for (let offset = 0; offset < runCount; offset += CHUNK) {
    await db.run.createMany({
      data: Array.from({ length: Math.min(CHUNK, runCount - offset) }, (_, k) => {
        const i = offset + k
        const done = i % 5 === 2
        return {
          id: randomUUID(),
          name: `run-${String(i).padStart(5, '0')}`,
          experimentId: experiments[i % experiments.length]!.id,
          datasetId: datasets[i % datasets.length]!,
          status: STATUSES[i % 5]!,
          hiddenLayers: [128, 64, 32, 16],
          activation: i % 2 ? 'RELU' : 'TANH',
          epochs: 10 + (i % 3),
          batchSize: [16, 32, 64][i % 3]!,
          learningRate: LEARNING_RATES[i % 4]!,
          optimizer: 'ADAM',
          validationSplit: 0.2,
          seed: i,
          tags: i % 2 ? ['odd'] : ['even'],
          explainMethods: [],
          createdAt: new Date(base + i * 1000),
          ...(done
            ? {
                finalLoss: 1 / (i + 1),
                finalValLoss: 2 / (i + 1) + ((i * 7919) % 1000) / 1e6,
                bestValLoss: 1.5 / (i + 1),
                bestEpoch: 3,
                lastEpoch: 10,
              }
            : {}),
        }
      }),
    })
  }
  const insertMs = performance.now() - insertStart
  // A real database has statistics on its tables; right after a bulk insert the planner would have none.
  await db.$executeRawUnsafe('ANALYZE')
  console.log(`inserted ${fmt(runCount)} runs with createMany in ${fmt(insertMs)} ms (then ANALYZE)\n`)

  const pageOf = (data: unknown) => (data as RunsPage).runs
  const describe = (data: unknown) => {
    const p = pageOf(data)
    return `${p.edges.length} of ${fmt(p.totalCount)}`
  }
  const filter = { status: ['SUCCEEDED'], learningRate: { max: 0.01 } }
  const orderBy = [{ field: 'FINAL_VAL_LOSS', direction: 'ASC' }]
  const firstFiltered = await gql<RunsPage>(server.url, RUNS, { filter, orderBy, first: 100 })
  const cursor = firstFiltered.runs.pageInfo.endCursor
  if (!cursor || firstFiltered.runs.totalCount !== (runCount / 20) * 3) {
    throw new Error(`unexpected filtered page: ${JSON.stringify(firstFiltered.runs.pageInfo)}`)
  }
  const body = (variables: Record<string, unknown>) => JSON.stringify({ query: RUNS, variables })
  const variants: Variant[] = [
    { name: 'baseline: unfiltered, newest first', body: body({ first: 100 }), check: describe },
    {
      name: 'filtered, FINAL_VAL_LOSS ASC, page 1',
      body: body({ filter, orderBy, first: 100 }),
      check: describe,
    },
    {
      name: 'filtered, FINAL_VAL_LOSS ASC, page 2 (cursor)',
      body: body({ filter, orderBy, first: 100, after: cursor }),
      check: describe,
    },
  ]
  const rows = await measure(server, variants, requests, 5)
  printLatency(rows, requests)

  const statements = await printStatements(server, variants[1]!)
  await server.lab.stop()
  return { runs: runCount, insertMs, rows, statements }
}

/**
 * A run row inserted straight into the store (no training: the benches below write its epochs), with a
 * dataset and an experiment both named `name`; `fields` sets its name, status, epochs and the like.
 */
async function insertRun(
  server: CountingLab,
  name: string,
  fields: Pick<Prisma.RunUncheckedCreateInput, 'name' | 'status' | 'epochs' | 'attempt' | 'finalMetrics'>,
): Promise<{ id: string }> {
  const { generateDataset } = await gql<{ generateDataset: { id: string } }>(
    server.url,
    `mutation($name: String!) { generateDataset(input: { name: $name, generator: LINEAR, rows: 20, seed: 1 }) { id } }`,
    { name },
  )
  const experiment = await server.lab.db.experiment.create({ data: { name } })
  return server.lab.db.run.create({
    data: {
      experimentId: experiment.id,
      datasetId: generateDataset.id,
      hiddenLayers: [8],
      activation: 'RELU',
      batchSize: 32,
      learningRate: 0.001,
      optimizer: 'ADAM',
      validationSplit: 0.2,
      seed: 1,
      tags: [],
      explainMethods: [],
      ...fields,
    },
    select: { id: true },
  })
}

// ---------------------------------------------------------------------------------------------------------
// (b) metricHistory over 100,000 epochs

export async function benchMetricHistory(
  cleanups: Cleanups,
  opts: { quick: boolean },
): Promise<{ epochs: number; rows: LatencyRow[]; refused: string }> {
  const epochs = opts.quick ? 20_000 : 100_000
  const requests = opts.quick ? 10 : 50
  heading(`(b) metricHistory(metric: "loss", maxPoints: 1000) of a run with ${fmt(epochs)} epochs`)
  const server = await startCountingLab(cleanups)
  const db = server.lab.db
  const run = await insertRun(server, 'bench-history', {
    name: 'long-run',
    finalMetrics: { loss: 1e-5, valLoss: 2e-5, kl: 0 },
    status: 'SUCCEEDED',
    epochs,
  })
  // Rows as a trainer stores them: every metric also in "values" (a VAE-like kl among them), so the heap rows
  // are as wide as real ones and a named metric (read from "values") can be measured beside a column one.
  const insertStart = performance.now()
  await db.$executeRaw`
    INSERT INTO "EpochMetric" ("runId", epoch, loss, "valLoss", "durationMs", "values")
    SELECT ${run.id}::uuid, e, l, 2.0 / e, 1, jsonb_build_array(jsonb_build_object('name', 'loss', 'value', l),
           jsonb_build_object('name', 'valLoss', 'value', 2.0 / e), jsonb_build_object('name', 'kl', 'value', sin(e)))
    FROM generate_series(1, ${epochs}::int) AS e, LATERAL (SELECT 1.0 / e + CASE WHEN e = 54321 THEN 5 ELSE 0 END) AS x(l)`
  await db.$executeRawUnsafe('ANALYZE "EpochMetric"')
  await db.$executeRawUnsafe('ANALYZE "MetricBlock"')
  const blocks = await db.metricBlock.count({ where: { runId: run.id } })
  console.log(
    `inserted ${fmt(epochs)} epochs in ${fmt(performance.now() - insertStart)} ms (the triggers built ` +
      `${fmt(blocks)} metric blocks; then ANALYZE)\n`,
  )
  const history = (metric: string, max: number) =>
    JSON.stringify({ query: METRIC_HISTORY, variables: { id: run.id, max, metric } })
  // The first request of each metric after start-up: no cached plan, no warm connection for that statement.
  const first: Record<string, number> = {}
  for (const metric of ['loss', 'kl']) {
    const t0 = performance.now()
    await post(server.url, history(metric, 1000))
    first[metric] = performance.now() - t0
  }
  console.log(`first request after start-up: loss ${fmt(first.loss!, 1)} ms, kl ${fmt(first.kl!, 1)} ms\n`)

  const points = (data: unknown) => {
    const r = (data as { run: { metricHistory?: unknown[]; history?: unknown[] } }).run
    return `${fmt((r.metricHistory ?? r.history ?? []).length)} points`
  }
  const variants: Variant[] = [
    {
      name: 'baseline: history { epoch loss } (full resolution)',
      body: JSON.stringify({ query: FULL_HISTORY, variables: { id: run.id } }),
      check: points,
    },
    { name: 'metricHistory(loss, maxPoints: 1000)', body: history('loss', 1000), check: points },
    { name: 'metricHistory(kl, maxPoints: 1000) (from values)', body: history('kl', 1000), check: points },
    { name: 'metricHistory(loss, maxPoints: 10000) (the cap)', body: history('loss', 10_000), check: points },
  ]
  const rows = await measure(server, variants, requests, 3)
  printLatency(rows, requests)
  for (const v of variants.slice(0, 2)) await printStatements(server, v)
  await compareInSql(db, run.id, opts.quick ? 5 : 20)

  // Full resolution through metricHistory itself is not available: the API caps maxPoints.
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: METRIC_HISTORY, variables: { id: run.id, max: 100_000 } }),
  })
  const json = (await res.json()) as { errors?: GqlError[] }
  const refused = json.errors?.[0]
    ? `${json.errors[0].extensions?.code}: ${json.errors[0].message}`
    : 'accepted (no error)'
  console.log(`\nmetricHistory(maxPoints: 100000): ${refused}`)
  await server.lab.stop()
  return { epochs, rows, refused }
}

/**
 * The query metricHistory ran before MetricBlock (one pass over every EpochMetric row of the run, main at
 * d0921e9), kept here as the same-run baseline of the SQL alone.
 */
function previousMetricHistory(db: Db, runId: string, metric: string, maxPoints: number): Promise<Point[]> {
  const buckets = Math.floor((maxPoints - 2) / 2)
  const series =
    metric === 'loss'
      ? Prisma.sql`SELECT epoch, "loss" AS value FROM "EpochMetric" WHERE "runId" = ${runId}::uuid AND "loss" IS NOT NULL`
      : Prisma.sql`SELECT m.epoch, (v->>'value')::float8 AS value
          FROM "EpochMetric" m CROSS JOIN LATERAL jsonb_array_elements(m."values") v
          WHERE m."runId" = ${runId}::uuid AND v->>'name' = ${metric}`
  return db.$queryRaw<Point[]>`
    WITH st AS MATERIALIZED (SELECT count(*) AS n, min(epoch) AS e0, max(epoch) AS e1 FROM (${series}) c),
    p AS (
      SELECT epoch, value, (epoch - (SELECT e0 FROM st))::bigint AS i FROM (${series}) q
      WHERE (SELECT e1 - e0 + 1 = n FROM st)
      UNION ALL
      SELECT epoch, value, row_number() OVER (ORDER BY epoch) - 1 AS i FROM (${series}) q
      WHERE (SELECT e1 - e0 + 1 <> n FROM st)
    ), g AS (
      SELECT min(ARRAY[value, i, epoch]) AS lo, max(ARRAY[value, -i, epoch]) AS hi FROM p, st
      GROUP BY CASE WHEN n <= ${maxPoints} OR i = 0 OR i = n - 1 THEN -1 - i
        ELSE (i * ${buckets} - 1) / (n - 2) END
    )
    SELECT DISTINCT x[3]::int AS epoch, x[1] AS value FROM g CROSS JOIN LATERAL (VALUES (lo), (hi)) v(x)
    ORDER BY epoch`
}

/** The SQL alone, through Prisma as the server sends it: the previous query vs the blocks, interleaved. */
async function compareInSql(db: Db, runId: string, rounds: number): Promise<void> {
  const repo = new RunRepository(db)
  const rows: Record<string, string>[] = []
  for (const [metric, points] of [
    ['loss', 1000],
    ['kl', 1000],
    ['loss', 10_000],
  ] as const) {
    const before: number[] = []
    const after: number[] = []
    for (let round = -2; round < rounds; round++) {
      let t0 = performance.now()
      const old = await previousMetricHistory(db, runId, metric, points)
      const oldMs = performance.now() - t0
      t0 = performance.now()
      const now = await repo.metricHistory(runId, metric, points)
      const newMs = performance.now() - t0
      if (JSON.stringify(old) !== JSON.stringify(now)) throw new Error(`${metric}: the two queries disagree`)
      if (round < 0) continue
      before.push(oldMs)
      after.push(newMs)
    }
    rows.push({
      metric,
      points: fmt(points),
      'previous query p50 ms': fmt(median(before), 1),
      'MetricBlock p50 ms': fmt(median(after), 1),
      ratio: `${fmt(median(after) / median(before), 2)}x`,
    })
  }
  console.log(`\nSQL alone (Prisma $queryRaw), ${rounds} interleaved rounds, same points from both:`)
  printTable(rows)
}

// ---------------------------------------------------------------------------------------------------------
// (c) what the blocks cost each stored epoch

/**
 * recordEpoch, the trainer's one statement per epoch, with the MetricBlock insert trigger enabled and
 * disabled in alternate rounds on one RUNNING run: the per-epoch cost the blocks add to a run.
 */
export async function benchEpochWrites(
  cleanups: Cleanups,
  opts: { quick: boolean },
): Promise<{ withBlocks: number; without: number }> {
  const rounds = opts.quick ? 4 : 12
  const perRound = opts.quick ? 25 : 100
  heading(`(c) recordEpoch with and without the MetricBlock trigger, ${rounds} rounds of ${perRound} epochs`)
  const server = await startCountingLab(cleanups)
  const db = server.lab.db
  const run = await insertRun(server, 'bench-writes', {
    name: 'writer',
    status: 'RUNNING',
    attempt: 1,
    epochs: 1_000_000,
  })
  const repo = new RunRepository(db)
  const times = { with: [] as number[], without: [] as number[] }
  let epoch = 0
  for (let round = 0; round < rounds; round++) {
    const blocks = round % 2 === 0
    await db.$executeRawUnsafe(
      `ALTER TABLE "EpochMetric" ${blocks ? 'ENABLE' : 'DISABLE'} TRIGGER metric_blocks_insert`,
    )
    for (let k = 0; k < perRound; k++) {
      epoch++
      const metrics = [
        { name: 'loss', value: 1 / epoch },
        { name: 'valLoss', value: 2 / epoch },
        { name: 'kl', value: Math.sin(epoch) },
      ]
      const t0 = performance.now()
      if ((await repo.recordEpoch(run.id, 1, { epoch, metrics, durationMs: 1 })) === 'stale') {
        throw new Error('the bench run went stale')
      }
      ;(blocks ? times.with : times.without).push(performance.now() - t0)
    }
  }
  await db.$executeRawUnsafe('ALTER TABLE "EpochMetric" ENABLE TRIGGER metric_blocks_insert')
  const withBlocks = median(times.with)
  const without = median(times.without)
  printTable([
    {
      trigger: 'enabled',
      'epochs timed': String(times.with.length),
      'median ms': fmt(withBlocks, 3),
      'p95 ms': fmt(percentile(times.with, 95), 3),
    },
    {
      trigger: 'disabled',
      'epochs timed': String(times.without.length),
      'median ms': fmt(without, 3),
      'p95 ms': fmt(percentile(times.without, 95), 3),
    },
  ])
  console.log(`\nthe blocks add ${fmt(withBlocks - without, 3)} ms per stored epoch (median against median)`)
  await server.lab.stop()
  return { withBlocks, without }
}

// ---------------------------------------------------------------------------------------------------------

export interface QueriesBenchOptions {
  quick: boolean
  /** Sections to run ('a', 'b', 'c'); default all. */
  only?: string[]
}

async function run(cleanups: Cleanups, opts: QueriesBenchOptions): Promise<void> {
  requireCompiled()
  const want = (s: string) => !opts.only?.length || opts.only.includes(s)
  console.log(`# dashboard query benchmark${opts.quick ? ' (--quick)' : ''}\n\n${machineLine()}`)
  if (want('a')) await benchRunsQuery(cleanups, opts)
  if (want('b')) await benchMetricHistory(cleanups, opts)
  if (want('c')) await benchEpochWrites(cleanups, opts)
  console.log(`\n${machineLine()}`)
}

/** The whole benchmark; stops its servers and drops its databases before returning. */
export async function main(opts: QueriesBenchOptions): Promise<void> {
  const cleanups = new Cleanups()
  try {
    await run(cleanups, opts)
  } finally {
    await cleanups.run()
  }
}

if (require.main === module) {
  runMain(async (cleanups) => {
    const args = parseBenchArgs()
    await run(cleanups, { quick: args.quick, only: args.only })
  })
}
