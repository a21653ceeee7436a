/**
 * Clients that loop one POST until stopped, in a worker thread of their own: query-threads.ts times
 * `{ __typename }` on its main thread, and four clients parsing 200 KB answers and sending 1.9 MB bodies on
 * that same event loop would delay the samples they are meant to disturb only through the server.
 *
 * No imports from src/ or bench/support: the thread loads only this file and bench/thread-task.ts.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads'

import { startThreadTask } from './thread-task'

export interface LoopFigures {
  requests: number
  errors: number
  firstError: string | undefined
}

/** `clients` concurrent loops POSTing `body` to `url` in a worker thread, until stop(). */
export function loopRequestsInThread(url: string, body: string, clients: number) {
  return startThreadTask<LoopFigures>(__filename, { url, body, clients })
}

/** The same loops on the calling thread's event loop (how query-threads.ts measured before 2026-12-03). */
export function loopRequests(url: string, body: string, clients: number) {
  let stop = false
  const figures: LoopFigures = { requests: 0, errors: 0, firstError: undefined }
  const loops = Array.from({ length: clients }, async () => {
    while (!stop) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        })
        const json = (await res.json()) as { errors?: unknown[] }
        if (json.errors) {
          figures.errors++
          figures.firstError ??= JSON.stringify(json.errors).slice(0, 300)
        }
      } catch (err) {
        figures.errors++
        figures.firstError ??= String(err)
      }
      figures.requests++
    }
  })
  return {
    stop: async (): Promise<LoopFigures> => {
      stop = true
      await Promise.all(loops)
      return figures
    },
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort
  const data = workerData as { url: string; body: string; clients: number }
  const loops = loopRequests(data.url, data.body, data.clients)
  port.once('message', () => void loops.stop().then((f) => port.postMessage(f)))
}
