import { badInput, conflict, notFound } from '../../errors'
import type { Predictor } from '../../training/artifacts'
import type { StoredModel } from './run.repository'
import { RunRepository } from './run.repository'
import { isId } from '../common/ids'
import { RunStatus } from './run.status'

/** Most rows one predict call may send. */
export const MAX_PREDICT_ROWS = 10_000

/**
 * Answers with trained models. Loading a model costs far more than a small prediction, so the most
 * recently used ones are kept (and disposed when they fall out).
 */
export class PredictionService {
  private readonly cache = new Map<string, Promise<Predictor>>()

  constructor(
    private readonly runs: RunRepository,
    private readonly load: (model: StoredModel) => Promise<Predictor>,
    private readonly cacheSize = 8,
  ) {}

  /** The run's predictor, after checking that the run exists and has finished training. */
  async predictorFor(runId: string): Promise<Predictor> {
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
    const stored = await this.runs.findModel(runId)
    if (!stored) throw conflict(`run ${runId} has no stored model`)
    const loading = this.load(stored)
    this.cache.set(runId, loading)
    loading.catch(() => this.cache.delete(runId))
    while (this.cache.size > this.cacheSize) {
      const [oldest, evicted] = this.cache.entries().next().value as [string, Promise<Predictor>]
      this.cache.delete(oldest)
      evicted.then((p) => p.dispose()).catch(() => {})
    }
    return loading
  }

  async predict(runId: string, rows: number[][]): Promise<number[]> {
    const predictor = await this.predictorFor(runId)
    checkRows(rows, predictor.featureCount)
    return Array.from(predictor.predict(rows))
  }

  dispose(): void {
    for (const p of this.cache.values()) p.then((x) => x.dispose()).catch(() => {})
    this.cache.clear()
  }
}

/** Rows sent by a client for a model with `featureCount` inputs. */
export function checkRows(rows: number[][], featureCount: number, field = 'rows'): void {
  if (rows.length === 0) throw badInput(`${field} must not be empty`, { field })
  if (rows.length > MAX_PREDICT_ROWS) throw badInput(`at most ${MAX_PREDICT_ROWS} rows per call`, { field })
  rows.forEach((row, i) => {
    if (row.length !== featureCount) {
      throw badInput(`row ${i} has ${row.length} values; the model takes ${featureCount}`, { field, row: i })
    }
    if (!row.every(Number.isFinite))
      throw badInput(`row ${i} has a value that is not a finite number`, { field, row: i })
  })
}
