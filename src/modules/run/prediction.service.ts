import { conflict, notFound } from '../../errors'
import type { GenerativeModel, LoadedModel, Predictor } from '../../models/family'
import type { GeneratedToken } from '../../models/sequence/sampling'
import type { RunRecord, StoredModel } from './run.repository'
import { RunRepository } from './run.repository'
import { isId } from '../common/ids'
import { evictOldest } from '../common/bounded-map'
import { RunStatus } from './run.status'
import {
  answerQuery,
  requireGenerator,
  requirePredictor,
  type AnswerOf,
  type ModelQuery,
} from './model-query'

export { checkRows, finiteAnswer, MAX_PREDICT_ROWS } from './model-query'

/** Loads a stored model with the family that trained it. */
export type ModelLoader = (run: RunRecord, model: StoredModel) => Promise<LoadedModel>

/** Called as a query's computation starts (in this process or handed to a query thread). */
export type QueryStartListener = (runId: string, kind: ModelQuery['kind']) => void

/**
 * Answers {@link ModelQuery}s with trained models: {@link PredictionService} in the API process, or
 * `ThreadedModelQueries` (src/query/) on a pool of worker threads. Services and resolvers see only this.
 */
/** How a caller follows a query as it computes; see {@link QueryHooks}. */
export interface AnswerOptions {
  /** generate: called with each token as it is chosen, in order, before the answer (which holds them all). */
  onToken?: (token: GeneratedToken) => void
  /** Aborting ends a generation at its next token; the answer then holds the tokens so far. */
  signal?: AbortSignal
}

export interface ModelQueries {
  answer<Q extends ModelQuery>(runId: string, query: Q, options?: AnswerOptions): Promise<AnswerOf<Q>>
  /** Registers a listener for the start of each computation; returns its removal. */
  onStart(listener: QueryStartListener): () => void
  dispose(): void | Promise<void>
}

/**
 * The run and its stored model, after checking that the run exists and has finished training (NOT_FOUND,
 * CONFLICT otherwise).
 */
export async function findTrainedModel(
  runs: RunRepository,
  runId: string,
): Promise<{ run: RunRecord; stored: StoredModel }> {
  const run = isId(runId) ? await runs.findById(runId) : null
  if (!run) throw notFound('run', runId)
  if (run.status !== RunStatus.SUCCEEDED) {
    throw conflict(`run ${runId} has no trained model (it is ${run.status})`, { status: run.status })
  }
  const stored = await runs.findModel(runId)
  if (!stored) throw conflict(`run ${runId} has no stored model`)
  return { run, stored }
}

/** A loaded model in the cache, with the number of calls using it right now. */
interface CacheEntry {
  loading: Promise<LoadedModel>
  leases: number
  /** Fallen out of the cache: disposed as soon as the last lease ends. */
  evicted: boolean
}

/**
 * Answers with trained models in this process (LAB_QUERY_THREADS=0). Loading a model costs far more than a
 * small prediction, so the most recently used ones are kept. A model is only used inside a lease
 * (`withPredictor`, `withGenerator`), and one that falls out of the cache is disposed when its last lease
 * ends - never under a call still using it.
 */
export class PredictionService implements ModelQueries {
  private readonly cache = new Map<string, CacheEntry>()
  private readonly listeners = new Set<QueryStartListener>()

  constructor(
    private readonly runs: RunRepository,
    private readonly load: ModelLoader,
    private readonly cacheSize = 8,
  ) {}

  answer<Q extends ModelQuery>(runId: string, query: Q, options: AnswerOptions = {}): Promise<AnswerOf<Q>> {
    return this.withModel(runId, (model) => {
      for (const listener of this.listeners) listener(runId, query.kind)
      const { onToken, signal } = options
      return answerQuery(model, runId, query, {
        ...(onToken ? { onToken } : {}),
        ...(signal ? { cancelled: () => signal.aborted } : {}),
      })
    })
  }

  onStart(listener: QueryStartListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Runs `use` with the run's loaded model, after checking that the run exists and has finished training. */
  async withModel<T>(runId: string, use: (model: LoadedModel) => T | Promise<T>): Promise<T> {
    const entry = await this.entryFor(runId)
    entry.leases++
    try {
      return await use(await entry.loading)
    } finally {
      entry.leases--
      if (entry.evicted && entry.leases === 0) void disposeEntry(entry)
    }
  }

  /** `use` with the run's supervised predictor; BAD_USER_INPUT for a generative model, naming what it answers. */
  withPredictor<T>(runId: string, use: (predictor: Predictor) => T | Promise<T>): Promise<T> {
    return this.withModel(runId, (model) => use(requirePredictor(model, runId)))
  }

  /** `use` with the run's generative model; BAD_USER_INPUT for a supervised one. */
  withGenerator<T>(runId: string, use: (generator: GenerativeModel) => T | Promise<T>): Promise<T> {
    return this.withModel(runId, (model) => use(requireGenerator(model, runId)))
  }

  dispose(): void {
    for (const entry of this.cache.values()) {
      entry.evicted = true
      if (entry.leases === 0) void disposeEntry(entry)
    }
    this.cache.clear()
  }

  private async entryFor(runId: string): Promise<CacheEntry> {
    const cached = this.cache.get(runId)
    if (cached) {
      this.cache.delete(runId)
      this.cache.set(runId, cached)
      return cached
    }
    const { run, stored } = await findTrainedModel(this.runs, runId)
    // Another request may have started loading it while this one read the run.
    const raced = this.cache.get(runId)
    if (raced) return raced
    const entry: CacheEntry = { loading: this.load(run, stored), leases: 0, evicted: false }
    this.cache.set(runId, entry)
    entry.loading.catch(() => {
      if (this.cache.get(runId) === entry) this.cache.delete(runId)
    })
    evictOldest(this.cache, this.cacheSize, (evicted) => {
      evicted.evicted = true
      if (evicted.leases === 0) void disposeEntry(evicted)
    })
    return entry
  }
}

async function disposeEntry(entry: CacheEntry): Promise<void> {
  await entry.loading.then(
    (model) => model.dispose(),
    () => {},
  )
}
