/**
 * Load: while two runs train at all times for `--duration` seconds (a new run starts in a slot as soon as
 * the previous one ends), 200 graphql-ws subscribers follow them with `runEvents` and 50 HTTP queries per
 * second ask for `runs(first: 50)` and `run(id) { history }`.
 *
 * - Subscribers: one WebSocket each, 100 per slot. When a slot's run ends and the next starts, its 100
 *   subscribers subscribe to the new run at once (a burst); besides, each subscriber drops its subscription
 *   at random (about every 8 s) and resubscribes with `afterEpoch` = the last epoch it received, and every
 *   5 s a burst of 50 random subscribers does the same at the same moment. At the end, the epochs each
 *   subscriber received for each run are compared with the `EpochMetric` rows of that run: **lost** (stored,
 *   never received) and **duplicated** (received more than once) must both be 0.
 * - Queries: open loop, one every 20 ms (not waiting for answers, so a slow server does not slow the
 *   arrivals), alternating the two queries, sent and timed from a worker thread of their own (bench/load-
 *   queries.ts; `BENCH_LOAD_QUERIES_IN_PROCESS=1` runs them beside the subscribers, as before). Latency is
 *   measured from the moment a query is sent; its lag behind the schedule is reported apart. The same mix
 *   runs for 10 s **idle** (no training, no subscriber) before the load, on the same data; the load's
 *   percentiles are given as ratios to the idle p99 of the same run.
 * - Memory: the API process's RSS (/proc) and heap (process.memoryUsage() after a full gc, asked over IPC)
 *   before the load and after it, once every subscriber has disconnected; its peak RSS during the load.
 *
 * The server is bench/load-server.ts in a child process (LAB_WORKERS=2, so two trainer processes); the
 * clients run in this process. Everything shares the machine's cores, so the tail latencies include the
 * trainers' and PostgreSQL's CPU.
 *
 * Run (compiled): `npx tsc -p tsconfig.build.json && node dist/bench/load.js [--duration 60] [--quick]
 * [--backend wasm|cpu|tensorflow]`; `BENCH_LOAD_SECONDS` sets the duration too. run-all passes `--duration 20`.
 */
import { ChildProcess, fork } from 'node:child_process'
import path from 'node:path'

import { Client, createClient } from 'graphql-ws'
import pg from 'pg'
import seedrandom from 'seedrandom'
import WebSocket from 'ws'

import { queryLoad, queryLoadInThread, RUN_HISTORY, RUNS_PAGE } from './load-queries'
import {
  Cleanups,
  createBenchDatabase,
  fmt,
  gql,
  gqlBody,
  heading,
  loadLine,
  machineLine,
  mb,
  parseBenchArgs,
  percentile,
  printTable,
  procCpuMs,
  procMemory,
  requireCompiled,
  runMain,
  sampleRss,
  sleep,
  TERMINAL,
} from './support'

const SUBSCRIBERS = 200
const SLOTS = 2
const IDLE_MS = 10_000
/** Mean time between a subscriber's own random resubscriptions. */
const RANDOM_RESUBSCRIBE_MS = 8_000
const BURST_EVERY_MS = 5_000
const BURST_SIZE = 50
/** The spec of every run: 150 to 300 ms per epoch on wasm on a quiet machine, so a run lasts a few seconds. */
const RUN_EPOCHS = 20
const DATASET_ROWS = 2_000

const RUN_EVENTS = `subscription($id: ID!, $after: Int) { runEvents(runId: $id, afterEpoch: $after) {
  __typename ... on EpochCompleted { metric { epoch } } ... on RunStatusChanged { status } } }`

type RunEvent = { runEvents: { __typename: string; metric?: { epoch: number }; status?: string } }

interface Server {
  url: string
  databaseUrl: string
  wsUrl: string
  pid: number
  memory(): Promise<{ rss: number; heapUsed: number; heapTotal: number; external: number }>
  /** What the API process measured of itself since the last reset (bench/load-server.ts). */
  stats(reset: boolean): Promise<ServerStats>
}

type Summary = { n: number; p50: number | null; p99: number | null; max: number | null }
interface ServerStats {
  seconds: number
  loopDelay: Summary
  http: Record<'runs' | 'history' | 'other', Summary>
  poolWait: Summary
  poolHold: Summary
  maxWaiting: number
  maxInUse: number
}

function ask<T>(child: ChildProcess, request: object, reply: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (m: { type: string }) => {
      if (m.type !== reply) return
      child.off('message', onMessage)
      resolve(m as T)
    }
    child.on('message', onMessage)
    child.send(request)
  })
}

async function startServer(cleanups: Cleanups, env: Record<string, string>): Promise<Server> {
  const database = await createBenchDatabase(cleanups)
  const child: ChildProcess = fork(path.join(__dirname, 'load-server.js'), [], {
    // BENCH_LOAD_CPU_PROF=<dir>: a V8 CPU profile of the API process, written there when it stops.
    execArgv: [
      '--expose-gc',
      ...(process.env['BENCH_LOAD_CPU_PROF']
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_LOAD_CPU_PROF']}`]
        : []),
    ],
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      ...env,
      DATABASE_URL: database.url,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  cleanups.add(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    await exited
    clearTimeout(timer)
  })
  const ready = await new Promise<{ url: string; wsUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the load server did not start within 60 s')), 60_000)
    child.once('message', (m: { type: string; url: string; wsUrl: string }) => {
      clearTimeout(timer)
      if (m.type === 'ready') resolve(m)
      else reject(new Error(`unexpected message ${JSON.stringify(m)}`))
    })
    void exited.then(() => reject(new Error('the load server exited during start-up')))
  })
  if (child.pid === undefined) throw new Error('no pid for the load server')
  return {
    ...ready,
    databaseUrl: database.url,
    pid: child.pid,
    memory: () => ask(child, { type: 'memory' }, 'memory'),
    stats: (reset) => ask(child, { type: 'stats', reset }, 'stats'),
  }
}

/** One subscriber: one WebSocket, following its slot's current run; epochs received per run. */
class Subscriber {
  readonly received = new Map<string, number[]>()
  readonly ended = new Set<string>()
  subscriptions = 0
  /** Subscriptions ended by a lost connection (then resubscribed, as a dashboard would). */
  drops = 0
  errors: string[] = []
  readonly closeCodes: number[] = []
  private current: { runId: string; unsubscribe: () => void } | undefined

  constructor(
    readonly slot: number,
    private readonly client: Client,
  ) {}

  /** Subscribes to `runId` after the last epoch received of it (0 for a new run). */
  follow(runId: string): void {
    this.current?.unsubscribe()
    if (this.ended.has(runId)) return
    const epochs = this.received.get(runId) ?? []
    this.received.set(runId, epochs)
    const after = epochs.length > 0 ? Math.max(...epochs) : 0
    this.subscriptions++
    let active = true
    const unsubscribe = this.client.subscribe<RunEvent>(
      { query: RUN_EVENTS, variables: { id: runId, after } },
      {
        next: ({ data, errors }) => {
          if (!active) return
          if (errors || !data) {
            this.errors.push(JSON.stringify(errors).slice(0, 200))
            return
          }
          const e = data.runEvents
          if (e.metric) epochs.push(e.metric.epoch)
          if (e.status && TERMINAL.has(e.status)) this.ended.add(runId)
        },
        error: (err) => {
          if (!active) return
          // A lost connection (a CloseEvent): resubscribe from the last epoch received, on a new socket.
          if (typeof (err as { code?: unknown }).code === 'number') {
            this.drops++
            this.closeCodes.push((err as { code: number }).code)
            setTimeout(() => {
              if (active) this.follow(runId)
            }, 200)
            return
          }
          this.errors.push(JSON.stringify(err).slice(0, 200))
        },
        complete: () => {},
      },
    )
    this.current = {
      runId,
      unsubscribe: () => {
        active = false
        unsubscribe()
      },
    }
  }

  /** Drops the subscription and resubscribes with afterEpoch = the last epoch received. */
  resubscribe(): boolean {
    if (!this.current || this.ended.has(this.current.runId)) return false
    this.follow(this.current.runId)
    return true
  }

  stop(): void {
    this.current?.unsubscribe()
    this.current = undefined
  }
}

function summarise(label: string, l: Record<'runs' | 'history', number[]>, idleP99: number | undefined) {
  const all = [...l.runs, ...l.history]
  const p99 = percentile(all, 99)
  return {
    phase: label,
    queries: all.length,
    'p50 ms': fmt(percentile(all, 50), 1),
    'p95 ms': fmt(percentile(all, 95), 1),
    'p99 ms': fmt(p99, 1),
    'max ms': fmt(Math.max(...all), 1),
    'runs p99 ms': fmt(percentile(l.runs, 99), 1),
    'history p99 ms': fmt(percentile(l.history, 99), 1),
    'p99 / idle p99': idleP99 === undefined ? '-' : fmt(p99 / idleP99, 2),
  }
}

runMain(async (cleanups) => {
  requireCompiled()
  const args = parseBenchArgs()
  // BENCH_LOAD_QUERIES_IN_PROCESS=1: the queries on this process's event loop, beside the subscribers, as
  // before 2026-12-03 (bench/load-queries.ts).
  const queriesInProcess = process.env['BENCH_LOAD_QUERIES_IN_PROCESS'] === '1'
  const durationS = args.duration ?? Number(process.env['BENCH_LOAD_SECONDS'] ?? (args.quick ? 15 : 60))
  if (!Number.isFinite(durationS) || durationS <= 0) throw new Error(`bad duration ${durationS}`)
  const backend = args.backend ?? 'wasm'
  console.log(`# Load: ${SLOTS} runs training for ${durationS} s, ${SUBSCRIBERS} subscribers, 50 queries/s`)
  console.log(machineLine())
  const random = seedrandom.alea('load')

  const server = await startServer(cleanups, {
    LAB_WORKERS: String(SLOTS),
    LAB_TF_BACKEND: backend,
    LAB_WS_MAX_CONNECTIONS: String(SUBSCRIBERS + 50),
  })
  const db = new pg.Client({ connectionString: server.databaseUrl })
  await db.connect()
  cleanups.add(() => db.end())

  const { generateDataset } = await gql<{ generateDataset: { id: string } }>(
    server.url,
    `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
    { input: { name: 'load', generator: 'FRIEDMAN1', rows: DATASET_ROWS, noise: 0.5, seed: 1 } },
  )
  const spec = (i: number) => ({
    datasetId: generateDataset.id,
    experiment: 'load',
    name: `load-${i}`,
    epochs: RUN_EPOCHS,
    hiddenLayers: [32, 16],
    batchSize: 32,
    seed: i,
    explain: [],
  })
  // A startRun answered SERVICE_UNAVAILABLE (no database connection free in time) is retried, as a client
  // told `retryAfterMs` would, and counted: each one is a failure of the API under this load.
  let startRetries = 0
  const startRun = async (i: number): Promise<string> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return (
          await gql<{ startRun: { id: string } }>(
            server.url,
            `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`,
            { input: spec(i) },
          )
        ).startRun.id
      } catch (err) {
        const text = `${String(err)} ${String((err as { cause?: unknown }).cause)}`
        if (attempt >= 30 || !/SERVICE_UNAVAILABLE|Connect Timeout/.test(text)) throw err
        startRetries++
        await sleep(1_000)
      }
    }
  }
  const status = async (id: string) =>
    (await db.query<{ status: string }>(`SELECT status FROM "Run" WHERE id = $1`, [id])).rows[0]?.status
  const waitEnded = async (id: string, timeoutMs = 300_000) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const s = await status(id)
      if (s && TERMINAL.has(s)) return s
      if (Date.now() > deadline) throw new Error(`run ${id} still ${s} after ${timeoutMs} ms`)
      await sleep(100)
    }
  }

  // Data for the queries, the same in both phases: two trained runs and 48 cancelled ones fill the page.
  let runNo = 0
  const prep = await Promise.all([startRun(runNo++), startRun(runNo++)])
  const prepStarted = performance.now()
  for (const id of prep) await waitEnded(id)
  const prepSeconds = (performance.now() - prepStarted) / 1000
  const epochMs = (
    await db.query<{ ms: number }>(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY "durationMs") AS ms FROM "EpochMetric" WHERE "runId" = ANY($1)`,
      [prep],
    )
  ).rows[0]?.ms
  for (let i = 0; i < 48; i++) {
    const id = await startRun(runNo++)
    await gql(server.url, `mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id })
  }
  const queried = [...prep]
  await sleep(2_000)

  // Service time of one query at a time, for reading the open-loop figures: 50/s needs it well under 20 ms.
  const serial: Record<'runs' | 'history', number[]> = { runs: [], history: [] }
  for (let i = 0; i < 40; i++) {
    const kind = i % 2 === 0 ? 'runs' : 'history'
    const body =
      kind === 'runs'
        ? JSON.stringify({ query: RUNS_PAGE })
        : JSON.stringify({ query: RUN_HISTORY, variables: { id: prep[i % 4 === 1 ? 0 : 1] } })
    const t0 = performance.now()
    await gqlBody(server.url, body)
    if (i >= 10) serial[kind].push(performance.now() - t0)
  }

  heading('Idle: the query mix alone')
  await server.stats(true)
  const startQueries = () =>
    queriesInProcess
      ? queryLoad(server.url, () => queried, random)
      : queryLoadInThread(server.url, () => queried, 'load-queries')
  const idleLoad = startQueries()
  await sleep(IDLE_MS)
  const idle = await idleLoad.stop()
  const idleServer = await server.stats(true)
  const idleP99 = percentile([...idle.latencies.runs, ...idle.latencies.history], 99)
  console.log(
    `${idle.sent} queries in ${fmt(idle.seconds, 1)} s, ${idle.errors} errors; ${loadLine()}; ` +
      `prep runs: ${RUN_EPOCHS} epochs in ${fmt(prepSeconds, 1)} s, epoch median ${fmt(Number(epochMs), 0)} ms`,
  )
  const before = { ...(await server.memory()), proc: procMemory(server.pid) }

  heading(`Load: ${durationS} s`)
  const subscribers: Subscriber[] = []
  const clients: Client[] = []
  for (let i = 0; i < SUBSCRIBERS; i++) {
    // Lazy: the socket opens with the first subscription and again with the next one after a drop.
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 })
    clients.push(client)
    cleanups.add(async () => client.dispose())
    subscribers.push(new Subscriber(i % SLOTS, client))
  }
  const rss = sampleRss(server.pid, 100)
  const cpuBefore = { server: procCpuMs(server.pid), bench: process.cpuUsage() }
  const loadStarted = performance.now()
  const deadline = loadStarted + durationS * 1000
  const queries = startQueries()
  const runsOfSlot: string[][] = Array.from({ length: SLOTS }, () => [])
  const counts = { runChange: 0, random: 0, burst: 0 }
  const startFailures: string[] = []
  const slots = Array.from({ length: SLOTS }, async (_, slot) => {
    while (performance.now() < deadline) {
      let id: string
      try {
        id = await startRun(runNo++)
      } catch (err) {
        // Counted and shown: the slot stops, the rest of the figures are still worth having.
        startFailures.push(String(err).slice(0, 200))
        return
      }
      runsOfSlot[slot]!.push(id)
      queried.push(id)
      // The burst: every subscriber of the slot moves to the new run at once.
      for (const s of subscribers) if (s.slot === slot) s.follow(id)
      counts.runChange += SUBSCRIBERS / SLOTS
      await waitEnded(id)
      // As a dashboard does, each subscriber keeps following until its own stream says the run ended; the
      // query above can see the end first. Bounded: a stream that never ends is counted as "not seen ending".
      const seen = Date.now() + 10_000
      while (Date.now() < seen && subscribers.some((s) => s.slot === slot && !s.ended.has(id)))
        await sleep(20)
    }
  })
  const randomTimer = setInterval(() => {
    // Each subscriber about every RANDOM_RESUBSCRIBE_MS, checked every 100 ms.
    for (const s of subscribers)
      if (random() < 100 / RANDOM_RESUBSCRIBE_MS && s.resubscribe()) counts.random++
  }, 100)
  const burstTimer = setInterval(() => {
    for (let i = 0; i < BURST_SIZE; i++) {
      if (subscribers[Math.floor(random() * SUBSCRIBERS)]!.resubscribe()) counts.burst++
    }
  }, BURST_EVERY_MS)
  await Promise.all(slots)
  const trainedS = (performance.now() - loadStarted) / 1000
  clearInterval(randomTimer)
  clearInterval(burstTimer)
  const load = await queries.stop()
  const loadServer = await server.stats(true)
  const cpu = {
    server: (procCpuMs(server.pid) - cpuBefore.server) / (trainedS * 10),
    bench: (() => {
      const u = process.cpuUsage(cpuBefore.bench)
      return (u.user + u.system) / 1000 / (trainedS * 10)
    })(),
  }

  // Every subscriber must have seen every run of its slot end; then compare with the store.
  const allRuns = runsOfSlot.flat()
  const settleDeadline = Date.now() + 30_000
  while (subscribers.some((s) => runsOfSlot[s.slot]!.some((id) => !s.ended.has(id)))) {
    if (Date.now() > settleDeadline) break
    await sleep(100)
  }
  const peakRss = rss.stop()
  const stored = new Map<string, number[]>()
  for (const id of allRuns) {
    const rows = await db.query<{ epoch: number }>(
      `SELECT epoch FROM "EpochMetric" WHERE "runId" = $1 ORDER BY epoch`,
      [id],
    )
    stored.set(
      id,
      rows.rows.map((r) => r.epoch),
    )
  }
  let lost = 0
  let duplicated = 0
  let outOfOrder = 0
  let unfinished = 0
  const lossySubscribers = new Set<number>()
  const dupSubscribers = new Set<number>()
  subscribers.forEach((s, i) => {
    for (const id of runsOfSlot[s.slot]!) {
      const got = s.received.get(id) ?? []
      const expected = stored.get(id) ?? []
      const seen = new Set(got)
      const missing = expected.filter((e) => !seen.has(e)).length
      const dups = got.length - seen.size
      if (!s.ended.has(id)) unfinished++
      if (got.some((e, k) => k > 0 && e <= got[k - 1]!)) outOfOrder++
      lost += missing
      duplicated += dups
      if (missing > 0) lossySubscribers.add(i)
      if (dups > 0) dupSubscribers.add(i)
    }
  })
  const expectedEpochs = subscribers.reduce(
    (n, s) => n + runsOfSlot[s.slot]!.reduce((m, id) => m + (stored.get(id)?.length ?? 0), 0),
    0,
  )
  const receivedEpochs = subscribers.reduce(
    (n, s) => n + [...s.received.values()].reduce((m, e) => m + e.length, 0),
    0,
  )
  const subscriptionErrors = subscribers.flatMap((s) => s.errors)
  const statuses = await Promise.all(allRuns.map(status))

  for (const s of subscribers) s.stop()
  await Promise.all(clients.map((c) => c.dispose()))
  await sleep(2_000)
  const after = { ...(await server.memory()), proc: procMemory(server.pid) }

  console.log(
    `${allRuns.length} runs in ${fmt(trainedS, 1)} s (${statuses.filter((s) => s === 'SUCCEEDED').length} SUCCEEDED), ` +
      `${load.sent} queries (${load.errors} errors, at most ${load.maxInFlight} in flight); ${loadLine()}`,
  )
  for (const [phase, r] of [
    ['idle', idle],
    ['load', load],
  ] as const) {
    if (r.errors > 0) console.log(`${phase} query errors, first ones: ${r.errorSamples.join(' | ')}`)
  }
  console.log(
    `CPU over the load, % of one core: API process ${fmt(cpu.server, 0)} %, clients ${fmt(cpu.bench, 0)} %; ` +
      `startRun retried after SERVICE_UNAVAILABLE or a connect timeout: ${startRetries}; ` +
      `startRun failed for good (slot stopped): ${startFailures.length} ${startFailures.join(' | ')}`,
  )

  heading('Subscribers')
  printTable([
    {
      subscribers: SUBSCRIBERS,
      runs: allRuns.length,
      subscriptions: subscribers.reduce((n, s) => n + s.subscriptions, 0),
      'on run change': counts.runChange,
      'random resubscribes': counts.random,
      'burst resubscribes': counts.burst,
      'epochs expected': expectedEpochs,
      received: receivedEpochs,
      lost,
      duplicated,
      'out of order': outOfOrder,
      'runs not seen ending': unfinished,
      errors: subscriptionErrors.length,
      'connections lost': subscribers.reduce((n, s) => n + s.drops, 0),
    },
  ])
  const closeCodes = subscribers.flatMap((s) => s.closeCodes)
  if (closeCodes.length > 0) {
    const byCode = new Map<number, number>()
    for (const c of closeCodes) byCode.set(c, (byCode.get(c) ?? 0) + 1)
    console.log(`lost connections by close code: ${JSON.stringify(Object.fromEntries(byCode))}`)
  }
  if (subscriptionErrors.length > 0)
    console.log(`first errors: ${subscriptionErrors.slice(0, 3).join(' | ')}`)
  console.log(
    `subscribers with a lost epoch: ${lossySubscribers.size}; with a duplicate: ${dupSubscribers.size} ` +
      `(target: 0 and 0) -> ${lost === 0 && duplicated === 0 && unfinished === 0 ? 'met' : 'NOT MET'}`,
  )

  heading(
    `Queries (ms, from the send; timed ${queriesInProcess ? 'beside the subscribers' : 'in a thread of their own'})`,
  )
  printTable([
    summarise('one at a time (service time)', serial, undefined),
    summarise('idle', idle.latencies, idleP99),
    summarise(`load (${durationS} s)`, load.latencies, idleP99),
  ])

  heading('Where the time went (ms): the client, and the API process measuring itself')
  const side = (label: string, r: typeof load, st: ServerStats) => ({
    phase: label,
    'client lag p50 / p99 / max': `${fmt(percentile(r.lag, 50), 1)} / ${fmt(percentile(r.lag, 99), 1)} / ${fmt(Math.max(...r.lag), 1)}`,
    'client loop delay p99 / max': `${fmt(r.clientLoopP99, 1)} / ${fmt(r.clientLoopMax, 1)}`,
    'from schedule p99': fmt(percentile(r.fromSchedule, 99), 1),
    'API loop delay p50 / p99 / max': `${fmt(st.loopDelay.p50 ?? NaN, 1)} / ${fmt(st.loopDelay.p99 ?? NaN, 1)} / ${fmt(st.loopDelay.max ?? NaN, 1)}`,
    'API request p50 / p99 (runs)': `${fmt(st.http.runs.p50 ?? NaN, 1)} / ${fmt(st.http.runs.p99 ?? NaN, 1)}`,
    'API request p50 / p99 (history)': `${fmt(st.http.history.p50 ?? NaN, 1)} / ${fmt(st.http.history.p99 ?? NaN, 1)}`,
    'pool wait p50 / p99 / max': `${fmt(st.poolWait.p50 ?? NaN, 1)} / ${fmt(st.poolWait.p99 ?? NaN, 1)} / ${fmt(st.poolWait.max ?? NaN, 1)}`,
    'pool hold p50 / p99 / max': `${fmt(st.poolHold.p50 ?? NaN, 1)} / ${fmt(st.poolHold.p99 ?? NaN, 1)} / ${fmt(st.poolHold.max ?? NaN, 1)}`,
    'connections: most waiting / in use': `${st.maxWaiting} / ${st.maxInUse}`,
    'pool connects': st.poolWait.n,
  })
  printTable([side('idle', idle, idleServer), side('load', load, loadServer)])

  heading('API process memory (heap after a full gc)')
  const row = (label: string, m: typeof before) => ({
    when: label,
    'RSS MB': fmt(mb(m.proc.rss), 1),
    'heap used MB': fmt(mb(m.heapUsed), 1),
    'heap total MB': fmt(mb(m.heapTotal), 1),
    'external MB': fmt(mb(m.external), 1),
  })
  printTable([
    row('before the load', before),
    row('after (subscribers gone)', after),
    {
      when: 'peak during the load',
      'RSS MB': fmt(mb(peakRss), 1),
      'heap used MB': '',
      'heap total MB': '',
      'external MB': '',
    },
  ])
  console.log(`\n${machineLine()}`)
})
