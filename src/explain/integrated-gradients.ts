import { DEFAULT_MAX_BATCH_ROWS } from './model'
import { ExplainInputError, assertRowWidths } from './errors'
import { unitIntervalRule, type IntegrationRule } from './quadrature'
import type { BatchGradient, BatchPredict } from './types'

/** Captum's default number of integration points. */
export const DEFAULT_IG_STEPS = 50

/** Options of {@link integratedGradients}. */
export interface IntegratedGradientsOptions {
  predict: BatchPredict
  gradient: BatchGradient
  /** Rows to explain. */
  rows: readonly Float64Array[]
  /** The reference point x' (usually the training mean). */
  baseline: Float64Array
  /** Points on the path per row; default 50. */
  steps?: number
  /** Default Gauss-Legendre (Captum's default). */
  rule?: IntegrationRule
  /** Upper bound on rows per gradient call; whole paths are never split. */
  maxBatchRows?: number
}

/** Result of {@link integratedGradients}. */
export interface IntegratedGradientsResult {
  /** IG per row, one value per feature. */
  attributions: Float64Array[]
  /** f(x) per row. */
  predictions: Float64Array
  /** f(x'). */
  baselinePrediction: number
  /** Completeness gap |sum_i IG_i - (f(x) - f(x'))| per row: the quadrature error of the path integral. */
  gaps: Float64Array
}

/**
 * Integrated Gradients (Sundararajan et al. 2017, as Captum computes it):
 * IG_i = (x_i - x'_i) * integral_0^1 df(x' + a (x - x'))/dx_i da, with the integral by Gauss-Legendre or
 * the trapezoid rule. All path points of an instance go to the model in one gradient call (several instances
 * share a call when they fit in `maxBatchRows`).
 */
export function integratedGradients(options: IntegratedGradientsOptions): IntegratedGradientsResult {
  const { predict, gradient, rows, baseline } = options
  const steps = options.steps ?? DEFAULT_IG_STEPS
  const width = baseline.length
  assertRowWidths(rows, width, 'rows')
  const { nodes, weights } = unitIntervalRule(options.rule ?? 'gauss-legendre', steps)
  const maxBatchRows = options.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS
  if (maxBatchRows < 1) throw new ExplainInputError('maxBatchRows must be >= 1')
  const rowsPerCall = Math.max(1, Math.floor(maxBatchRows / steps))

  const attributions: Float64Array[] = []
  for (let start = 0; start < rows.length; start += rowsPerCall) {
    const chunk = rows.slice(start, start + rowsPerCall)
    const path: Float64Array[] = []
    for (const x of chunk) {
      for (const alpha of nodes) {
        const point = new Float64Array(width)
        for (let j = 0; j < width; j++) {
          const b = baseline[j] as number
          point[j] = b + alpha * ((x[j] as number) - b)
        }
        path.push(point)
      }
    }
    const grads = gradient(path)
    if (grads.length !== path.length) throw new ExplainInputError('gradient returned a wrong number of rows')
    chunk.forEach((x, r) => {
      const ig = new Float64Array(width)
      for (let k = 0; k < steps; k++) {
        const g = grads[r * steps + k] as Float64Array
        const w = weights[k] as number
        for (let j = 0; j < width; j++) ig[j] = (ig[j] as number) + w * (g[j] as number)
      }
      for (let j = 0; j < width; j++) ig[j] = (ig[j] as number) * ((x[j] as number) - (baseline[j] as number))
      attributions.push(ig)
    })
  }

  const predictions = rows.length > 0 ? predict(rows) : new Float64Array(0)
  const baselinePrediction = predict([baseline])[0] as number
  const gaps = new Float64Array(rows.length)
  attributions.forEach((ig, i) => {
    let sum = 0
    for (const v of ig) sum += v
    gaps[i] = Math.abs(sum - ((predictions[i] as number) - baselinePrediction))
  })
  return { attributions, predictions, baselinePrediction, gaps }
}
