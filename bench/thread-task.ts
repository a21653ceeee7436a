/**
 * A bench task in a worker thread of its own (bench/load-queries.ts, bench/request-loops.ts): the thread runs
 * `file` with `data`, takes messages while it works, and answers the 'stop' message with its figures once.
 * No other imports: a task's thread loads only its own file and this one.
 */
import { Worker } from 'node:worker_threads'

export const STOP = 'stop'

export function startThreadTask<Figures>(file: string, data: unknown) {
  const worker = new Worker(file, { workerData: data })
  const figures = new Promise<Figures>((resolve, reject) => {
    worker.once('message', (f: Figures) => resolve(f))
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`the bench thread exited (${code}) before its figures`)))
  })
  return {
    post: (message: unknown) => worker.postMessage(message),
    stop: async (): Promise<Figures> => {
      worker.postMessage(STOP)
      const f = await figures
      await worker.terminate()
      return f
    },
  }
}
