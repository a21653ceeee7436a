/**
 * Request-time model computation and the API's event loop: `{ __typename }` latency on an idle server, against
 * the same while 4 clients loop `explainInstance` (default methods: IG and exact Shapley over Friedman #1's 10
 * features, about 33k model rows each) and while 4 clients loop `predict` of 10,000 rows. Figures are ratios to
 * the idle latency measured on the same server in the same run. Two servers, each `node dist/src/main.js` in a
 * child process with its own database and one small trained MLP:
 *
 * - `LAB_QUERY_THREADS=0`: the computation on the API's event loop (what the server did before query threads),
 * - `LAB_QUERY_THREADS=1`: the default on this 2-core machine kind (src/config.ts).
 *
 * Target: `{ __typename }` p99 under load at most 3x idle with query threads.
 *
 * Run (compiled): `npx tsc -p tsconfig.build.json && node dist/bench/query-threads.js [--quick] [--only loop|threads]`
 * (`--only threads`: the query-thread server alone). `--baseline <other build's dist> [--rounds N]`: that
 * build's query-thread server and this one's, alternating N times each (A/B/A/B); `--cpu-prof <dir>`: each
 * server child writes its CPU profile there.
 */
import 'reflect-metadata'

import { readFileSync } from 'node:fs'
import * as path from 'node:path'

import {
  Cleanups,
  fmt,
  gql,
  heading,
  loadLine,
  machineLine,
  parseBenchArgs,
  percentile,
  printTable,
  requireCompiled,
  runMain,
  startChildServer,
  waitForRuns,
} from './support'
import { loopRequests, loopRequestsInThread } from './request-loops'

const ROW = [0.9, 0.8, 0.1, 0.9, 0.7, 0.5, 0.5, 0.5, 0.5, 0.5]
const LOAD_CLIENTS = 4

const post = (body: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
})

interface Latency {
  p50: number
  p99: number
  /** Samples whose connection the server cut (a loop blocked past LAB_HTTP_HEADERS_TIMEOUT_MS): not timed. */
  failed: number
}

async function typenameLatency(url: string, samples: number): Promise<Latency> {
  const body = JSON.stringify({ query: '{ __typename }' })
  const times: number[] = []
  let failed = 0
  for (let i = 0; i < samples; i++) {
    const start = performance.now()
    try {
      const res = await fetch(url, post(body))
      await res.text()
      times.push(performance.now() - start)
    } catch {
      failed++
    }
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99), failed }
}

/**
 * CPU time the process's main thread (the event loop) has used, in ms: Linux's schedstat counts the time a
 * thread ran, so unlike a profile or a wall clock it does not grow when the machine's load preempts it.
 */
function mainThreadCpuMs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6
  } catch {
    return NaN
  }
}

/**
 * `{ __typename }` latency while `clients` loop the given request; also how many of those completed, and the
 * server's event-loop CPU time per completed one: the window's, less `sampleCpuMs` (the idle event-loop CPU
 * of one `{ __typename }`) per sample.
 */
async function underLoad(
  url: string,
  pid: number,
  body: string,
  samples: number,
  sampleCpuMs: number,
): Promise<Latency & { loadRequests: number; loadErrors: number; loopCpuMs: number }> {
  const cpuBefore = mainThreadCpuMs(pid)
  // BENCH_LOAD_CLIENTS_IN_PROCESS=1: the load clients on this event loop, beside the samples, as before.
  const clients =
    process.env['BENCH_LOAD_CLIENTS_IN_PROCESS'] === '1'
      ? loopRequests(url, body, LOAD_CLIENTS)
      : loopRequestsInThread(url, body, LOAD_CLIENTS)
  // Every client has a request in flight before the first sample.
  await new Promise((resolve) => setTimeout(resolve, 300))
  const latency = await typenameLatency(url, samples)
  const { requests: loadRequests, errors: loadErrors, firstError } = await clients.stop()
  const loopCpuMs = (mainThreadCpuMs(pid) - cpuBefore - samples * sampleCpuMs) / loadRequests
  if (firstError !== undefined) console.log(`  first error under load: ${firstError}`)
  return { ...latency, loadRequests, loadErrors, loopCpuMs }
}

interface Build {
  /** `dist/src/main.js` of the build to run; undefined: this one. */
  main?: string
  /** Directory for the child's CPU profile (`node --cpu-prof`). */
  cpuProf?: string
}

async function measure(cleanups: Cleanups, threads: number, samples: number, build: Build = {}) {
  const server = await startChildServer(
    cleanups,
    { LAB_WORKERS: '1', LAB_QUERY_THREADS: String(threads), LAB_QUERY_QUEUE: '32' },
    {
      ...(build.main ? { main: build.main } : {}),
      ...(build.cpuProf ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${build.cpuProf}`] } : {}),
    },
  )
  const { generateDataset } = await gql<{ generateDataset: { id: string } }>(
    server.url,
    `mutation { generateDataset(input: { name: "friedman", generator: FRIEDMAN1, rows: 1000, seed: 3 }) { id } }`,
  )
  const { startRun } = await gql<{ startRun: { id: string } }>(
    server.url,
    `mutation($d: ID!) { startRun(input: { datasetId: $d, hiddenLayers: [64, 32], epochs: 3 }) { id } }`,
    { d: generateDataset.id },
  )
  await waitForRuns(server.url, [startRun.id])
  const explain = JSON.stringify({
    query: `query($id: ID!, $row: [Float!]!) { explainInstance(runId: $id, row: $row) { prediction } }`,
    variables: { id: startRun.id, row: ROW },
  })
  const rows = Array.from({ length: 10_000 }, (_, i) => ROW.map((v, j) => (v + 0.0007 * i * (j + 1)) % 1))
  const predict = JSON.stringify({
    query: `query($id: ID!, $rows: [[Float!]!]!) { predict(runId: $id, rows: $rows) }`,
    variables: { id: startRun.id, rows },
  })
  // Warm-up: the model loaded (in every thread that may answer), the server's code paths compiled.
  for (let i = 0; i < 4; i++)
    await Promise.all([gql(server.url, '{ __typename }'), fetch(server.url, post(explain))])
  await typenameLatency(server.url, 20)

  const idleCpu = mainThreadCpuMs(server.pid)
  const idle = await typenameLatency(server.url, samples)
  const sampleCpuMs = (mainThreadCpuMs(server.pid) - idleCpu) / samples
  const explaining = await underLoad(server.url, server.pid, explain, samples, sampleCpuMs)
  const predicting = await underLoad(server.url, server.pid, predict, samples, sampleCpuMs)
  await server.stop()
  return { idle, explaining, predicting, sampleCpuMs }
}

runMain(async (cleanups) => {
  requireCompiled()
  const args = parseBenchArgs()
  const samples = args.quick ? 50 : 200
  console.log(`# query threads: { __typename } under explainInstance / predict load\n${machineLine()}`)
  const rows: Record<string, string | number>[] = []
  const cpuProf = args.cpuProf ? path.resolve(args.cpuProf) : undefined
  // With --baseline: the query-thread server of that build and of this one, alternating (A/B/A/B ...).
  const runs: { label: string; threads: number; build: Build }[] = []
  if (args.baseline) {
    const main = path.resolve(args.baseline, 'src', 'main.js')
    for (let round = 1; round <= (args.rounds ?? 2); round++) {
      runs.push({ label: `baseline, round ${round}`, threads: 1, build: { main } })
      runs.push({ label: `this build, round ${round}`, threads: 1, build: {} })
    }
  } else {
    for (const threads of [0, 1]) {
      if (args.only.length > 0 && !args.only.includes(threads === 0 ? 'loop' : 'threads')) continue
      const label = threads === 0 ? 'LAB_QUERY_THREADS=0 (event loop)' : `LAB_QUERY_THREADS=${threads}`
      runs.push({ label, threads, build: {} })
    }
  }
  for (const { label, threads, build } of runs) {
    const r = await measure(cleanups, threads, samples, { ...build, ...(cpuProf ? { cpuProf } : {}) })
    const line = (
      what: string,
      l: Latency,
      extra: { loadRequests: number; loadErrors: number; loopCpuMs: number } | null,
    ) => ({
      server: label,
      while: what,
      'p50 ms': fmt(l.p50, 1),
      'p99 ms': fmt(l.p99, 1),
      'p50 / idle': fmt(l.p50 / r.idle.p50, 1),
      'p99 / idle': fmt(l.p99 / r.idle.p99, 1),
      'cut samples': l.failed,
      'load requests (errors)': extra ? `${extra.loadRequests} (${extra.loadErrors})` : '-',
      'loop CPU ms / request': extra ? fmt(extra.loopCpuMs, 1) : fmt(r.sampleCpuMs, 1),
    })
    rows.push(line('idle', r.idle, null))
    rows.push(line(`${LOAD_CLIENTS} x explainInstance`, r.explaining, r.explaining))
    rows.push(line(`${LOAD_CLIENTS} x predict(10,000 rows)`, r.predicting, r.predicting))
    console.log(`${label}: ${loadLine()}`)
  }
  heading(`{ __typename } latency, ${samples} sequential samples per row`)
  printTable(rows)
  console.log('\ntarget: with query threads, p99 under load <= 3x idle')
  console.log(machineLine())
})
