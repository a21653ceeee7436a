/**
 * A query thread's entry point (piscina's task function). It keeps the most recently used models loaded and
 * answers each task with the same {@link answerQuery} the API would run in-process. Piscina gives a thread one
 * task at a time, so a model evicted here is never in use.
 */
import fs from 'node:fs'
import os from 'node:os'
import { workerData } from 'node:worker_threads'
import { AppError } from '../errors'
import type { LoadedModel } from '../models/family'
import { familyOf } from '../models/registry'
import { evictOldest } from '../modules/common/bounded-map'
import { answerQuery } from '../modules/run/model-query'
import { selectBackend } from '../training/backend'
import { parseJsonBody } from '../server/json-body'
import type { ModelTask, ThreadReply, ThreadSettings, ThreadTask } from './protocol'

const settings = workerData as ThreadSettings
const cache = new Map<string, LoadedModel>()
if (settings.nice > 0) lowerThreadPriority(settings.nice)

/**
 * Makes this thread background work inside the API process: when the cores are busy the kernel runs the
 * event loop (and the process's other threads) first, and a nice thread still gets an idle core whole. On
 * Linux a thread has a niceness of its own: setpriority on its thread id (from /proc/thread-self) changes this
 * thread only. Best effort: elsewhere, or where it is refused, the thread keeps the API's priority.
 */
function lowerThreadPriority(nice: number): void {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').at(-1))
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) os.setPriority(tid, nice)
  } catch {
    // Not Linux, or no /proc: unchanged.
  }
}

export default async function answerTask(task: ThreadTask): Promise<ThreadReply> {
  if (task.kind === 'parseBody') return { ok: true, answer: parseJsonBody(task.bytes) }
  try {
    const model = await modelFor(task)
    const { tokens, cancel } = task
    return {
      ok: true,
      answer: answerQuery(model, task.runId, task.query, {
        ...(tokens ? { onToken: (token) => tokens.postMessage(token) } : {}),
        ...(cancel ? { cancelled: () => Atomics.load(cancel, 0) === 1 } : {}),
      }),
    }
  } catch (err) {
    if (err instanceof AppError) {
      return { ok: false, error: { code: err.code, message: err.message, details: err.details } }
    }
    return { ok: false, internal: err instanceof Error ? (err.stack ?? err.message) : String(err) }
  } finally {
    task.tokens?.close()
  }
}

async function modelFor(task: ModelTask): Promise<LoadedModel> {
  const cached = cache.get(task.runId)
  if (cached) {
    cache.delete(task.runId)
    cache.set(task.runId, cached)
    return cached
  }
  await selectBackend(settings.tfBackend)
  // The family decodes the weights into tensors of this thread; its own copy keeps them off the shared buffer.
  const weights = new Uint8Array(task.stored.weights)
  const model = await familyOf(task.family).load({ ...task.stored, weights })
  cache.set(task.runId, model)
  evictOldest(cache, settings.cacheSize, (evicted) => evicted.dispose())
  return model
}
