import { ExplainInputError } from './errors'
import type { BatchGradient, BatchPredict } from './types'

/** Default largest batch handed to the model at once: keeps tensors small and the wasm backend fast. */
export const DEFAULT_MAX_BATCH_ROWS = 4096

/**
 * Wraps a model so that every method reports what it cost. Counts rows, not calls: a row evaluated in a
 * batch of 4096 costs the same as one evaluated alone, which is what makes costs comparable across methods.
 * Also splits big batches, so methods can ask for all their rows at once without building huge tensors.
 */
export class EvaluationCounter {
  /** Rows passed through the forward function. */
  predictRows = 0
  /** Rows passed through the gradient function. */
  gradientRows = 0

  private readonly rawPredict: BatchPredict
  private readonly rawGradient: BatchGradient | undefined
  private readonly maxBatchRows: number

  constructor(predict: BatchPredict, gradient?: BatchGradient, maxBatchRows = DEFAULT_MAX_BATCH_ROWS) {
    if (!Number.isInteger(maxBatchRows) || maxBatchRows < 1) {
      throw new ExplainInputError(`maxBatchRows must be a positive integer, got ${maxBatchRows}`)
    }
    this.rawPredict = predict
    this.rawGradient = gradient
    this.maxBatchRows = maxBatchRows
  }

  /** Forward rows plus gradient rows: the figure reported as `MethodCost.evaluations`. */
  get evaluations(): number {
    return this.predictRows + this.gradientRows
  }

  get hasGradient(): boolean {
    return this.rawGradient !== undefined
  }

  /** The counted, batch-splitting forward function. */
  readonly predict: BatchPredict = (rows) => {
    const out = new Float64Array(rows.length)
    for (let start = 0; start < rows.length; start += this.maxBatchRows) {
      const chunk = rows.length <= this.maxBatchRows ? rows : rows.slice(start, start + this.maxBatchRows)
      const values = this.rawPredict(chunk)
      if (values.length !== chunk.length) {
        throw new ExplainInputError(`predict returned ${values.length} values for ${chunk.length} rows`)
      }
      out.set(values, start)
      this.predictRows += chunk.length
    }
    return out
  }

  /** The counted, batch-splitting gradient function; throws if the model has none. */
  readonly gradient: BatchGradient = (rows) => {
    const gradient = this.rawGradient
    if (gradient === undefined) throw new ExplainInputError('this method needs the model gradient')
    const out: Float64Array[] = []
    for (let start = 0; start < rows.length; start += this.maxBatchRows) {
      const chunk = rows.length <= this.maxBatchRows ? rows : rows.slice(start, start + this.maxBatchRows)
      const values = gradient(chunk)
      if (values.length !== chunk.length) {
        throw new ExplainInputError(`gradient returned ${values.length} rows for ${chunk.length} rows`)
      }
      for (const g of values) out.push(g)
      this.gradientRows += chunk.length
    }
    return out
  }
}
