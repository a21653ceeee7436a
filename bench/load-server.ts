/**
 * The server of bench/load.ts: the real lab (startLab, as `npm start` builds it) in a process of its own,
 * forked with an IPC channel so that the bench can ask for its heap, which /proc does not show, and for
 * what it measured of itself. Not meant to be run by hand: bench/load.ts forks it with `--expose-gc` and the
 * settings in the environment.
 *
 * Messages: it sends `{ type: 'ready', url, wsUrl }` once listening; it answers `{ type: 'memory' }` with
 * `{ type: 'memory', rss, heapUsed, heapTotal, external }` (bytes, after a full collection when gc is
 * exposed), `{ type: 'stats', reset }` with `{ type: 'stats', ... }` (below; `reset` starts a new window)
 * and stops on `{ type: 'stop' }` or SIGTERM.
 *
 * Its own measurements, from the API process's side, so that a slow answer can be put where it waited:
 * - the event loop's delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution);
 * - per HTTP request, from the `request` event to the response's `finish` (what the client sees, less the
 *   network and the client's own lag), by query kind (the body's `history` or not);
 * - per pg pool connection: the wait for it (`pool.connect` to the client handed out) and how long it was
 *   held (to its `release`), and the most callers seen waiting at once. This counts every pg.Pool of the
 *   process: the API's Prisma pool and pg-boss's (the LISTEN connection is a plain Client, not counted).
 */
import 'reflect-metadata'

import http from 'node:http'
import { createHistogram, monitorEventLoopDelay, RecordableHistogram } from 'node:perf_hooks'

import pg from 'pg'

import { loadConfig } from '../src/config'
import { startLab } from '../src/lab'
import { createLogger } from '../src/logger'

type Request = { type: 'memory' } | { type: 'stop' } | { type: 'stats'; reset?: boolean }

const NS = 1e6
const loopDelay = monitorEventLoopDelay({ resolution: 10 })
loopDelay.enable()
let windows = newWindow()

function newWindow() {
  return {
    started: performance.now(),
    http: { runs: createHistogram(), history: createHistogram(), other: createHistogram() },
    poolWait: createHistogram(),
    poolHold: createHistogram(),
    maxWaiting: 0,
    maxInUse: 0,
  }
}

function record(h: RecordableHistogram, ms: number) {
  h.record(Math.max(1, Math.round(ms * 1000)))
}

function summary(h: { count: number; percentile(p: number): number; max: number }, unit: number) {
  const n = h.count
  const at = (p: number) => (n === 0 ? null : h.percentile(p) / unit)
  return { n, p50: at(50), p99: at(99), max: n === 0 ? null : h.max / unit }
}

// Every request, timed from the server's first sight of it to the last byte handed to the socket.
const emit = http.Server.prototype.emit
http.Server.prototype.emit = function (this: http.Server, event: string, ...args: unknown[]) {
  if (event === 'request') {
    const [req, res] = args as [http.IncomingMessage & { body?: { query?: unknown } }, http.ServerResponse]
    if (req.method === 'POST') {
      const t0 = performance.now()
      res.once('finish', () => {
        const query = typeof req.body?.query === 'string' ? req.body.query : ''
        const kind = query.includes('history') ? 'history' : query.includes('runs(') ? 'runs' : 'other'
        record(windows.http[kind], performance.now() - t0)
      })
    }
  }
  return (emit as (...a: unknown[]) => boolean).call(this, event, ...args)
} as typeof emit

// Pool waits and holds. pg.Pool#connect is called with a callback by pool.query and without one by Prisma's
// transactions; both are covered.
const connect = pg.Pool.prototype.connect
pg.Pool.prototype.connect = function (this: pg.Pool, cb?: unknown) {
  const t0 = performance.now()
  const pool: pg.Pool = this // eslint-disable-line @typescript-eslint/no-this-alias -- used in callbacks below
  windows.maxWaiting = Math.max(windows.maxWaiting, pool.waitingCount + 1)
  const handOut = (client: pg.PoolClient | undefined) => {
    record(windows.poolWait, performance.now() - t0)
    windows.maxInUse = Math.max(windows.maxInUse, pool.totalCount - pool.idleCount)
    if (!client) return
    const held = performance.now()
    const release = client.release
    client.release = function (this: pg.PoolClient, ...a: Parameters<typeof release>) {
      client.release = release
      record(windows.poolHold, performance.now() - held)
      return release.apply(this, a)
    }
  }
  if (typeof cb === 'function') {
    const wrapped = (err: Error | undefined, client: pg.PoolClient, done: unknown) => {
      handOut(err ? undefined : client)
      ;(cb as (...a: unknown[]) => void)(err, client, done)
    }
    return (connect as (cb: unknown) => void).call(pool, wrapped)
  }
  return (connect as () => Promise<pg.PoolClient>).call(pool).then((client) => {
    handOut(client)
    return client
  })
} as typeof connect

async function main(): Promise<void> {
  const config = loadConfig(process.env)
  const lab = await startLab(config, createLogger(config.logLevel, 'bench-load'))
  let stopping: Promise<void> | undefined
  const stop = () => (stopping ??= lab.stop().finally(() => process.exit(0)))
  process.once('SIGTERM', () => void stop())
  process.on('message', (message: Request) => {
    if (message.type === 'stop') void stop()
    if (message.type === 'memory') {
      const gc = (globalThis as { gc?: () => void }).gc
      gc?.()
      const m = process.memoryUsage()
      process.send?.({
        type: 'memory',
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
      })
    }
    if (message.type === 'stats') {
      const w = windows
      process.send?.({
        type: 'stats',
        seconds: (performance.now() - w.started) / 1000,
        loopDelay: summary(
          { count: loopDelay.count, percentile: (p) => loopDelay.percentile(p), max: loopDelay.max },
          NS,
        ),
        http: {
          runs: summary(w.http.runs, 1000),
          history: summary(w.http.history, 1000),
          other: summary(w.http.other, 1000),
        },
        poolWait: summary(w.poolWait, 1000),
        poolHold: summary(w.poolHold, 1000),
        maxWaiting: w.maxWaiting,
        maxInUse: w.maxInUse,
      })
      if (message.reset) {
        windows = newWindow()
        loopDelay.reset()
      }
    }
  })
  process.send?.({ type: 'ready', url: lab.url, wsUrl: lab.wsUrl })
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
