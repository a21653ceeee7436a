import { ExplainInputError, assertRowWidths } from './errors'
import { column, quantiles } from './stats'
import type { BatchPredict, PartialDependence } from './types'

/** Grid points per feature (scikit-learn's default is 100; 20 keeps the cost at 20 x rows per feature). */
export const DEFAULT_GRID_RESOLUTION = 20

/** scikit-learn's default grid bounds: the 5th and 95th percentiles. */
export const DEFAULT_PERCENTILES: readonly [number, number] = [0.05, 0.95]

/**
 * The grid of scikit-learn's `partial_dependence` for one column: its distinct values when there are fewer
 * than `resolution` of them (a discrete feature keeps its real levels), else `resolution` equally spaced
 * points between the percentiles. When both percentiles coincide (a nearly constant feature) scikit-learn
 * refuses; we return that single value instead so one such column does not fail a whole explanation.
 */
export function partialDependenceGrid(
  values: ArrayLike<number>,
  resolution = DEFAULT_GRID_RESOLUTION,
  percentiles: readonly [number, number] = DEFAULT_PERCENTILES,
): number[] {
  if (values.length === 0) throw new ExplainInputError('a partial dependence grid needs values')
  const uniques = Array.from(new Set(Array.from(values))).sort((a, b) => a - b)
  if (uniques.length < resolution) return uniques
  const [lo, hi] = quantiles(values, percentiles) as [number, number]
  if (lo === hi || resolution < 2) return [lo]
  return Array.from({ length: resolution }, (_, k) => lo + ((hi - lo) * k) / (resolution - 1))
}

/** Options of {@link partialDependence}. */
export interface PartialDependenceOptions {
  predict: BatchPredict
  /** Rows averaged over (held-out rows). */
  rows: readonly Float64Array[]
  /** Column of the feature. */
  featureIndex: number
  featureName: string
  gridResolution?: number
  percentiles?: readonly [number, number]
}

/**
 * scikit-learn's `partial_dependence` (method 'brute'): for each grid value, the mean explained output over
 * the rows with the feature set to that value. For classification the explained output is the logit.
 */
export function partialDependence(options: PartialDependenceOptions): PartialDependence {
  const { predict, rows, featureIndex: j } = options
  if (rows.length === 0) throw new ExplainInputError('partial dependence needs rows')
  const width = (rows[0] as Float64Array).length
  assertRowWidths(rows, width, 'rows')
  if (!Number.isInteger(j) || j < 0 || j >= width) throw new ExplainInputError(`no feature column ${j}`)
  const grid = partialDependenceGrid(column(rows, j), options.gridResolution, options.percentiles)
  const batch: Float64Array[] = []
  for (const g of grid) {
    for (const row of rows) {
      const r = Float64Array.from(row)
      r[j] = g
      batch.push(r)
    }
  }
  const out = predict(batch)
  const n = rows.length
  const values = grid.map((_, k) => {
    let sum = 0
    for (let i = 0; i < n; i++) sum += out[k * n + i] as number
    return sum / n
  })
  return { feature: options.featureName, grid, values }
}
