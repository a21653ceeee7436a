import { ExplainInputError } from './errors'
import { leastSquaresMany } from './linalg'
import { columnMeans, columnStds, mean, rSquared } from './stats'
import type { BatchPredict, LinearSurrogate } from './types'

/** Options of {@link fitLinearSurrogate}. */
export interface LinearSurrogateOptions {
  /** The model (its logit for classification). */
  predict: BatchPredict
  /** Rows the surrogate is fitted on: held-out rows of the model. */
  rows: readonly Float64Array[]
  featureNames: readonly string[]
  /** The model's outputs on `rows` when the caller already has them (saves evaluations). */
  outputs?: Float64Array
}

/** An ordinary least squares fit with intercept. */
export interface OlsFit {
  intercept: number
  weights: Float64Array
  /** Population sd of each column, for standardized weights. */
  featureStds: Float64Array
  fitted: Float64Array
}

/**
 * Ordinary least squares of `targets` on `rows` with an intercept. Columns are centred and scaled before the
 * QR solve so that the intercept, large offsets and mixed units cost no precision; a constant column gets
 * weight 0 (its effect is the intercept's).
 */
export function ordinaryLeastSquares(
  rows: readonly Float64Array[],
  targets: ArrayLike<number>,
  width: number,
): OlsFit {
  return ordinaryLeastSquaresMany(rows, [targets], width)[0] as OlsFit
}

/**
 * {@link ordinaryLeastSquares} of several target columns on the same rows: one factorisation of the design
 * for all of them (each fit is exactly the one `ordinaryLeastSquares` gives for its targets alone).
 */
export function ordinaryLeastSquaresMany(
  rows: readonly Float64Array[],
  targetColumns: readonly ArrayLike<number>[],
  width: number,
): OlsFit[] {
  const n = rows.length
  const means = columnMeans(rows, width)
  const stds = columnStds(rows, width)
  const active: number[] = []
  for (let j = 0; j < width; j++) {
    const s = stds[j] as number
    if (s > 1e-12 * Math.max(1, Math.abs(means[j] as number))) active.push(j)
  }
  const design: Float64Array[] = []
  for (let i = 0; i < n; i++) {
    const row = rows[i] as Float64Array
    const z = new Float64Array(active.length)
    active.forEach((j, k) => {
      z[k] = ((row[j] as number) - (means[j] as number)) / (stds[j] as number)
    })
    design.push(z)
  }
  const yMeans = targetColumns.map((targets) => mean(targets))
  const centred = targetColumns.map((targets, t) => {
    const c = new Float64Array(n)
    for (let i = 0; i < n; i++) c[i] = (targets[i] as number) - (yMeans[t] as number)
    return c
  })
  const solutions = leastSquaresMany(design, centred, active.length)
  return solutions.map(({ coefficients }, t) => {
    const weights = new Float64Array(width)
    active.forEach((j, k) => {
      weights[j] = (coefficients[k] as number) / (stds[j] as number)
    })
    let intercept = yMeans[t] as number
    for (let j = 0; j < width; j++) intercept -= (weights[j] as number) * (means[j] as number)
    const fitted = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const row = rows[i] as Float64Array
      let f = intercept
      for (let j = 0; j < width; j++) f += (weights[j] as number) * (row[j] as number)
      fitted[i] = f
    }
    return { intercept, weights, featureStds: stds, fitted }
  })
}

/**
 * The founding design's linear surrogate: OLS of the model's outputs (not the labels) on the inputs, with
 * standardized weights b_i * sd(x_i) and fidelity R^2 = 1 - SSE/SST against the model on the same rows.
 */
export function fitLinearSurrogate(options: LinearSurrogateOptions): LinearSurrogate {
  const { rows, featureNames } = options
  const width = featureNames.length
  if (rows.length < 2) throw new ExplainInputError('a linear surrogate needs at least 2 rows')
  const outputs = options.outputs ?? options.predict(rows)
  if (outputs.length !== rows.length) throw new ExplainInputError('outputs and rows differ in length')
  const fit = ordinaryLeastSquares(rows, outputs, width)
  return {
    intercept: fit.intercept,
    coefficients: featureNames.map((feature, j) => ({
      feature,
      weight: fit.weights[j] as number,
      standardizedWeight: (fit.weights[j] as number) * (fit.featureStds[j] as number),
    })),
    fidelityR2: rSquared(outputs, fit.fitted),
  }
}
