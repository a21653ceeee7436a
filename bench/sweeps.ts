/**
 * A server-driven GRID sweep of 8 short runs with one trainer process against two.
 *
 * For LAB_WORKERS=1 and then LAB_WORKERS=2 (each on a fresh database, with the real server in this process on
 * port 0 and its trainers as child processes): a 2,000-row LINEAR dataset is generated, then `startSweep` runs a
 * GRID over learningRate (4 values) x hiddenLayers (2 values) with epochs 3, batch 32, `explain: []` (training
 * only) and maxConcurrent 2 in both cases: once untimed as a warm-up (tfjs start-up, first pass through each
 * network shape), then 3 timed repetitions (1 with --quick), each a new sweep on the same server.
 *
 * Measured: wall time from the `startSweep` request until `sweep.status` reads FINISHED (polled every 50 ms), the
 * server's own finishedAt - createdAt, how many trainers took runs, the trainers' busy share (sum of the runs'
 * startedAt..finishedAt over wall time x workers), and the mean idle gap of a trainer between two runs of the
 * sweep (a run's finishedAt to the same trainer's next startedAt). The speed-up is the median 1-worker wall time
 * over the median 2-worker one. On this 2-core machine two trainers also compete with the API, PostgreSQL and
 * anything else running: the ideal is 2x, expect less.
 *
 * Run (compiled; the server needs decorator metadata): `npx tsc -p tsconfig.build.json && node
 * dist/bench/sweeps.js [--quick] [--backend wasm|cpu]`.
 */
import 'reflect-metadata'

import type { BackendName } from '../src/training/backend'
import {
  Cleanups,
  fmt,
  gql,
  heading,
  machineLine,
  median,
  parseBenchArgs,
  printTable,
  requireCompiled,
  runMain,
  sleep,
  startInProcessServer,
} from './support'

const SWEEP_FIELDS = `id status error runCap runCount finishedCount createdAt finishedAt
  runs(first: 100) { edges { node { id status backend error startedAt finishedAt lastEpoch } } }`
const START_SWEEP = `mutation($input: SweepInput!) { startSweep(input: $input) { ${SWEEP_FIELDS} } }`
const GET_SWEEP = `query($id: ID!) { sweep(id: $id) { ${SWEEP_FIELDS} } }`

interface SweepView {
  id: string
  status: string
  error: string | null
  runCap: number
  runCount: number
  finishedCount: number
  createdAt: string
  finishedAt: string | null
  runs: {
    edges: {
      node: {
        id: string
        status: string
        backend: string | null
        error: string | null
        startedAt: string | null
        finishedAt: string | null
        lastEpoch: number
      }
    }[]
  }
}

export interface SweepTiming {
  workers: number
  repetition: number
  wallMs: number
  /** finishedAt - createdAt of the sweep row (the server's clock). */
  serverMs: number
  runs: number
  trainersUsed: number
  backend: string
  meanRunMs: number
  /** Mean time a trainer sat idle between two runs of the sweep (finishedAt -> its next startedAt). */
  meanGapMs: number
  /** Sum of the runs' startedAt..finishedAt over (wall time x workers). */
  busyShare: number
}

interface SweepSettings {
  rows: number
  epochs: number
  repetitions: number
}

async function sweepOnce(
  url: string,
  lab: Awaited<ReturnType<typeof startInProcessServer>>['lab'],
  datasetId: string,
  workers: number,
  repetition: number,
  settings: SweepSettings,
): Promise<SweepTiming> {
  const input = {
    experiment: `bench-sweep-w${workers}-r${repetition}`,
    datasetId,
    method: 'GRID',
    parameters: [
      { name: 'learningRate', values: [0.03, 0.01, 0.003, 0.001] },
      {
        name: 'hiddenLayers',
        values: [
          [64, 32],
          [128, 64, 32, 16],
        ],
      },
    ],
    // base is a StartRunInput, whose datasetId is required by the schema (and ignored by the sweep).
    base: { datasetId, epochs: settings.epochs, batchSize: 32, validationSplit: 0.2, seed: 1, explain: [] },
    metric: 'valLoss',
    goal: 'MINIMIZE',
    maxConcurrent: 2,
  }
  const t0 = performance.now()
  const started = await gql<{ startSweep: SweepView }>(url, START_SWEEP, { input })
  const id = started.startSweep.id
  let sweep = started.startSweep
  const deadline = Date.now() + 600_000
  while (sweep.status === 'RUNNING') {
    if (Date.now() > deadline) throw new Error(`sweep ${id} still RUNNING after 600 s`)
    await sleep(50)
    sweep = (await gql<{ sweep: SweepView }>(url, GET_SWEEP, { id })).sweep
  }
  const wallMs = performance.now() - t0
  if (sweep.status !== 'FINISHED') throw new Error(`sweep ${id} ended ${sweep.status}: ${sweep.error}`)
  const runs = sweep.runs.edges.map((e) => e.node)
  const failed = runs.filter((r) => r.status !== 'SUCCEEDED')
  if (failed.length > 0 || runs.length !== 8) {
    throw new Error(`sweep ${id}: ${runs.length} runs, not succeeded: ${JSON.stringify(failed)}`)
  }
  const durations = runs.map((r) => Date.parse(r.finishedAt ?? '') - Date.parse(r.startedAt ?? ''))
  const trainers = await lab.db.run.findMany({
    where: { sweepId: id },
    select: { workerId: true, startedAt: true, finishedAt: true },
  })
  // Idle time of a trainer between finishing one run of the sweep and starting its next one.
  const gaps: number[] = []
  for (const worker of new Set(trainers.map((t) => t.workerId))) {
    const mine = trainers
      .filter((t) => t.workerId === worker && t.startedAt && t.finishedAt)
      .sort((a, b) => a.startedAt!.getTime() - b.startedAt!.getTime())
    for (let i = 1; i < mine.length; i++) {
      gaps.push(mine[i]!.startedAt!.getTime() - mine[i - 1]!.finishedAt!.getTime())
    }
  }
  return {
    workers,
    repetition,
    wallMs,
    serverMs: Date.parse(sweep.finishedAt ?? '') - Date.parse(sweep.createdAt),
    runs: runs.length,
    trainersUsed: new Set(trainers.map((t) => t.workerId)).size,
    backend: [...new Set(runs.map((r) => r.backend))].join(','),
    meanRunMs: durations.reduce((s, d) => s + d, 0) / durations.length,
    meanGapMs: gaps.length > 0 ? gaps.reduce((s, g) => s + g, 0) / gaps.length : Number.NaN,
    busyShare: durations.reduce((s, d) => s + d, 0) / (wallMs * workers),
  }
}

async function measureWorkers(
  cleanups: Cleanups,
  workers: number,
  settings: SweepSettings,
  backend: BackendName | undefined,
): Promise<SweepTiming[]> {
  const server = await startInProcessServer(cleanups, {
    LAB_WORKERS: String(workers),
    ...(backend ? { LAB_TF_BACKEND: backend } : {}),
  })
  try {
    const datasetId = (
      await gql<{ generateDataset: { id: string } }>(
        server.url,
        `mutation($rows: Int!) { generateDataset(input: { name: "bench-sweep", generator: LINEAR, rows: $rows,
          noise: 0.1, seed: 1 }) { id } }`,
        { rows: settings.rows },
      )
    ).generateDataset.id
    // Warm-up: one untimed sweep with the same settings, so every trainer has loaded tfjs and its backend and
    // has run these very networks once (the first pass through a network shape is markedly slower).
    await sweepOnce(server.url, server.lab, datasetId, workers, 0, settings)
    const out: SweepTiming[] = []
    for (let r = 1; r <= settings.repetitions; r++) {
      out.push(await sweepOnce(server.url, server.lab, datasetId, workers, r, settings))
    }
    return out
  } finally {
    await server.stop()
  }
}

export interface SweepBenchOptions {
  quick: boolean
  backend?: BackendName
}

export interface SweepBenchResult {
  timings: SweepTiming[]
  /** Median 1-worker wall time over median 2-worker wall time. */
  speedUp: number
}

async function run(cleanups: Cleanups, opts: SweepBenchOptions): Promise<SweepBenchResult> {
  requireCompiled()
  const settings: SweepSettings = opts.quick
    ? { rows: 1000, epochs: 1, repetitions: 1 }
    : { rows: 2000, epochs: 3, repetitions: 3 }
  console.log(`# sweep benchmark${opts.quick ? ' (--quick)' : ''}\n\n${machineLine()}`)
  heading(
    `GRID sweep, 8 runs (learningRate x 4, hiddenLayers [64,32] / [128,64,32,16]), ${settings.epochs} epochs ` +
      `on ${fmt(settings.rows)} LINEAR rows, explain: [], maxConcurrent 2`,
  )
  const timings: SweepTiming[] = []
  for (const workers of [1, 2]) {
    timings.push(...(await measureWorkers(cleanups, workers, settings, opts.backend)))
    console.log(`LAB_WORKERS=${workers} done | ${machineLine()}`)
  }
  const wall = (w: number) => median(timings.filter((t) => t.workers === w).map((t) => t.wallMs))
  const speedUp = wall(1) / wall(2)
  console.log('')
  printTable(
    timings.map((t) => ({
      LAB_WORKERS: t.workers,
      repetition: t.repetition,
      'wall s (startSweep -> FINISHED)': fmt(t.wallMs / 1000, 2),
      'server s (createdAt..finishedAt)': fmt(t.serverMs / 1000, 2),
      'trainers used': t.trainersUsed,
      'mean run s': fmt(t.meanRunMs / 1000, 2),
      'mean idle gap s': fmt(t.meanGapMs / 1000, 2),
      'trainer busy share': `${fmt(100 * t.busyShare, 0)} %`,
      backend: t.backend,
    })),
  )
  console.log(
    `\nmedian wall time: 1 worker ${fmt(wall(1) / 1000, 2)} s, 2 workers ${fmt(wall(2) / 1000, 2)} s -> ` +
      `speed-up ${fmt(speedUp, 2)}x (ideal 2x)\n\n${machineLine()}`,
  )
  return { timings, speedUp }
}

/** The whole benchmark; stops its servers and drops its databases before returning. */
export async function main(opts: SweepBenchOptions): Promise<SweepBenchResult> {
  const cleanups = new Cleanups()
  try {
    return await run(cleanups, opts)
  } finally {
    await cleanups.run()
  }
}

if (require.main === module) {
  runMain(async (cleanups) => {
    const args = parseBenchArgs()
    await run(cleanups, { quick: args.quick, ...(args.backend ? { backend: args.backend } : {}) })
  })
}
