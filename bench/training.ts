/**
 * Training benchmarks through the platform (GraphQL -> queue -> trainer process -> PostgreSQL -> graphql-ws):
 *
 * (a) throughput of a run against `train()` called directly in this process on the same rows, network, seed
 *     and backend (and, without --quick, a bare tfjs `model.fit` from bench/train-overhead.ts). Target: the
 *     platform costs at most 3 % (issue #12).
 * (b) epoch-to-subscriber latency: a graphql-ws client's receive time minus the epoch's stored `createdAt`,
 *     with 1 and with 100 subscribers on one run. Target: p99 under 50 ms. `BENCH_DUMP=/tmp/lat` also writes
 *     the per-epoch min/median/max latency to /tmp/lat-<subscribers>.txt.
 * (c) a trainer's resident memory after 1, 10, 50 and 100 runs (with the default explanations) in the same
 *     process, with the lowest and highest RSS sampled in between. Target: flat.
 * (d) eight runs of issue #12's reference run (FRIEDMAN1 2,000 rows, 20 epochs) with LAB_WORKERS=1 against
 *     LAB_WORKERS=2, 3 rounds with the order alternated (wall time, speed-up). Target: at least 1.7x.
 *
 * Run (compiled; the server needs decorator metadata): `npx tsc -p tsconfig.build.json && node
 * dist/bench/training.js [--quick] [--backend wasm|cpu|tensorflow] [--only a,b,c,d] [--memory-runs N]`.
 */
import fs from 'node:fs'
import os from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'

import pg from 'pg'
import type { Client } from 'graphql-ws'

import type { BackendName } from '../src/training/backend'
import { selectBackend } from '../src/training/backend'
import type { TrainData, TrainSpec } from '../src/models/mlp/spec'
import { train } from '../src/models/mlp/train'
import { measureTrainOverhead } from './train-overhead'
import {
  BenchArgs,
  childPids,
  Cleanups,
  createBenchDatabase,
  datasetInput,
  fmt,
  getRun,
  gql,
  heading,
  loadLine,
  machineLine,
  mb,
  median,
  parseBenchArgs,
  percentile,
  printTable,
  procCpuMs,
  procMemory,
  referenceRows,
  requireCompiled,
  runMain,
  sleep,
  startChildServer,
  startInProcessServer,
  startRun,
  waitForRuns,
  wsClient,
} from './support'

const REFERENCE_LAYERS = [128, 64, 32, 16]
const FEATURES = 20

async function createDataset(url: string, input: Record<string, unknown>): Promise<string> {
  const data = await gql<{ createDataset: { id: string } }>(
    url,
    `mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`,
    { input },
  )
  return data.createDataset.id
}

async function generateDataset(url: string, input: Record<string, unknown>): Promise<string> {
  const data = await gql<{ generateDataset: { id: string } }>(
    url,
    `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
    { input },
  )
  return data.generateDataset.id
}

async function withPg<T>(databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0)

// ---------------------------------------------------------------------------------------------------------
// (a) throughput

interface ThroughputSample {
  /** Training rows per second of the epochs' own durations (training + validation, as stored). */
  epochSps: number
  /** Per second of the whole run: the platform's startedAt..finishedAt, or the train() call. */
  wallSps: number
  wallMs: number
  /**
   * Wall time outside the epochs' own durations: set-up, storing, announcing, the model. Far less sensitive to
   * load than the epochs, whose computation is the same on both sides.
   */
  outsideMs: number
  /**
   * Per CPU-second of the process that trained (the trainer, or this one): far less sensitive than wall time
   * to other load on the machine. For the platform it covers the trainer's queue, heartbeats and writes, but
   * not PostgreSQL's or the API's CPU.
   */
  cpuSps: number
  finalLoss: number
  /** Platform only: startRun sent to the terminal status seen by a client polling every 50 ms. */
  endToEndMs?: number
  /** Platform only: startedAt to the first epoch's start (dataset from PostgreSQL, tensors, model). */
  setupMs?: number
  /** Platform only: the last epoch stored to finishedAt (artifacts, explanations, model stored). */
  finishMs?: number
  /**
   * Platform only: per epoch, the time between two stored epochs that is not the later epoch's own duration
   * (storing and announcing the epoch, the trainer's event-loop turn).
   */
  hookMs?: number
}

async function sectionThroughput(cleanups: Cleanups, args: BenchArgs, backend: BackendName): Promise<void> {
  const rows = 5000
  const epochs = args.quick ? 3 : 5
  const rounds = args.quick ? 1 : 5
  heading(
    `(a) throughput: ${fmt(rows)} x ${FEATURES}, Dense ${REFERENCE_LAYERS.join('-')}-1, batch 32, ` +
      `${epochs} epochs, ${backend}; median of ${rounds} round(s), sides alternated`,
  )
  const server = await startInProcessServer(cleanups, { LAB_WORKERS: '1', LAB_TF_BACKEND: backend })
  const data = referenceRows(rows, FEATURES)
  const datasetId = await createDataset(
    server.url,
    datasetInput('reference', 'BINARY_CLASSIFICATION', FEATURES, data),
  )
  const trainData: TrainData = {
    features: data.features,
    targets: data.targets,
    rowCount: rows,
    featureCount: FEATURES,
  }
  const spec = (e: number): TrainSpec => ({
    task: 'BINARY_CLASSIFICATION',
    hiddenLayers: REFERENCE_LAYERS,
    activation: 'RELU',
    epochs: e,
    batchSize: 32,
    learningRate: 0.001,
    optimizer: 'ADAM',
    validationSplit: 0.2,
    seed: 1,
  })
  const runInput = (e: number, explain: boolean) => ({
    datasetId,
    ...(explain ? {} : { explain: [] }),
    experiment: 'bench-throughput',
    hiddenLayers: REFERENCE_LAYERS,
    activation: 'RELU',
    epochs: e,
    batchSize: 32,
    learningRate: 0.001,
    optimizer: 'ADAM',
    validationSplit: 0.2,
    seed: 1,
  })
  const trainRows = Math.floor(rows * (1 - 0.2))

  const trainerPid = server.lab.app.pool?.pids()[0]
  if (trainerPid === undefined) throw new Error('no trainer process')
  const platform = async (e: number, explain = false): Promise<ThroughputSample> => {
    const start = performance.now()
    const cpuStart = procCpuMs(trainerPid)
    const id = await startRun(server.url, runInput(e, explain))
    const [run] = await waitForRuns(server.url, [id], { intervalMs: 50 })
    const endToEndMs = performance.now() - start
    const cpuMs = procCpuMs(trainerPid) - cpuStart
    if (!run?.startedAt || !run.finishedAt) throw new Error(`run ${id} has no start or finish time`)
    if (run.backend !== backend) throw new Error(`the trainer used ${run.backend}, not ${backend}`)
    const startedAt = Date.parse(run.startedAt)
    const finishedAt = Date.parse(run.finishedAt)
    const wallMs = finishedAt - startedAt
    const stored = await withPg(server.databaseUrl, async (client) => {
      const { rows: r } = await client.query<{ first: number; last: number }>(
        `SELECT round(extract(epoch from min("createdAt")) * 1000)::float8 AS first,
                round(extract(epoch from max("createdAt")) * 1000)::float8 AS last
           FROM "EpochMetric" WHERE "runId" = $1`,
        [id],
      )
      return r[0]
    })
    return {
      epochSps: (trainRows * e) / (sum(run.history.map((h) => h.durationMs)) / 1000),
      wallSps: (trainRows * e) / (wallMs / 1000),
      wallMs,
      outsideMs: wallMs - sum(run.history.map((h) => h.durationMs)),
      cpuSps: (trainRows * e) / (cpuMs / 1000),
      finalLoss: run.history.at(-1)?.loss ?? Number.NaN,
      endToEndMs,
      ...(stored
        ? {
            setupMs: stored.first - (run.history[0]?.durationMs ?? 0) - startedAt,
            finishMs: finishedAt - stored.last,
            hookMs:
              e > 1
                ? (stored.last - stored.first - sum(run.history.slice(1).map((h) => h.durationMs))) / (e - 1)
                : 0,
          }
        : {}),
    }
  }
  const local = async (e: number): Promise<ThroughputSample> => {
    const start = performance.now()
    const cpuStart = process.cpuUsage()
    const result = await train(trainData, spec(e), { onEpoch: () => undefined })
    const wallMs = performance.now() - start
    const cpu = process.cpuUsage(cpuStart)
    if (result.backend !== backend) throw new Error(`train() used ${result.backend}, not ${backend}`)
    return {
      epochSps: (trainRows * e) / (sum(result.history.map((h) => h.durationMs)) / 1000),
      wallSps: (trainRows * e) / (wallMs / 1000),
      wallMs,
      outsideMs: wallMs - sum(result.history.map((h) => h.durationMs)),
      cpuSps: (trainRows * e) / ((cpu.user + cpu.system) / 1e6),
      finalLoss: result.history.at(-1)?.loss ?? Number.NaN,
    }
  }

  // Warm-up: the trainer's first run and this process's first train() pay for JIT and kernel set-up.
  await platform(1)
  await local(1)
  const platformSamples: ThroughputSample[] = []
  const localSamples: ThroughputSample[] = []
  for (let round = 0; round < rounds; round++) {
    platformSamples.push(await platform(epochs))
    localSamples.push(await local(epochs))
  }
  // What the default (every explanation method) adds after training; not part of the overhead figure.
  const explained = args.quick ? undefined : await platform(epochs, true)
  await server.stop()

  const med = (
    samples: ThroughputSample[],
    key:
      | 'epochSps'
      | 'wallSps'
      | 'cpuSps'
      | 'wallMs'
      | 'outsideMs'
      | 'endToEndMs'
      | 'setupMs'
      | 'finishMs'
      | 'hookMs',
  ) => median(samples.map((s) => s[key] ?? Number.NaN))
  const row = (side: string, x: Partial<ThroughputSample> & { rounds?: number }) => ({
    side,
    'samples/s (epochs)': x.epochSps !== undefined ? fmt(x.epochSps) : '',
    'samples/s (wall)': x.wallSps !== undefined ? fmt(x.wallSps) : '',
    'samples per CPU-s': x.cpuSps !== undefined ? fmt(x.cpuSps) : '',
    'wall s': x.wallMs !== undefined ? fmt(x.wallMs / 1000, 2) : '',
    'outside epochs ms': x.outsideMs !== undefined ? fmt(x.outsideMs, 0) : '',
    'final loss': x.finalLoss !== undefined ? x.finalLoss.toPrecision(8) : '',
  })
  const summary = (samples: ThroughputSample[]): Partial<ThroughputSample> => ({
    epochSps: med(samples, 'epochSps'),
    wallSps: med(samples, 'wallSps'),
    cpuSps: med(samples, 'cpuSps'),
    wallMs: med(samples, 'wallMs'),
    outsideMs: med(samples, 'outsideMs'),
    ...(samples[0] ? { finalLoss: samples[0].finalLoss } : {}),
  })
  const rowsOut: Record<string, string>[] = []
  if (!args.quick) {
    // Same backend, same process, same rows and network (3 epochs, 3 rounds): the cost of train() itself.
    const bare = await measureTrainOverhead(backend)
    if (bare) {
      rowsOut.push(
        row('bare model.fit, 3 epochs (train-overhead.ts)', { wallSps: bare.bareFitSamplesPerSecond }),
      )
      rowsOut.push(row('train(), 3 epochs (train-overhead.ts)', { wallSps: bare.trainSamplesPerSecond }))
    }
  }
  const localMed = summary(localSamples)
  const platMed = summary(platformSamples)
  rowsOut.push(row(`train() in this process (baseline), ${epochs} epochs`, localMed))
  rowsOut.push(row(`platform run (trainer process), ${epochs} epochs`, platMed))
  if (explained) rowsOut.push(row('platform run with the default explanations (1 run)', explained))
  printTable(rowsOut)

  const pct = (baseline: number | undefined, measured: number | undefined) =>
    baseline && measured ? (baseline / measured - 1) * 100 : Number.NaN
  // Best of the rounds as well as the median: on a loaded machine the fastest round is the least disturbed.
  const best = (samples: ThroughputSample[], key: 'epochSps' | 'wallSps' | 'cpuSps') =>
    Math.max(...samples.map((x) => x[key]))
  const overheads = {
    epochs: pct(localMed.epochSps, platMed.epochSps),
    wall: pct(localMed.wallSps, platMed.wallSps),
    cpu: pct(localMed.cpuSps, platMed.cpuSps),
    bestEpochs: pct(best(localSamples, 'epochSps'), best(platformSamples, 'epochSps')),
    bestWall: pct(best(localSamples, 'wallSps'), best(platformSamples, 'wallSps')),
    bestCpu: pct(best(localSamples, 'cpuSps'), best(platformSamples, 'cpuSps')),
  }
  printTable([
    {
      'platform overhead vs train()': 'median of rounds',
      'on epoch durations': `${fmt(overheads.epochs, 1)} %`,
      'on wall time': `${fmt(overheads.wall, 1)} %`,
      'on CPU time': `${fmt(overheads.cpu, 1)} %`,
    },
    {
      'platform overhead vs train()': 'best round of each side',
      'on epoch durations': `${fmt(overheads.bestEpochs, 1)} %`,
      'on wall time': `${fmt(overheads.bestWall, 1)} %`,
      'on CPU time': `${fmt(overheads.bestCpu, 1)} %`,
    },
  ])
  console.log(
    `\nwall time = startedAt..finishedAt: the dataset loaded from PostgreSQL, every epoch stored and announced, ` +
      `the model stored; CPU time = the trainer process's (not PostgreSQL's or the API's)`,
  )
  // The platform's extra time outside the epochs, per round, against the same round's baseline wall time.
  const outsidePct = platformSamples.map(
    (p, i) => ((p.outsideMs - (localSamples[i]?.outsideMs ?? 0)) / (localSamples[i]?.wallMs ?? 1)) * 100,
  )
  console.log(
    `time outside the epochs, platform - train(), as % of train()'s wall time: per round ` +
      `${outsidePct.map((x) => fmt(x, 1)).join(', ')}; median ${fmt(median(outsidePct), 1)} % ` +
      `(what the platform adds around the same epochs; the rest of the wall-time overhead is the epochs' own ` +
      `durations, which load moves by more than the target on either side)`,
  )
  const perRound = (key: 'epochSps' | 'wallSps' | 'cpuSps') =>
    platformSamples.map((p, i) => fmt(((localSamples[i]?.[key] ?? 0) / p[key] - 1) * 100, 0)).join(', ')
  console.log(
    `per round, % (epochs | wall | CPU): ${perRound('epochSps')} | ${perRound('wallSps')} | ${perRound('cpuSps')}`,
  )
  console.log(
    `startRun -> SUCCEEDED seen by a client (adds the queue pick-up, polled every 50 ms): ` +
      `median ${fmt(med(platformSamples, 'endToEndMs') / 1000, 2)} s`,
  )
  console.log(
    `platform run timeline (median): setup ${fmt(med(platformSamples, 'setupMs'), 0)} ms (claim to first ` +
      `epoch: dataset from PostgreSQL, tensors, model), ${fmt(med(platformSamples, 'hookMs'), 0)} ms per epoch ` +
      `outside the epoch's duration (store and announce), finish ${fmt(med(platformSamples, 'finishMs'), 0)} ms ` +
      `(last epoch stored to SUCCEEDED: artifacts, model stored)` +
      (explained?.finishMs !== undefined
        ? `; with the default explanations finish takes ${fmt(explained.finishMs / 1000, 2)} s`
        : ''),
  )
  const same = platformSamples.every((p, i) => p.finalLoss === localSamples[i]?.finalLoss)
  console.log(`same seed, same backend -> identical final loss on both sides: ${same ? 'yes' : 'NO'}`)
  if (!args.quick) {
    const verdict = (x: number) => (x <= 3 ? 'met' : 'NOT met')
    console.log(
      `target: overhead at most 3 %: on wall time ${verdict(overheads.wall)} (median), ` +
        `${verdict(overheads.bestWall)} (best round); on CPU time ${verdict(overheads.cpu)} (median), ` +
        `${verdict(overheads.bestCpu)} (best round)`,
    )
  }
}

// ---------------------------------------------------------------------------------------------------------
// (b) epoch-to-subscriber latency

/**
 * Waits until process `pid` has used under 10 % of a core over the last 500 ms (at most 20 s); resolves to
 * the time waited.
 */
async function waitForIdle(pid: number): Promise<number> {
  const start = performance.now()
  let last = procCpuMs(pid)
  while (performance.now() - start < 20_000) {
    await sleep(500)
    const now = procCpuMs(pid)
    if (now - last < 50) break
    last = now
  }
  return performance.now() - start
}

const EVENTS = `subscription($runId: ID!) { runEvents(runId: $runId) {
  __typename
  ... on EpochCompleted { metric { epoch } }
  ... on RunStatusChanged { status } } }`

/** Epochs counted as the start of a run in the latency figures. */
const START_EPOCHS = 20

interface Received {
  /** epoch -> Date.now() when the client got it. */
  epochs: Map<number, number>
  /** The first event was RUNNING: the subscription was live before training began. */
  liveFromStart: boolean
  first: string | undefined
  /** Epochs that arrived twice or after a later one (the API promises each once, in order). */
  outOfOrder: number
}

function subscribe(client: Client, runId: string): { received: Received; done: Promise<void> } {
  const received: Received = { epochs: new Map(), liveFromStart: false, first: undefined, outOfOrder: 0 }
  let lastEpoch = 0
  const done = new Promise<void>((resolve, reject) => {
    client.subscribe<{ runEvents: { __typename: string; metric?: { epoch: number }; status?: string } }>(
      { query: EVENTS, variables: { runId } },
      {
        next: (value) => {
          const now = Date.now()
          const event = value.data?.runEvents
          if (!event) return reject(new Error(JSON.stringify(value.errors)))
          if (received.first === undefined) {
            received.first = event.status ?? event.__typename
            received.liveFromStart = event.status === 'RUNNING'
          }
          if (event.metric) {
            if (event.metric.epoch <= lastEpoch) received.outOfOrder++
            lastEpoch = Math.max(lastEpoch, event.metric.epoch)
            received.epochs.set(event.metric.epoch, now)
          }
        },
        error: (err) => reject(err instanceof Error ? err : new Error(JSON.stringify(err))),
        complete: () => resolve(),
      },
    )
  })
  return { received, done }
}

/** One row of (b): how many subscribers, on what run. */
interface LatencyCase {
  label: string
  subscribers: number
  dataset: 'tiny' | 'reference'
  epochs: number
  hiddenLayers: number[]
}

async function sectionLatency(cleanups: Cleanups, args: BenchArgs, backend: BackendName): Promise<void> {
  const epochs = args.quick ? 40 : 200
  const stress = (subscribers: number): LatencyCase => ({
    label: `${subscribers}, stress run`,
    subscribers,
    dataset: 'tiny',
    epochs,
    hiddenLayers: [4],
  })
  // Issue #12's reference run: epochs at the platform's real rate, a few hundred ms each.
  const reference: LatencyCase = {
    label: '100, reference run',
    subscribers: 100,
    dataset: 'reference',
    epochs: args.quick ? 5 : 20,
    hiddenLayers: REFERENCE_LAYERS,
  }
  const cases = [stress(1), stress(100), reference]
  heading(
    `(b) epoch -> graphql-ws subscriber latency, ${backend}; server in its own process, clients here. ` +
      `Stress run: ${epochs} epochs, Dense 4-1, 100 rows (LINEAR). Reference run (issue #12): ` +
      `FRIEDMAN1 2,000 x 10, Dense ${REFERENCE_LAYERS.join('-')}-1, ${reference.epochs} epochs`,
  )
  const server = await startChildServer(cleanups, { LAB_WORKERS: '1', LAB_TF_BACKEND: backend })
  const tinyId = await generateDataset(server.url, {
    name: 'tiny',
    generator: 'LINEAR',
    rows: 100,
    seed: 1,
  })
  const referenceId = await generateDataset(server.url, {
    name: 'friedman-2k',
    generator: 'FRIEDMAN1',
    rows: 2000,
    seed: 1,
  })
  const out: Record<string, string>[] = []
  const verdicts: string[] = []
  for (const [k, c] of cases.entries()) {
    const { subscribers } = c
    // A long run occupies the only trainer while the subscribers connect, so that every one of them is
    // subscribed before the measured run's first epoch; it is cancelled once they are.
    const blocker = await startRun(server.url, {
      datasetId: tinyId,
      epochs: 10_000,
      hiddenLayers: [4],
      seed: 99 + k,
      explain: [],
    })
    const runId = await startRun(server.url, {
      datasetId: c.dataset === 'tiny' ? tinyId : referenceId,
      epochs: c.epochs,
      hiddenLayers: c.hiddenLayers,
      seed: 1 + k,
      explain: [],
    })
    const clients = Array.from({ length: subscribers }, () => wsClient(server.wsUrl))
    const disposeAll = () => Promise.all(clients.map(({ client }) => client.dispose()))
    cleanups.add(disposeAll)
    await Promise.all(clients.map((c) => c.connected))
    const subs = clients.map(({ client }) => subscribe(client, runId))
    // Each subscription reads the store when it starts (the run, its stored epochs); on a loaded machine 100
    // of them take longer than a second, and what is left of that work would land on the first epochs.
    await sleep(1000)
    const settledMs = await waitForIdle(server.pid)
    // CPU used while the measured run streams: where the time goes when latency grows.
    const trainers = childPids(server.pid)
    const cpuBefore = {
      api: procCpuMs(server.pid),
      trainers: sum(trainers.map(procCpuMs)),
      clients: process.cpuUsage(),
    }
    // How long this process's event loop kept a received message waiting: the clients' share of latency.
    const clientLoop = monitorEventLoopDelay({ resolution: 1 })
    clientLoop.enable()
    const wallStart = performance.now()
    await gql(server.url, `mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: blocker })
    await Promise.race([
      Promise.all(subs.map((s) => s.done)),
      sleep(300_000).then(() => Promise.reject(new Error('subscriptions did not complete within 300 s'))),
    ])
    const wallMs = performance.now() - wallStart
    clientLoop.disable()
    const clientCpu = process.cpuUsage(cpuBefore.clients)
    const cpu = {
      api: (procCpuMs(server.pid) - cpuBefore.api) / wallMs,
      trainers: (sum(trainers.map(procCpuMs)) - cpuBefore.trainers) / wallMs,
      clients: (clientCpu.user + clientCpu.system) / 1000 / wallMs,
    }
    await disposeAll()

    const stored = await withPg(server.databaseUrl, async (client) => {
      const { rows } = await client.query<{ epoch: number; ms: number }>(
        `SELECT epoch, round(extract(epoch from "createdAt") * 1000)::float8 AS ms
           FROM "EpochMetric" WHERE "runId" = $1 ORDER BY epoch`,
        [runId],
      )
      return rows
    })
    if (stored.length !== c.epochs) throw new Error(`stored ${stored.length} epochs, expected ${c.epochs}`)
    const latencies: number[] = []
    // The first epochs of a run arrive later than the rest (see bench/README.md): reported apart.
    const early: number[] = []
    const late: number[] = []
    let missing = 0
    for (const { received } of subs) {
      for (const { epoch, ms } of stored) {
        const at = received.epochs.get(epoch)
        if (at === undefined) missing++
        else {
          latencies.push(at - ms)
          if (epoch <= START_EPOCHS) early.push(at - ms)
          else late.push(at - ms)
        }
      }
    }
    // Per epoch, last subscriber served minus first: the time the API takes to fan one epoch out.
    const spreads = stored.map(({ epoch }) => {
      const times = subs.map((sub) => sub.received.epochs.get(epoch)).filter((t) => t !== undefined)
      return times.length > 0 ? Math.max(...times) - Math.min(...times) : 0
    })
    const dump = process.env['BENCH_DUMP']
    if (dump) {
      // One line per epoch: epoch, stored at (ms), min / median / max latency over the subscribers.
      const perEpoch = stored.map(({ epoch, ms }) => {
        const lat = subs.map((sub) => (sub.received.epochs.get(epoch) ?? Number.NaN) - ms)
        return `${epoch} ${ms} ${Math.min(...lat)} ${median(lat)} ${Math.max(...lat)}`
      })
      fs.writeFileSync(`${dump}-${subscribers}-${c.dataset}.txt`, `${perEpoch.join('\n')}\n`)
    }
    const live = subs.filter((s) => s.received.liveFromStart).length
    const gaps = stored.slice(1).map((s, i) => s.ms - (stored[i]?.ms ?? s.ms))
    const p99 = percentile(latencies, 99)
    verdicts.push(`${c.label}: p99 ${fmt(p99)} ms, ${p99 <= 50 ? 'met' : 'NOT met'}`)
    out.push({
      subscribers: c.label,
      'epochs received': `${fmt(latencies.length)} of ${fmt(subscribers * c.epochs)}`,
      'live from start': `${live} of ${subscribers}`,
      'epoch every (ms)': fmt(median(gaps), 0),
      'p50 ms': fmt(percentile(latencies, 50)),
      'p95 ms': fmt(percentile(latencies, 95)),
      'p99 ms': fmt(p99),
      'max ms': fmt(percentile(latencies, 100)),
      'fan-out spread p50 ms': subscribers > 1 ? fmt(median(spreads)) : '',
      [`p50/p99 epochs 1-${START_EPOCHS}`]: `${fmt(median(early))} / ${fmt(percentile(early, 99))}`,
      [`p50/p99 epochs ${START_EPOCHS + 1}+`]: `${fmt(median(late))} / ${fmt(percentile(late, 99))}`,
      'CPU API/trainer/clients': [cpu.api, cpu.trainers, cpu.clients]
        .map((share) => `${fmt(share * 100)}%`)
        .join(' / '),
      'settle wait ms': fmt(settledMs, 0),
      'client loop delay p50/p99 ms': `${fmt(clientLoop.percentile(50) / 1e6)} / ${fmt(clientLoop.percentile(99) / 1e6)}`,
    })
    if (missing > 0)
      console.log(`warning: ${missing} epoch deliveries missing with ${subscribers} subscribers`)
    const outOfOrder = sum(subs.map((sub) => sub.received.outOfOrder))
    if (outOfOrder > 0) {
      console.log(
        `warning: ${outOfOrder} epochs delivered twice or out of order with ${subscribers} subscribers`,
      )
    }
    await getRun(server.url, blocker) // still answers: the server is healthy after the fan-out
  }
  await server.stop()
  printTable(out)
  console.log(
    `\nlatency = Date.now() at the client - the epoch row's createdAt (ms precision, same machine clock); ` +
      `CPU in % of one core over the measured run; client loop delay = this process's event-loop delay ` +
      `over the measured run (monitorEventLoopDelay, 1 ms resolution)` +
      (args.quick ? '' : `\ntarget p99 <= 50 ms: ${verdicts.join('; ')}`),
  )
}

// ---------------------------------------------------------------------------------------------------------
// (c) trainer memory

/** 1, 10, 50, 100, then every 50 up to `runs` (which is always the last). */
function memoryCheckpoints(runs: number): number[] {
  const points = [1, 5, 10, 50, 100].filter((n) => n < runs && (runs <= 10 || n !== 5))
  for (let n = 150; n < runs; n += 50) points.push(n)
  return [...points, runs]
}

async function sectionMemory(cleanups: Cleanups, args: BenchArgs, backend: BackendName): Promise<void> {
  const checkpoints = memoryCheckpoints(args.memoryRuns ?? (args.quick ? 10 : 100))
  heading(
    `(c) one trainer's memory after ${checkpoints.join(', ')} runs: LINEAR 300 x 5, Dense 16-8-1, ` +
      `3 epochs, the default explanations (all six), ${backend}`,
  )
  const server = await startInProcessServer(cleanups, { LAB_WORKERS: '1', LAB_TF_BACKEND: backend })
  const pool = server.lab.app.pool
  if (!pool) throw new Error('the lab started no worker pool')
  const datasetId = await generateDataset(server.url, {
    name: 'linear',
    generator: 'LINEAR',
    rows: 300,
    seed: 3,
  })
  const pid = pool.pids()[0]
  if (pid === undefined) throw new Error('no trainer process')
  // RSS between checkpoints too: the trainer's RSS saws up and down by tens of MB as V8 collects, so one
  // reading per checkpoint cannot tell a leak from a collection that has not happened yet; a rising floor can.
  let window: number[] = []
  const sampler = setInterval(() => {
    try {
      window.push(procMemory(pid).rss)
    } catch {
      // The trainer is gone; the check after the next batch reports it.
    }
  }, 50)
  cleanups.add(async () => clearInterval(sampler))
  const out: Record<string, string>[] = []
  const floors: number[] = []
  let done = 0
  let previous = 0
  const start = performance.now()
  for (const checkpoint of checkpoints) {
    const ids: string[] = []
    for (; done < checkpoint; done++) {
      ids.push(await startRun(server.url, { datasetId, epochs: 3, hiddenLayers: [16, 8], seed: done + 1 }))
    }
    await waitForRuns(server.url, ids)
    await sleep(1000)
    if (pool.pids()[0] !== pid) throw new Error('the trainer process was replaced during the benchmark')
    const { rss, hwm } = procMemory(pid)
    const seen = [...window, rss]
    window = []
    floors.push(Math.min(...seen))
    out.push({
      'after run': String(checkpoint),
      'VmRSS MB': fmt(mb(rss), 1),
      // The first window holds the trainer's start-up (tfjs loading): no floor to speak of.
      'lowest MB since the previous row': previous > 0 ? fmt(mb(Math.min(...seen)), 1) : '',
      'highest MB since the previous row': previous > 0 ? fmt(mb(Math.max(...seen)), 1) : '',
      'VmHWM MB': fmt(mb(hwm), 1),
    })
    previous = checkpoint
  }
  clearInterval(sampler)
  const elapsed = performance.now() - start
  await server.stop()
  printTable(out)
  const firstFloor = floors[1] ?? 0
  const lastFloor = floors.at(-1) ?? 0
  const lastFrom = (checkpoints.at(-2) ?? 0) + 1
  console.log(
    `\n${checkpoints.at(-1)} runs in ${fmt(elapsed / 1000, 1)} s, all by trainer pid ${pid}, RSS sampled every 50 ms. ` +
      `Lowest RSS over runs ${(checkpoints[0] ?? 0) + 1}-${checkpoints[1] ?? 0}: ${fmt(mb(firstFloor), 1)} MB; ` +
      `over runs ${lastFrom}-${checkpoints.at(-1)}: ${fmt(mb(lastFloor), 1)} MB ` +
      `(${lastFloor >= firstFloor ? '+' : ''}${fmt(mb(lastFloor - firstFloor), 1)} MB)`,
  )
}

// ---------------------------------------------------------------------------------------------------------
// (d) one worker against two

interface WorkersSample {
  workers: number
  wallMs: number
  meanRunMs: number
  meanEpochsMs: number
  /** Mean time from startRun to the run's claim (startedAt): how long a run waited for a trainer. */
  meanWaitMs: number
  workersUsed: number
  /** The 1-minute load average when the batch ended. */
  load: number
}

/**
 * 8 runs submitted at once to a server with `workers` trainers (a fresh server on the shared database each time):
 * wall time from the first startRun to the latest finishedAt.
 */
async function measureWorkers(
  cleanups: Cleanups,
  databaseUrl: string,
  backend: BackendName,
  workers: number,
  batch: { runs: number; epochs: number; dataset: (url: string) => Promise<string> },
): Promise<WorkersSample> {
  const server = await startInProcessServer(
    cleanups,
    { LAB_WORKERS: String(workers), LAB_TF_BACKEND: backend },
    databaseUrl,
  )
  const datasetId = await batch.dataset(server.url)
  const input = (seed: number, e: number) => ({
    datasetId,
    hiddenLayers: REFERENCE_LAYERS,
    epochs: e,
    explain: [],
    seed,
  })
  // Warm-up: one short run per trainer (JIT, kernels), and time for every trainer to be ready.
  const warm: string[] = []
  for (let i = 0; i < workers; i++) warm.push(await startRun(server.url, input(1000 + i, 1)))
  await waitForRuns(server.url, warm)
  await sleep(1000)

  const t0 = Date.now()
  const ids: string[] = []
  const submitted = new Map<string, number>()
  for (let i = 0; i < batch.runs; i++) {
    const id = await startRun(server.url, input(i + 1, batch.epochs))
    ids.push(id)
    submitted.set(id, Date.now())
  }
  const finished = await waitForRuns(server.url, ids)
  const load = os.loadavg()[0] ?? 0
  const end = Math.max(...finished.map((r) => Date.parse(r.finishedAt ?? '')))
  const mean = (values: number[]) => sum(values) / values.length
  const sample: WorkersSample = {
    workers,
    wallMs: end - t0,
    meanRunMs: mean(finished.map((r) => Date.parse(r.finishedAt ?? '') - Date.parse(r.startedAt ?? ''))),
    meanEpochsMs: mean(finished.map((r) => sum(r.history.map((h) => h.durationMs)))),
    meanWaitMs: mean(finished.map((r) => Date.parse(r.startedAt ?? '') - (submitted.get(r.id) ?? 0))),
    workersUsed: await withPg(databaseUrl, async (client) => {
      const { rows: used } = await client.query<{ n: number }>(
        `SELECT count(DISTINCT "workerId")::int AS n FROM "Run" WHERE id = ANY($1::uuid[])`,
        [ids],
      )
      return used[0]?.n ?? 0
    }),
    load,
  }
  await server.stop()
  return sample
}

async function sectionWorkers(cleanups: Cleanups, args: BenchArgs, backend: BackendName): Promise<void> {
  const runs = args.quick ? 4 : 8
  const rows = 2000
  // Issue #12's reference run (FRIEDMAN1 2,000 rows, 20 epochs): runs of a few seconds, as users train them.
  const epochs = args.quick ? 3 : 20
  const rounds = args.quick ? 1 : 3
  heading(
    `(d) ${runs} runs, LAB_WORKERS=1 vs 2: FRIEDMAN1 ${fmt(rows)} x 10, Dense ${REFERENCE_LAYERS.join('-')}-1, ` +
      `${epochs} epochs each, ${backend}; ${rounds} round(s), the order of the two alternated`,
  )
  const database = await createBenchDatabase(cleanups)
  // Generated through the first server; every later one shares its database.
  let datasetId: Promise<string> | undefined
  const batch = {
    runs,
    epochs,
    dataset: (url: string) =>
      (datasetId ??= generateDataset(url, { name: 'friedman-2k', generator: 'FRIEDMAN1', rows, seed: 1 })),
  }
  const samples: WorkersSample[] = []
  const speedups: number[] = []
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [1, 2] : [2, 1]
    const pair: WorkersSample[] = []
    for (const workers of order)
      pair.push(await measureWorkers(cleanups, database.url, backend, workers, batch))
    const one = pair.find((p) => p.workers === 1)
    const two = pair.find((p) => p.workers === 2)
    if (one && two) speedups.push(one.wallMs / two.wallMs)
    samples.push(...pair)
  }
  printTable(
    samples.map((r, i) => ({
      round: String(Math.floor(i / 2) + 1),
      LAB_WORKERS: String(r.workers),
      'trainers used': String(r.workersUsed),
      [`wall s (${runs} runs)`]: fmt(r.wallMs / 1000, 2),
      'runs/min': fmt((runs / r.wallMs) * 60_000, 1),
      'mean run s (startedAt..finishedAt)': fmt(r.meanRunMs / 1000, 2),
      'of which epochs s': fmt(r.meanEpochsMs / 1000, 2),
      'mean wait for a trainer s': fmt(r.meanWaitMs / 1000, 2),
      'load (1 min)': fmt(r.load, 1),
    })),
  )
  const verdict = median(speedups) >= 1.7 ? 'met' : 'NOT met'
  console.log(
    `\nspeed-up (wall, 1 worker / 2 workers) per round: ${speedups.map((x) => fmt(x, 2)).join(', ')}; ` +
      `median ${fmt(median(speedups), 2)}` +
      (args.quick ? '' : `\ntarget: speed-up >= 1.7x ${verdict} (median)`),
  )
}

// ---------------------------------------------------------------------------------------------------------

async function main(cleanups: Cleanups): Promise<void> {
  requireCompiled()
  const args = parseBenchArgs()
  const backend = await selectBackend(args.backend)
  const want = (section: string) => args.only.length === 0 || args.only.includes(section)
  console.log(
    `# training benchmark${args.quick ? ' (--quick)' : ''}\n\n${machineLine()}\nbackend: ${backend}`,
  )
  if (want('a')) {
    await sectionThroughput(cleanups, args, backend)
    console.log(loadLine())
  }
  if (want('b')) {
    await sectionLatency(cleanups, args, backend)
    console.log(loadLine())
  }
  if (want('c')) {
    await sectionMemory(cleanups, args, backend)
    console.log(loadLine())
  }
  if (want('d')) {
    await sectionWorkers(cleanups, args, backend)
    console.log(loadLine())
  }
}

if (require.main === module) runMain(main)
