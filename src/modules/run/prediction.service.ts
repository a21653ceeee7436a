import { badInput, conflict, notFound } from '../../errors'
import type { GenerativeModel, LoadedModel, Predictor } from '../../models/family'
import type { RunRecord, StoredModel } from './run.repository'
import { RunRepository } from './run.repository'
import { isId } from '../common/ids'
import { FLOAT32_MAX } from '../dataset/dataset.content'
import { RunStatus } from './run.status'

/** Most rows one predict (or encode, decode, sample ...) call may send or ask for. */
export const MAX_PREDICT_ROWS = 10_000

/** Loads a stored model with the family that trained it. */
export type ModelLoader = (run: RunRecord, model: StoredModel) => Promise<LoadedModel>

/** A loaded model in the cache, with the number of calls using it right now. */
interface CacheEntry {
  loading: Promise<LoadedModel>
  leases: number
  /** Fallen out of the cache: disposed as soon as the last lease ends. */
  evicted: boolean
}

/**
 * Answers with trained models. Loading a model costs far more than a small prediction, so the most
 * recently used ones are kept. A model is only used inside a lease (`withPredictor`, `withGenerator`), and
 * one that falls out of the cache is disposed when its last lease ends - never under a call still using it.
 */
export class PredictionService {
  private readonly cache = new Map<string, CacheEntry>()

  constructor(
    private readonly runs: RunRepository,
    private readonly load: ModelLoader,
    private readonly cacheSize = 8,
  ) {}

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
    return this.withModel(runId, (model) => {
      if (!model.predictor) {
        throw badInput(
          `run ${runId} is a generative model: it has no predictions; ask it with sample, encode, decode, ` +
            'reconstruct or explainLatent',
          { field: 'runId' },
        )
      }
      return use(model.predictor)
    })
  }

  /** `use` with the run's generative model; BAD_USER_INPUT for a supervised one. */
  withGenerator<T>(runId: string, use: (generator: GenerativeModel) => T | Promise<T>): Promise<T> {
    return this.withModel(runId, (model) => {
      if (!model.generator) {
        throw badInput(`run ${runId} is not a generative model (train family: VAE); ask it with predict`, {
          field: 'runId',
        })
      }
      return use(model.generator)
    })
  }

  async predict(runId: string, rows: number[][]): Promise<number[]> {
    return this.withPredictor(runId, (predictor) => {
      checkRows(rows, predictor.featureCount)
      return finiteAnswer(Array.from(predictor.predict(rows)), 'rows')
    })
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
    const run = isId(runId) ? await this.runs.findById(runId) : null
    if (!run) throw notFound('run', runId)
    if (run.status !== RunStatus.SUCCEEDED) {
      throw conflict(`run ${runId} has no trained model (it is ${run.status})`, { status: run.status })
    }
    // Another request may have started loading it while this one read the run.
    const raced = this.cache.get(runId)
    if (raced) return raced
    const stored = await this.runs.findModel(runId)
    if (!stored) throw conflict(`run ${runId} has no stored model`)
    const again = this.cache.get(runId)
    if (again) return again
    const entry: CacheEntry = { loading: this.load(run, stored), leases: 0, evicted: false }
    this.cache.set(runId, entry)
    entry.loading.catch(() => {
      if (this.cache.get(runId) === entry) this.cache.delete(runId)
    })
    while (this.cache.size > this.cacheSize) {
      const [oldest, evicted] = this.cache.entries().next().value as [string, CacheEntry]
      this.cache.delete(oldest)
      evicted.evicted = true
      if (evicted.leases === 0) void disposeEntry(evicted)
    }
    return entry
  }
}

async function disposeEntry(entry: CacheEntry): Promise<void> {
  await entry.loading.then(
    (model) => model.dispose(),
    () => {},
  )
}

/** Rows sent by a client for a model with `featureCount` inputs. */
export function checkRows(rows: number[][], featureCount: number, field = 'rows'): void {
  if (rows.length === 0) throw badInput(`${field} must not be empty`, { field })
  if (rows.length > MAX_PREDICT_ROWS) throw badInput(`at most ${MAX_PREDICT_ROWS} rows per call`, { field })
  rows.forEach((row, i) => {
    if (row.length !== featureCount) {
      throw badInput(`row ${i} has ${row.length} values; the model takes ${featureCount}`, { field, row: i })
    }
    if (!row.every((v) => Number.isFinite(v) && Math.abs(v) <= FLOAT32_MAX)) {
      throw badInput(`row ${i} has a value that is not a finite float32 number`, { field, row: i })
    }
  })
}

/**
 * A model's answer for rows a client sent. Values within float32 can still be so far outside the
 * training data that the network overflows (3e38 standardised and multiplied by a weight): that is
 * the input's doing, answered BAD_USER_INPUT - a NaN would otherwise fail GraphQL's Float.
 */
export function finiteAnswer<T>(answer: T, field: string): T {
  const stack: unknown[] = [answer]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) {
        throw badInput(
          `the model's answer is not a finite number: ${field} holds values too far outside the training data`,
          { field },
        )
      }
    } else if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      stack.push(...Array.from(v as ArrayLike<unknown>))
    } else if (v !== null && typeof v === 'object') {
      stack.push(...Object.values(v))
    }
  }
  return answer
}
