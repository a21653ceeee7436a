import type { LossFunction } from './types'

/** Arithmetic mean; 0 for an empty input so callers need no special case. */
export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return 0
  let sum = 0
  for (let i = 0; i < values.length; i++) sum += values[i] as number
  return sum / values.length
}

/** Population variance (ddof = 0, as numpy's default and scikit-learn's StandardScaler). */
export function variance(values: ArrayLike<number>): number {
  if (values.length === 0) return 0
  const m = mean(values)
  let sum = 0
  for (let i = 0; i < values.length; i++) {
    const d = (values[i] as number) - m
    sum += d * d
  }
  return sum / values.length
}

/** Population standard deviation (ddof = 0). */
export function std(values: ArrayLike<number>): number {
  return Math.sqrt(variance(values))
}

/** Column j of row-major rows. */
export function column(rows: readonly Float64Array[], j: number): Float64Array {
  const out = new Float64Array(rows.length)
  for (let i = 0; i < rows.length; i++) out[i] = (rows[i] as Float64Array)[j] as number
  return out
}

/** Mean of every column. */
export function columnMeans(rows: readonly Float64Array[], width: number): Float64Array {
  const out = new Float64Array(width)
  for (const row of rows) for (let j = 0; j < width; j++) out[j] = (out[j] as number) + (row[j] as number)
  if (rows.length > 0) for (let j = 0; j < width; j++) out[j] = (out[j] as number) / rows.length
  return out
}

/** Population standard deviation of every column. */
export function columnStds(rows: readonly Float64Array[], width: number): Float64Array {
  const out = new Float64Array(width)
  for (let j = 0; j < width; j++) out[j] = std(column(rows, j))
  return out
}

/**
 * Coefficient of determination 1 - SSE/SST (not a squared correlation: a biased fit scores below it, and a
 * fit worse than the constant mean scores below 0). R^2 is undefined when the target is constant (SST = 0);
 * we report 1 when the fit reproduces the constant up to rounding and 0 otherwise, so the value stays a
 * finite number.
 */
export function rSquared(targets: ArrayLike<number>, predictions: ArrayLike<number>): number {
  const n = targets.length
  const m = mean(targets)
  let sse = 0
  let sst = 0
  let scale = 0
  for (let i = 0; i < n; i++) {
    const t = targets[i] as number
    const e = t - (predictions[i] as number)
    sse += e * e
    sst += (t - m) * (t - m)
    scale += t * t
  }
  const tiny = 1e-24 * Math.max(scale, 1)
  if (sst <= tiny) return sse <= 1e-20 * Math.max(scale, 1) ? 1 : 0
  return 1 - sse / sst
}

/** Mean squared error, the regression loss. */
export const meanSquaredError: LossFunction = (targets, predictions) => {
  let sum = 0
  for (let i = 0; i < targets.length; i++) {
    const e = (targets[i] as number) - (predictions[i] as number)
    sum += e * e
  }
  return targets.length === 0 ? 0 : sum / targets.length
}

/**
 * Binary log-loss (cross-entropy) of labels in {0, 1} against logits, computed as
 * softplus(z) - y z in a form that neither overflows nor loses precision for large |z|.
 */
export const logLossFromLogits: LossFunction = (targets, logits) => {
  let sum = 0
  for (let i = 0; i < targets.length; i++) {
    const y = targets[i] as number
    const z = logits[i] as number
    sum += Math.max(z, 0) - y * z + Math.log1p(Math.exp(-Math.abs(z)))
  }
  return targets.length === 0 ? 0 : sum / targets.length
}

/**
 * Empirical quantiles with scipy's `mstats.mquantiles` default plotting positions (alphap = betap = 0.4),
 * which is what scikit-learn's partial dependence uses for its grid bounds.
 */
export function quantiles(values: ArrayLike<number>, probs: readonly number[]): number[] {
  const sorted = Float64Array.from(values).sort()
  const n = sorted.length
  if (n === 0) return probs.map(() => Number.NaN)
  if (n === 1) return probs.map(() => sorted[0] as number)
  const alphap = 0.4
  const betap = 0.4
  return probs.map((p) => {
    const m = alphap + p * (1 - alphap - betap)
    const aleph = n * p + m
    const k = Math.floor(Math.min(Math.max(aleph, 1), n - 1))
    const gamma = Math.min(Math.max(aleph - k, 0), 1)
    return (1 - gamma) * (sorted[k - 1] as number) + gamma * (sorted[k] as number)
  })
}
