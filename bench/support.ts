/**
 * What the benchmarks share: fresh databases, servers (in this process or in a child process), a GraphQL
 * client, /proc memory readings, percentiles and plain-text tables.
 *
 * Anything that starts the server needs type-graphql's decorator metadata, which tsx does not emit: run the
 * compiled scripts (`npx tsc -p tsconfig.build.json && node dist/bench/<name>.js`), see bench/README.md.
 */
import 'reflect-metadata'

import { ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { Client, createClient } from 'graphql-ws'
import seedrandom from 'seedrandom'
import WebSocket from 'ws'

import { loadConfig } from '../src/config'
import { applyMigrations, createScratchDatabase, ScratchDatabase } from '../src/db/migrate'
import { Lab, startLab } from '../src/lab'
import { createLogger } from '../src/logger'

/** The PostgreSQL server benchmark databases are created on (trust auth, role with CREATEDB). */
export const BENCH_SERVER_URL =
  process.env['BENCH_DATABASE_URL'] ||
  process.env['TEST_DATABASE_URL'] ||
  'postgresql://postgres@127.0.0.1:5432/postgres'

/** Prefix of every benchmark database (a random suffix follows); they are dropped when a bench ends. */
export const BENCH_DATABASE_PREFIX = 'lab_bench'

export interface BenchArgs {
  quick: boolean
  /** TensorFlow.js backend for the trainers and for in-process training; default: the fastest available. */
  backend: 'tensorflow' | 'wasm' | 'cpu' | undefined
  /** Sections to run (e.g. ['a', 'c']); empty: all. */
  only: string[]
  /** training.ts (c): how many runs to watch the trainer's memory over (default 100; 10 with --quick). */
  memoryRuns: number | undefined
  /** load.ts: seconds of training under load (default 60; 15 with --quick). */
  duration: number | undefined
  /** query-threads.ts: another build's `dist` directory, measured interleaved with this one (A/B). */
  baseline: string | undefined
  /** query-threads.ts: how many A/B rounds with --baseline (default 2). */
  rounds: number | undefined
  /** query-threads.ts: directory for each server child's `--cpu-prof` profile. */
  cpuProf: string | undefined
}

export function parseBenchArgs(argv = process.argv.slice(2)): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      backend: { type: 'string' },
      only: { type: 'string' },
      'memory-runs': { type: 'string' },
      duration: { type: 'string' },
      baseline: { type: 'string' },
      rounds: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
    strict: true,
  })
  const backend = values.backend
  if (backend !== undefined && !['tensorflow', 'wasm', 'cpu'].includes(backend)) {
    throw new Error(`--backend must be tensorflow, wasm or cpu, got "${backend}"`)
  }
  const memoryRuns = values['memory-runs'] === undefined ? undefined : Number(values['memory-runs'])
  if (memoryRuns !== undefined && (!Number.isInteger(memoryRuns) || memoryRuns < 2)) {
    throw new Error(`--memory-runs must be an integer of at least 2, got "${values['memory-runs']}"`)
  }
  const duration = values.duration === undefined ? undefined : Number(values.duration)
  if (duration !== undefined && !(duration > 0)) {
    throw new Error(`--duration must be a positive number of seconds, got "${values.duration}"`)
  }
  const rounds = values.rounds === undefined ? undefined : Number(values.rounds)
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1)) {
    throw new Error(`--rounds must be a positive integer, got "${values.rounds}"`)
  }
  return {
    quick: values.quick ?? false,
    baseline: values.baseline,
    rounds,
    cpuProf: values['cpu-prof'],
    memoryRuns,
    duration,
    backend: backend as BenchArgs['backend'],
    only: values.only ? values.only.split(',').map((s) => s.trim().toLowerCase()) : [],
  }
}

/** Refuses to go on under tsx: the server's schema would fail to build without decorator metadata. */
export function requireCompiled(): void {
  if (__filename.endsWith('.ts')) {
    console.error(
      'This benchmark starts the server, which needs decorator metadata that tsx does not emit.\n' +
        'Run it compiled: npx tsc -p tsconfig.build.json && node dist/bench/<name>.js (or npm run bench).',
    )
    process.exit(2)
  }
}

// ---------------------------------------------------------------------------------------------------------
// Cleanup

/**
 * Disposers run in reverse order of registration, once; also on SIGINT/SIGTERM, so an interrupted bench
 * leaves no server, trainer or database behind.
 */
export class Cleanups {
  private readonly items: (() => Promise<unknown>)[] = []
  private running: Promise<void> | undefined

  constructor() {
    const onSignal = (signal: NodeJS.Signals) => {
      console.error(`\n${signal}: cleaning up`)
      void this.run().finally(() => process.exit(130))
    }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  }

  add(dispose: () => Promise<unknown>): void {
    this.items.push(dispose)
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const dispose of this.items.reverse()) {
        try {
          await dispose()
        } catch (err) {
          console.error('cleanup failed:', err)
        }
      }
    })()
    return this.running
  }
}

/** A new database on {@link BENCH_SERVER_URL} with every migration applied; dropped by `cleanups`. */
export async function createBenchDatabase(cleanups: Cleanups): Promise<ScratchDatabase> {
  const database = await createScratchDatabase(BENCH_SERVER_URL, BENCH_DATABASE_PREFIX)
  cleanups.add(() => database.drop())
  await applyMigrations(database.url)
  return database
}

// ---------------------------------------------------------------------------------------------------------
// GraphQL

export interface GqlError {
  message: string
  extensions?: { code?: string }
}

/** POSTs one operation; throws on transport errors and on GraphQL errors. */
export async function gql<T>(url: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  return gqlBody<T>(url, JSON.stringify({ query, variables }))
}

/** {@link gql} with a body serialised beforehand (so the timing covers the request, not JSON.stringify). */
export async function gqlBody<T>(url: string, body: string): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const json = (await res.json()) as { data?: T | null; errors?: GqlError[] }
  if (json.errors?.length || json.data == null) {
    throw new Error(`GraphQL request failed (HTTP ${res.status}): ${JSON.stringify(json.errors)}`)
  }
  return json.data
}

/** A graphql-ws client that connects at once; `connected` resolves on the server's ack. */
export function wsClient(wsUrl: string): { client: Client; connected: Promise<void> } {
  let resolveConnected: () => void = () => {}
  const connected = new Promise<void>((resolve) => (resolveConnected = resolve))
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    on: { connected: () => resolveConnected() },
  })
  return { client, connected }
}

// ---------------------------------------------------------------------------------------------------------
// Servers

export interface BenchServer {
  url: string
  wsUrl: string
  databaseUrl: string
  /** The API process (this one for an in-process server). */
  pid: number
}

export interface InProcessServer extends BenchServer {
  lab: Lab
}

/**
 * The real server in this process, on port 0, with silent logs; `env` overrides settings the way environment
 * variables would. Without `databaseUrl` it gets a fresh database of its own.
 */
export async function startInProcessServer(
  cleanups: Cleanups,
  env: Record<string, string>,
  databaseUrl?: string,
): Promise<InProcessServer & { stop(): Promise<void> }> {
  const dbUrl = databaseUrl ?? (await createBenchDatabase(cleanups)).url
  // LAB_TRAINER_NICE from the bench's environment, for an A/B of the trainers' priority.
  const nice = process.env['LAB_TRAINER_NICE']
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...(nice === undefined ? {} : { LAB_TRAINER_NICE: nice }),
    ...env,
    DATABASE_URL: dbUrl,
  })
  const lab = await startLab(config, createLogger(config.logLevel, 'bench-lab'))
  cleanups.add(() => lab.stop())
  return { lab, url: lab.url, wsUrl: lab.wsUrl, databaseUrl: dbUrl, pid: process.pid, stop: () => lab.stop() }
}

/**
 * The real server as `npm start` runs it (`node dist/src/main.js`) in a child process, so that its memory and
 * event loop are its own. The port is picked here (a free one) and readiness is `GET /healthz` answering 200.
 */
export async function startChildServer(
  cleanups: Cleanups,
  env: Record<string, string>,
  opts: {
    /** Another build's `dist/src/main.js` (an A/B comparison); default: this build's. */
    main?: string
    /** Node options before the script, e.g. `--cpu-prof`. */
    nodeArgs?: string[]
  } = {},
): Promise<BenchServer & { child: ChildProcess; stop(): Promise<void> }> {
  const database = await createBenchDatabase(cleanups)
  const port = await freePort()
  // BENCH_API_MAIN: another build's server (an A/B run of the same benchmark against an older build).
  const main = opts.main ?? process.env['BENCH_API_MAIN'] ?? path.join(__dirname, '..', 'src', 'main.js')
  // BENCH_API_NODE_ARGS: flags for the API process only, e.g. `--cpu-prof --cpu-prof-dir=<dir>`.
  const envArgs = (process.env['BENCH_API_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '')
  const child = spawn(process.execPath, [...envArgs, ...(opts.nodeArgs ?? []), main], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...env,
      PORT: String(port),
      DATABASE_URL: database.url,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // Keep draining the pipes (a full pipe would block the server); keep the tail for error messages.
  let tail = ''
  // BENCH_API_LOG: a file that also gets the server's stdout and stderr (with `--trace-gc` in
  // BENCH_API_NODE_ARGS, its garbage collections).
  // Written synchronously: the bench may exit right after the server does.
  const log = process.env['BENCH_API_LOG'] ? fs.openSync(process.env['BENCH_API_LOG'], 'w') : undefined
  const keep = (chunk: Buffer) => {
    if (log !== undefined) fs.writeSync(log, chunk)
    tail = (tail + chunk.toString()).slice(-4000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let alive = true
  void exited.then(() => (alive = false))
  const stop = async () => {
    if (!alive) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    await exited
    clearTimeout(timer)
  }
  cleanups.add(stop)
  const url = `http://127.0.0.1:${port}/graphql`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (!alive) throw new Error(`the server exited during start-up:\n${tail}`)
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    if (Date.now() > deadline) throw new Error(`the server did not start within 60 s:\n${tail}`)
    await sleep(100)
  }
  if (child.pid === undefined) throw new Error('no pid for the server process')
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    databaseUrl: database.url,
    pid: child.pid,
    child,
    stop,
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

// ---------------------------------------------------------------------------------------------------------
// Runs

export const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED'])

export interface RunSummary {
  id: string
  status: string
  error: string | null
  backend: string | null
  startedAt: string | null
  finishedAt: string | null
  history: { epoch: number; loss: number; durationMs: number }[]
}

const RUN_SUMMARY = `id status error backend startedAt finishedAt history { epoch loss durationMs }`

export async function startRun(url: string, input: Record<string, unknown>): Promise<string> {
  const data = await gql<{ startRun: { id: string } }>(
    url,
    `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`,
    { input },
  )
  return data.startRun.id
}

export async function getRun(url: string, id: string): Promise<RunSummary> {
  const data = await gql<{ run: RunSummary | null }>(
    url,
    `query($id: ID!) { run(id: $id) { ${RUN_SUMMARY} } }`,
    {
      id,
    },
  )
  if (!data.run) throw new Error(`run ${id} not found`)
  return data.run
}

/** Polls until every run is terminal; throws unless all SUCCEEDED. */
export async function waitForRuns(
  url: string,
  ids: readonly string[],
  { timeoutMs = 300_000, intervalMs = 100 } = {},
): Promise<RunSummary[]> {
  const deadline = Date.now() + timeoutMs
  const pending = new Set(ids)
  while (pending.size > 0) {
    if (Date.now() > deadline) throw new Error(`${pending.size} runs still unfinished after ${timeoutMs} ms`)
    const data = await gql<{ runs: { edges: { node: { id: string; status: string } }[] } }>(
      url,
      `{ runs(first: 100) { edges { node { id status } } } }`,
    )
    for (const { node } of data.runs.edges) if (TERMINAL.has(node.status)) pending.delete(node.id)
    // Older runs fall off the first page: ask for them one by one.
    for (const id of [...pending].slice(0, 5)) {
      if (!data.runs.edges.some((e) => e.node.id === id) && TERMINAL.has((await getRun(url, id)).status)) {
        pending.delete(id)
      }
    }
    if (pending.size > 0) await sleep(intervalMs)
  }
  const runs = await Promise.all(ids.map((id) => getRun(url, id)))
  const failed = runs.filter((r) => r.status !== 'SUCCEEDED')
  if (failed.length > 0) {
    throw new Error(`runs did not succeed: ${failed.map((r) => `${r.id} ${r.status} ${r.error}`).join('; ')}`)
  }
  return runs
}

// ---------------------------------------------------------------------------------------------------------
// Data

/**
 * The reference classification data of bench/train-overhead.ts: features U[-1,1], target x1 + x2 > 0, from
 * the same seeded generator, so both benchmarks train on identical rows.
 */
export function referenceRows(
  rows: number,
  features: number,
): { features: Float64Array; targets: Float64Array } {
  const random = seedrandom.alea('bench')
  const x = Float64Array.from({ length: rows * features }, () => 2 * random() - 1)
  const targets = Float64Array.from({ length: rows }, (_, r) =>
    (x[r * features] as number) + (x[r * features + 1] as number) > 0 ? 1 : 0,
  )
  return { features: x, targets }
}

/** `createDataset` input for packed rows. */
export function datasetInput(
  name: string,
  task: 'BINARY_CLASSIFICATION' | 'REGRESSION',
  featureCount: number,
  data: { features: Float64Array; targets: Float64Array },
): Record<string, unknown> {
  const rows: number[][] = []
  for (let r = 0; r < data.targets.length; r++) {
    rows.push(Array.from(data.features.subarray(r * featureCount, (r + 1) * featureCount)))
  }
  return {
    name,
    task,
    featureNames: Array.from({ length: featureCount }, (_, i) => `x${i + 1}`),
    targetName: 'y',
    rows,
    targets: Array.from(data.targets),
  }
}

// ---------------------------------------------------------------------------------------------------------
// Measurements

/** VmRSS and VmHWM (peak RSS over the process's life) of a process, in bytes, from /proc. */
export function procMemory(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (key: string) => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)
    if (!match?.[1]) throw new Error(`no ${key} in /proc/${pid}/status`)
    return Number(match[1]) * 1024
  }
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function procCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND
}

/**
 * The trainer's CPU time when the run's last epoch is stored, polled every 50 ms: what it spent before is the
 * training (with loading the data), what it spends after is the explanation (with storing the results).
 * CPU time, unlike the wall times the worker records, hardly depends on how busy the machine is.
 */
export async function trainerCpuWhenTrained(
  url: string,
  id: string,
  epochs: number,
  trainer: number,
): Promise<number> {
  for (;;) {
    const run = await getRun(url, id)
    if (run.history.length >= epochs || TERMINAL.has(run.status)) return procCpuMs(trainer)
    await sleep(50)
  }
}

/** The trainer's CPU before and after the last epoch was stored (see trainerCpuWhenTrained), and their ratio. */
export function cpuSplitLine(trainingCpuMs: number, afterCpuMs: number): string {
  return (
    `trainer CPU: ${fmt(trainingCpuMs)} ms until the last epoch was stored (training), ${fmt(afterCpuMs)} ms ` +
    `after it (explanation and storing): ${(afterCpuMs / trainingCpuMs).toFixed(2)}x`
  )
}

/** USER_HZ: 100 on every Linux we run on (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100

/** The direct children of a process (e.g. a server's trainers), from /proc/<pid>/task/<tid>/children. */
export function childPids(pid: number): number[] {
  const out: number[] = []
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim()
    if (text) out.push(...text.split(/\s+/).map(Number))
  }
  return out
}

/** Samples a process's RSS every `intervalMs` until `stop()`, which returns the largest sample. */
export function sampleRss(pid: number, intervalMs = 20): { stop(): number } {
  let peak = procMemory(pid).rss
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, procMemory(pid).rss)
    } catch {
      // The process is gone; keep what we have.
    }
  }, intervalMs)
  return {
    stop: () => {
      clearInterval(timer)
      try {
        peak = Math.max(peak, procMemory(pid).rss)
      } catch {
        // idem
      }
      return peak
    },
  }
}

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1] as number
}

export function median(values: readonly number[]): number {
  return percentile(values, 50)
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export const mb = (bytes: number) => bytes / (1024 * 1024)

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++
        results[i] = await fn(items[i] as T)
      }
    }),
  )
  return results
}

// ---------------------------------------------------------------------------------------------------------
// Output

/** Date, cores, load average and Node version: the context every figure needs. */
export function machineLine(): string {
  const [l1, l5, l15] = os.loadavg().map((l) => l.toFixed(2))
  return (
    `${new Date().toISOString()} | ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}) | ` +
    `load average ${l1}, ${l5}, ${l15} | node ${process.version}`
  )
}

/** The 1/5/15-minute load averages now (2 cores: anything above 2 means the benchmark shared the CPU). */
export function loadLine(): string {
  return `load average now: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')}`
}

export function heading(title: string): void {
  console.log(`\n## ${title}\n`)
}

/** Prints rows as an aligned plain-text (and Markdown-compatible) table. */
export function printTable(rows: Record<string, string | number>[]): void {
  const first = rows[0]
  if (!first) return
  const columns = Object.keys(first)
  const cell = (v: string | number | undefined) => (v === undefined ? '' : String(v))
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)))
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i] as number)).join(' | ')} |`
  console.log(line(columns))
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
  for (const r of rows) console.log(line(columns.map((c) => cell(r[c]))))
}

/** `n` with `digits` decimals. */
export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

/** Runs a bench's main with cleanups and a proper exit code. */
export function runMain(main: (cleanups: Cleanups) => Promise<void>): void {
  const cleanups = new Cleanups()
  main(cleanups)
    .then(
      () => cleanups.run(),
      async (err: unknown) => {
        console.error(err)
        process.exitCode = 1
        await cleanups.run()
      },
    )
    .finally(() => {
      // Open handles (pg pools of a stopped lab, tfjs timers) must not keep a finished bench alive.
      setTimeout(() => process.exit(), 200).unref()
    })
}
