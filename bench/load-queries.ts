/**
 * load.ts's open-loop queries, in a worker thread of their own by default: the 200 subscribers' messages keep
 * the bench's main event loop busy (its delay reached p99 26 ms, max 103 ms), and a query timed there is
 * timed late, both when it is sent and when its answer is read. In this thread, only the queries run on the
 * event loop that times them. `queryLoad` itself also runs on the main thread (`--queries-in-process`, the
 * measurement before 2026-12-03).
 *
 * No imports from src/ or bench/support: the thread loads only this file and bench/thread-task.ts.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { isMainThread, parentPort, workerData } from 'node:worker_threads'

import seedrandom from 'seedrandom'

import { startThreadTask, STOP } from './thread-task'

export const QUERY_INTERVAL_MS = 20
export const RUNS_PAGE = `{ runs(first: 50) { totalCount edges { node { id name status lastEpoch
  summary { finalLoss finalValLoss } } } } }`
export const RUN_HISTORY = `query($id: ID!) { run(id: $id) { id status history { epoch loss valLoss durationMs } } }`

export interface QueryLoadResult {
  latencies: Record<'runs' | 'history', number[]>
  fromSchedule: number[]
  lag: number[]
  clientLoopP99: number
  clientLoopMax: number
  errors: number
  errorSamples: string[]
  maxInFlight: number
  sent: number
  seconds: number
}

async function post(url: string, body: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const json = (await res.json()) as { data?: unknown; errors?: unknown[] }
  if (json.errors?.length || json.data == null) {
    throw new Error(`GraphQL request failed (HTTP ${res.status}): ${JSON.stringify(json.errors)}`)
  }
}

/**
 * Open-loop queries: one every QUERY_INTERVAL_MS until stop(). Latency is measured from the moment the
 * request was handed to fetch; how late that was against its schedule (the client's own lag) is kept apart,
 * in `lag`, and `fromSchedule` keeps the latency from the scheduled time as well (the two differ by the lag).
 */
export function queryLoad(url: string, runIds: () => readonly string[], random: () => number) {
  const latencies: Record<'runs' | 'history', number[]> = { runs: [], history: [] }
  const fromSchedule: number[] = []
  const lag: number[] = []
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  let errors = 0
  const errorSamples: string[] = []
  let inFlight = 0
  let maxInFlight = 0
  let n = 0
  const start = performance.now()
  const pending = new Set<Promise<void>>()
  let stopped = false
  const tick = () => {
    if (stopped) return
    const scheduled = start + n * QUERY_INTERVAL_MS
    const kind = n % 2 === 0 ? 'runs' : 'history'
    n++
    const ids = runIds()
    const body =
      kind === 'runs'
        ? JSON.stringify({ query: RUNS_PAGE })
        : JSON.stringify({ query: RUN_HISTORY, variables: { id: ids[Math.floor(random() * ids.length)] } })
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    const sent = performance.now()
    lag.push(sent - scheduled)
    const p = post(url, body).then(
      () => {
        const now = performance.now()
        latencies[kind].push(now - sent)
        fromSchedule.push(now - scheduled)
      },
      (err: unknown) => {
        errors++
        if (errorSamples.length < 3) errorSamples.push(String(err).slice(0, 200))
      },
    )
    const tracked = p.finally(() => {
      inFlight--
      pending.delete(tracked)
    })
    pending.add(tracked)
    // Next send at its scheduled time, whatever this one does.
    setTimeout(tick, Math.max(0, start + n * QUERY_INTERVAL_MS - performance.now()))
  }
  tick()
  return {
    stop: async (): Promise<QueryLoadResult> => {
      stopped = true
      await Promise.all(pending)
      loop.disable()
      return {
        latencies,
        fromSchedule,
        lag,
        clientLoopP99: loop.percentile(99) / 1e6,
        clientLoopMax: loop.max / 1e6,
        errors,
        errorSamples,
        maxInFlight,
        sent: n,
        seconds: (performance.now() - start) / 1000,
      }
    },
  }
}

type ToThread = { type: 'runs'; ids: string[] } | typeof STOP

/**
 * {@link queryLoad} in a worker thread: the run ids it picks from are sent over whenever `runIds()` grows
 * (checked every 50 ms), and stop() returns the thread's figures.
 */
export function queryLoadInThread(url: string, runIds: () => readonly string[], seed: string) {
  const task = startThreadTask<QueryLoadResult>(__filename, { url, seed, ids: [...runIds()] })
  let known = runIds().length
  const sync = setInterval(() => {
    const ids = runIds()
    if (ids.length === known) return
    known = ids.length
    task.post({ type: 'runs', ids: [...ids] } satisfies ToThread)
  }, 50)
  return {
    stop: (): Promise<QueryLoadResult> => {
      clearInterval(sync)
      return task.stop()
    },
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort
  const data = workerData as { url: string; seed: string; ids: string[] }
  let ids = data.ids
  const load = queryLoad(data.url, () => ids, seedrandom.alea(data.seed))
  port.on('message', (msg: ToThread) => {
    if (msg === STOP) void load.stop().then((r) => port.postMessage(r))
    else ids = msg.ids
  })
}
