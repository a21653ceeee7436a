/**
 * Request-time model computation off the API's event loop: a bounded pool of worker threads (piscina), each
 * with TensorFlow.js and a small cache of loaded models. One explainInstance computes for up to a second;
 * in the API process it would stall every other query and subscription for that long.
 */
import * as path from 'node:path'
import { Piscina } from 'piscina'
import { AppError, ErrorCode, serverBusy } from '../errors'
import type { Logger } from '../logger'
import type { StoredModel } from '../models/family'
import type { ModelFamily } from '../models/family.enums'
import { evictOldest } from '../modules/common/bounded-map'
import type { AnswerOf, ModelQuery } from '../modules/run/model-query'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import type { GeneratedToken } from '../models/sequence/sampling'
import {
  type AnswerOptions,
  findTrainedModel,
  type ModelQueries,
  type QueryStartListener,
} from '../modules/run/prediction.service'
import type { RunRepository } from '../modules/run/run.repository'
import type { ModelTask, ParseBodyTask, ThreadReply, ThreadSettings } from './protocol'
import type { ParsedBody } from '../server/json-body'

export interface QueryPoolOptions {
  /** Worker threads at most (LAB_QUERY_THREADS). */
  threads: number
  /** Tasks that may wait for a thread; one more is refused SERVER_BUSY (LAB_QUERY_QUEUE). */
  maxQueue: number
  settings: ThreadSettings
  logger: Logger
  /** The thread's entry point; tests pass another one. */
  filename?: string
}

/** Phases of the pool: tasks are only taken while open. */
type PoolState = { phase: 'open' } | { phase: 'closing'; done: Promise<void> }

/**
 * A bounded piscina pool. It counts the tasks it holds itself (running plus waiting), so that the bound is
 * exact and the refusal a stable SERVER_BUSY rather than piscina's queue-full error text.
 */
export class QueryPool {
  private readonly piscina: Piscina
  private held = 0
  /** Recent mean task time, for the `retryAfterMs` hint. */
  private meanMs = 100
  private state: PoolState = { phase: 'open' }

  constructor(private readonly options: QueryPoolOptions) {
    const entry = threadEntry()
    this.piscina = new Piscina({
      filename: options.filename ?? entry.file,
      execArgv: options.filename ? [] : entry.execArgv,
      // Started at the first query, then kept: an API that is never asked one loads no TensorFlow.js.
      minThreads: 0,
      maxThreads: options.threads,
      // The longest a Node timer holds (2^31 - 1 ms, ~24.8 days): anything larger becomes 1 ms, which would
      // end every thread right after its task and load TensorFlow.js again for the next query.
      idleTimeout: 2 ** 31 - 1,
      workerData: options.settings,
    })
    // A thread that dies is replaced by piscina; its task is rejected (see run). Nothing else to do here.
    this.piscina.on('error', (err: unknown) => options.logger.error({ err }, 'query thread error'))
  }

  /** Tasks running or waiting now. */
  get size(): number {
    return this.held
  }

  /**
   * Runs one task on a thread; throws the thread's AppError, SERVER_BUSY, or QUERY_THREAD_FAILED. Ports and
   * buffers in `transferList` move to the thread with the task (when it is refused, they stay).
   */
  async run(task: unknown, transferList: (MessagePort | ArrayBuffer)[] = []): Promise<unknown> {
    const { threads, maxQueue } = this.options
    if (this.state.phase !== 'open' || this.held >= threads + maxQueue) {
      const waiting = Math.max(0, this.held - threads) + 1
      const retryAfterMs = Math.max(100, Math.ceil((this.meanMs * waiting) / threads))
      throw serverBusy(
        this.state.phase === 'open'
          ? `every query thread is busy and ${maxQueue} queries are waiting (LAB_QUERY_QUEUE); ` +
              `try again in ${retryAfterMs} ms`
          : 'the server is shutting down',
        retryAfterMs,
      )
    }
    this.held++
    const started = performance.now()
    let reply: ThreadReply
    try {
      reply = (await this.piscina.run(task, { transferList })) as ThreadReply
    } catch (err) {
      this.options.logger.error({ err }, 'a query thread died while answering')
      throw new AppError(
        ErrorCode.QUERY_THREAD_FAILED,
        'the thread computing this answer stopped before it finished; the query was not answered (try again)',
      )
    } finally {
      this.held--
      this.meanMs = 0.8 * this.meanMs + 0.2 * (performance.now() - started)
    }
    if (reply.ok) return reply.answer
    if ('error' in reply) throw new AppError(reply.error.code, reply.error.message, reply.error.details)
    // A bug in the computation: logged with the thread's stack, answered INTERNAL_SERVER_ERROR by the formatter.
    throw new Error(`query thread: ${reply.internal}`)
  }

  /** Lets running and waiting tasks finish, refuses new ones, then ends the threads. */
  close(): Promise<void> {
    if (this.state.phase === 'closing') return this.state.done
    const done = this.piscina.close()
    this.state = { phase: 'closing', done }
    return done
  }
}

/**
 * A large request body parsed on `pool` (src/server/json-body.ts). Bytes that own their whole ArrayBuffer (the
 * body reader's concatenation, for every body of this size) move to the thread: copying 1.9 MB cost the loop as
 * much as cloning the parsed rows had. Any other view is copied, as its buffer may hold someone else's bytes.
 */
export async function parseBodyOnThread(pool: QueryPool, bytes: Uint8Array): Promise<ParsedBody> {
  const task: ParseBodyTask = { kind: 'parseBody', bytes }
  const owned =
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
  return (await pool.run(task, owned ? [bytes.buffer] : [])) as ParsedBody
}

/** A stored model as the API hands it to threads: weights in a SharedArrayBuffer, copied there once. */
interface SharedModel {
  family: ModelFamily
  stored: StoredModel
}

/**
 * {@link ModelQueries} answered on a {@link QueryPool}. The API reads the run and its stored model (the
 * checks that answer NOT_FOUND and CONFLICT stay here, before any task is queued) and keeps the most recent
 * ones, their weights in shared memory, so a task costs no database read and no copy of the weights.
 */
export class ThreadedModelQueries implements ModelQueries {
  private readonly models = new Map<string, Promise<SharedModel>>()
  private readonly listeners = new Set<QueryStartListener>()

  constructor(
    private readonly runs: RunRepository,
    private readonly pool: QueryPool,
    private readonly cacheSize = 32,
  ) {}

  async answer<Q extends ModelQuery>(
    runId: string,
    query: Q,
    options: AnswerOptions = {},
  ): Promise<AnswerOf<Q>> {
    const { family, stored } = await this.sharedModel(runId)
    const task: ModelTask = { kind: 'model', runId, family, stored, query }
    const { onToken, signal } = options
    if (!onToken) {
      const answer = this.pool.run(task)
      for (const listener of this.listeners) listener(runId, query.kind)
      return (await answer) as AnswerOf<Q>
    }
    const answer = runStreamed(this.pool, task, onToken, signal)
    for (const listener of this.listeners) listener(runId, query.kind)
    return (await answer) as AnswerOf<Q>
  }

  onStart(listener: QueryStartListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  dispose(): Promise<void> {
    this.models.clear()
    return this.pool.close()
  }

  private sharedModel(runId: string): Promise<SharedModel> {
    const cached = this.models.get(runId)
    if (cached) {
      this.models.delete(runId)
      this.models.set(runId, cached)
      return cached
    }
    const loading = findTrainedModel(this.runs, runId).then(({ run, stored }) => {
      const shared = new Uint8Array(new SharedArrayBuffer(stored.weights.byteLength))
      shared.set(stored.weights)
      return { family: run.family, stored: { ...stored, weights: shared } }
    })
    this.models.set(runId, loading)
    loading.catch(() => {
      if (this.models.get(runId) === loading) this.models.delete(runId)
    })
    evictOldest(this.models, this.cacheSize)
    return loading
  }
}

/** The thread's entry point: compiled JS in production, the TypeScript source (through tsx) in tests. */
function threadEntry(): { file: string; execArgv: string[] } {
  const ts = __filename.endsWith('.ts')
  const file = path.join(__dirname, ts ? 'query-thread.ts' : 'query-thread.js')
  return { file, execArgv: ts ? ['--import', 'tsx'] : [] }
}

/**
 * A generation on `pool` whose tokens reach `onToken` while the thread is still computing: the thread posts
 * each on a MessagePort of its own and watches a shared flag the signal sets. Messages on a port keep their
 * order but may arrive after the task's reply (another port), so the tokens the reply holds beyond those
 * already delivered are delivered from it: every token once, in order.
 */
export async function runStreamed(
  pool: QueryPool,
  task: ModelTask,
  onToken: (token: GeneratedToken) => void,
  signal?: AbortSignal,
): Promise<{ tokens: GeneratedToken[] }> {
  const channel = new MessageChannel()
  const cancel = new Int32Array(new SharedArrayBuffer(4))
  const abort = () => Atomics.store(cancel, 0, 1)
  if (signal?.aborted) abort()
  signal?.addEventListener('abort', abort, { once: true })
  let delivered = 0
  channel.port1.on('message', (token: GeneratedToken) => {
    delivered++
    onToken(token)
  })
  try {
    const result = (await pool.run({ ...task, tokens: channel.port2, cancel }, [channel.port2])) as {
      tokens: GeneratedToken[]
    }
    channel.port1.close()
    for (const token of result.tokens.slice(delivered)) onToken(token)
    return result
  } finally {
    channel.port1.close()
    signal?.removeEventListener('abort', abort)
  }
}
