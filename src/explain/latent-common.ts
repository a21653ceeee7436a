/**
 * Input checks and batching shared by the VAE explanation methods (`latent.ts` and its `latent-*.ts` parts).
 * Not exported from the library: callers see only the methods.
 */
import { DEFAULT_MAX_BATCH_ROWS } from './model'
import { ExplainInputError, assertRowWidths } from './errors'

/** Decoder mean for each latent row, in the dataset's own units (what `sample` returns); one Float64Array of d values per row. */
export type Decode = (z: readonly Float64Array[]) => Float64Array[]
/** d x_hat_i / d z_j for each latent row: Float64Array of d*k values, row-major [output i][latent j]. */
export type DecoderJacobian = (z: readonly Float64Array[]) => Float64Array[]
/** Posterior mean and log-variance for each input row (raw feature units). */
export type Encode = (rows: readonly Float64Array[]) => { mean: Float64Array[]; logVar: Float64Array[] }
/** d mu_j / d x_i for each input row: Float64Array of k*m values, row-major [latent j][feature i], with respect to raw features. */
export type EncoderJacobian = (rows: readonly Float64Array[]) => Float64Array[]

/** A model function of the latent methods: one output row per input row. */
export type RowFunction = (rows: readonly Float64Array[]) => Float64Array[]

/** `maxBatchRows` with its default, rejected unless a positive integer. */
export function resolveMaxBatchRows(maxBatchRows: number | undefined): number {
  const value = maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS
  if (!Number.isInteger(value) || value < 1) {
    throw new ExplainInputError(`maxBatchRows must be a positive integer, got ${value}`)
  }
  return value
}

/** Throws unless `latentDim` is a positive integer. */
export function assertLatentDim(latentDim: number): void {
  if (!Number.isInteger(latentDim) || latentDim < 1) {
    throw new ExplainInputError(`latentDim must be a positive integer, got ${latentDim}`)
  }
}

/** Throws unless `value` is an integer >= `min`; `what` names the option. */
export function assertIntegerAtLeast(value: number, min: number, what: string): void {
  if (!Number.isInteger(value) || value < min) {
    throw new ExplainInputError(`${what} must be an integer >= ${min}, got ${value}`)
  }
}

/** Throws unless there is at least one row, every row has `width` values and all of them are finite. */
export function assertFiniteRows(rows: readonly Float64Array[], width: number, what: string): void {
  if (rows.length === 0) throw new ExplainInputError(`${what} needs at least one row`)
  assertRowWidths(rows, width, what)
  rows.forEach((row, r) => {
    for (let j = 0; j < width; j++) {
      if (!Number.isFinite(row[j] as number)) {
        throw new ExplainInputError(`${what}[${r}][${j}] is not a finite number`)
      }
    }
  })
}

/** Throws unless there is at least one feature name. */
export function assertFeatureNames(featureNames: readonly string[]): void {
  if (featureNames.length === 0) throw new ExplainInputError('featureNames needs at least one name')
}

/**
 * Calls `fn` on `rows` in calls of at most `maxBatchRows` rows (one call when they fit) and checks that it
 * returns one row of `width` values per input row; `width` null takes the width of the first returned row.
 */
export function callInBatches(
  fn: RowFunction,
  rows: readonly Float64Array[],
  maxBatchRows: number,
  width: number | null,
  what: string,
): Float64Array[] {
  const out: Float64Array[] = []
  let expected = width
  for (let start = 0; start < rows.length; start += maxBatchRows) {
    const chunk = rows.length <= maxBatchRows ? rows : rows.slice(start, start + maxBatchRows)
    const values = fn(chunk)
    if (values.length !== chunk.length) {
      throw new ExplainInputError(`${what} returned ${values.length} rows for ${chunk.length} rows`)
    }
    for (const v of values) {
      if (expected === null) expected = v.length
      if (v.length !== expected) {
        throw new ExplainInputError(`${what} returned a row of ${v.length} values, expected ${expected}`)
      }
      out.push(v)
    }
  }
  return out
}

/** Summary of completeness gaps: what `MethodCheck` reports, plus a scale-free maximum. */
export interface CompletenessCheck {
  maxGap: number
  meanGap: number
  /**
   * The largest gap of an output relative to the largest change |f_i(x) - f_i(x')| of the same output over
   * the explained rows. Per output, because outputs may be in different units (a decoder returns the
   * dataset's own units). An output that changes on no row counts 0 if its gaps are 0 too and 1 otherwise
   * (the gap is then all there is).
   */
  relativeMaxGap: number
}

/**
 * Completeness gaps |sum_j IG_ij - (f_i(x) - f_i(x'))| per row and output for row-major [output][input]
 * attributions, and their summary.
 */
export function completenessGaps(
  attributions: readonly Float64Array[],
  outputs: readonly Float64Array[],
  baselineOutput: Float64Array,
  inputWidth: number,
): { gaps: Float64Array[]; check: CompletenessCheck } {
  const outWidth = baselineOutput.length
  const scale = new Float64Array(outWidth)
  const worst = new Float64Array(outWidth)
  let total = 0
  let count = 0
  const gaps = attributions.map((ig, r) => {
    const out = outputs[r] as Float64Array
    const rowGaps = new Float64Array(outWidth)
    for (let i = 0; i < outWidth; i++) {
      let sum = 0
      for (let j = 0; j < inputWidth; j++) sum += ig[i * inputWidth + j] as number
      const change = (out[i] as number) - (baselineOutput[i] as number)
      const gap = Math.abs(sum - change)
      rowGaps[i] = gap
      scale[i] = Math.max(scale[i] as number, Math.abs(change))
      worst[i] = Math.max(worst[i] as number, gap)
      total += gap
      count++
    }
    return rowGaps
  })
  let maxGap = 0
  let relativeMaxGap = 0
  for (let i = 0; i < outWidth; i++) {
    const w = worst[i] as number
    const s = scale[i] as number
    maxGap = Math.max(maxGap, w)
    relativeMaxGap = Math.max(relativeMaxGap, s > 0 ? w / s : w > 0 ? 1 : 0)
  }
  return { gaps, check: { maxGap, meanGap: count > 0 ? total / count : 0, relativeMaxGap } }
}
