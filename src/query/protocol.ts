/**
 * What crosses between the API's event loop and a query thread (src/query/query-thread.ts). Everything here
 * is structured-cloned by `postMessage`, except the model's weights, which sit in a SharedArrayBuffer the
 * API filled once: every task carries them without a copy, and a thread copies them only when it loads the
 * model into its own cache. Packed rows (src/modules/common/packed-rows.ts) are shared memory too: the thread
 * that parsed a request body fills them, and the one that predicts reads them, both without a copy.
 */
import type { MessagePort } from 'node:worker_threads'
import type { StoredModel } from '../models/family'
import type { ModelFamily } from '../models/family.enums'
import type { ModelQuery } from '../modules/run/model-query'
import type { ErrorCode } from '../errors'

/** What a thread is started with (piscina's `workerData`). */
export interface ThreadSettings {
  /** Loaded models one thread keeps. */
  cacheSize: number
  tfBackend: 'tensorflow' | 'wasm' | 'cpu' | undefined
  /** Niceness the thread gives itself at start (0: unchanged); see query-thread.ts. */
  nice: number
}

/** One query for one run's model. */
export interface ModelTask {
  kind: 'model'
  runId: string
  family: ModelFamily
  /** The stored model, `weights` a view of a SharedArrayBuffer. */
  stored: StoredModel
  query: ModelQuery
  /** generate, streamed: where the thread posts each token as it is chosen (closed when the task ends). */
  tokens?: MessagePort
  /** generate, streamed: element 0 set to 1 by the API ends the generation at the next token. */
  cancel?: Int32Array
}

/** A large JSON request body to parse (src/server/json-body.ts); answered with a `ParsedBody`. */
export interface ParseBodyTask {
  kind: 'parseBody'
  bytes: Uint8Array
}

export type ThreadTask = ModelTask | ParseBodyTask

/**
 * A thread's reply. A failure the client caused comes back as the AppError's parts and is thrown again as
 * the same AppError on the API side; anything else (a bug) is answered INTERNAL_SERVER_ERROR, as it would
 * have been in-process. A thread that dies answers nothing: piscina rejects the task instead.
 */
export type ThreadReply =
  | { ok: true; answer: unknown }
  | { ok: false; error: { code: ErrorCode; message: string; details: Record<string, unknown> } }
  | { ok: false; internal: string }
