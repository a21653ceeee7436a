/**
 * How much generated rows look like the real ones, column by column and pair by pair: SDMetrics'
 * KSComplement and CorrelationSimilarity (Pearson), averaged over features and feature pairs.
 */
import { ExplainInputError, assertRowWidths } from './errors'
import { column, mean } from './stats'

/** KSComplement of one feature. */
export interface FeatureFidelity {
  feature: string
  /** 1 - max |F_samples - F_data|. */
  ksComplement: number
}

/** Result of {@link sampleFidelity}. */
export interface SampleFidelity {
  /** Mean over features of 1 - the two-sample KS statistic (exact on the empirical CDFs, ties handled). */
  ksComplement: number
  /**
   * Mean over feature pairs of 1 - |rho_samples - rho_data| / 2 (Pearson). Pairs where a column is constant
   * in either set are skipped; null if no pair is left.
   */
  correlationSimilarity: number | null
  features: FeatureFidelity[]
  /** Feature pairs that entered the correlation similarity. */
  pairs: number
  samples: number
  rows: number
}

/**
 * The two-sample Kolmogorov-Smirnov statistic sup_x |F_a(x) - F_b(x)| of the empirical CDFs, exactly (scipy's
 * `ks_2samp(a, b).statistic`). Both CDFs are stepped past every copy of a value before they are compared, so
 * tied values, within or across the two samples, jump together as the right-continuous CDFs do.
 */
export function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = Float64Array.from(a).sort()
  const y = Float64Array.from(b).sort()
  const n = x.length
  const m = y.length
  if (n === 0 || m === 0)
    throw new ExplainInputError('the KS statistic needs at least one value in each sample')
  let i = 0
  let j = 0
  let d = 0
  // Once one sample is used up the gap only shrinks, so the supremum has been seen.
  while (i < n && j < m) {
    const v = Math.min(x[i] as number, y[j] as number)
    while (i < n && (x[i] as number) <= v) i++
    while (j < m && (y[j] as number) <= v) j++
    d = Math.max(d, Math.abs(i / n - j / m))
  }
  return d
}

/**
 * A column scaled to zero mean and unit norm, so that a Pearson correlation is one dot product; null when
 * the column is constant up to rounding (its correlation is undefined, pandas would give NaN).
 */
function unitColumn(values: Float64Array): Float64Array | null {
  const m = mean(values)
  const d = Float64Array.from(values, (v) => v - m)
  let ss = 0
  let scale = 0
  for (let i = 0; i < d.length; i++) {
    ss += (d[i] as number) ** 2
    scale = Math.max(scale, Math.abs(values[i] as number))
  }
  // Rounding leaves a constant column with deviations of ~1e-16 of its size; they are not a signal.
  if (!(ss > d.length * (1e-12 * scale) ** 2)) return null
  const norm = Math.sqrt(ss)
  for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) / norm
  return d
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number)
  return s
}

/** Pearson correlation of two equally long arrays, or null when either is constant. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  if (a.length !== b.length) throw new ExplainInputError(`correlation of ${a.length} and ${b.length} values`)
  const ua = unitColumn(Float64Array.from(a))
  const ub = unitColumn(Float64Array.from(b))
  if (ua === null || ub === null) return null
  return Math.max(-1, Math.min(1, dot(ua, ub)))
}

function validateRows(rows: readonly Float64Array[], width: number, what: string): void {
  if (rows.length < 1) throw new ExplainInputError(`${what} has no rows`)
  assertRowWidths(rows, width, what)
  rows.forEach((row, i) => {
    const j = row.findIndex((v) => !Number.isFinite(v))
    if (j >= 0) throw new ExplainInputError(`${what}[${i}][${j}] is ${row[j]}, expected a finite number`)
  })
}

/**
 * SDMetrics' KSComplement and CorrelationSimilarity of generated rows (`samples`) against real rows
 * (`real`), both rows x features in the same units. The two sets may differ in size.
 */
export function sampleFidelity(
  samples: readonly Float64Array[],
  real: readonly Float64Array[],
  featureNames: readonly string[],
): SampleFidelity {
  const p = featureNames.length
  if (p < 1) throw new ExplainInputError('sample fidelity needs at least one feature')
  validateRows(samples, p, 'samples')
  validateRows(real, p, 'real')
  const sampleColumns = featureNames.map((_, j) => column(samples, j))
  const realColumns = featureNames.map((_, j) => column(real, j))
  const features = featureNames.map((feature, j) => ({
    feature,
    ksComplement: 1 - ksStatistic(sampleColumns[j] as Float64Array, realColumns[j] as Float64Array),
  }))

  const sampleUnits = sampleColumns.map(unitColumn)
  const realUnits = realColumns.map(unitColumn)
  let pairs = 0
  let sum = 0
  for (let a = 0; a < p; a++) {
    const sa = sampleUnits[a]
    const ra = realUnits[a]
    if (sa == null || ra == null) continue
    for (let b = a + 1; b < p; b++) {
      const sb = sampleUnits[b]
      const rb = realUnits[b]
      if (sb == null || rb == null) continue
      const rhoSamples = Math.max(-1, Math.min(1, dot(sa, sb)))
      const rhoReal = Math.max(-1, Math.min(1, dot(ra, rb)))
      sum += 1 - Math.abs(rhoSamples - rhoReal) / 2
      pairs++
    }
  }
  return {
    ksComplement: mean(features.map((f) => f.ksComplement)),
    correlationSimilarity: pairs > 0 ? sum / pairs : null,
    features,
    pairs,
    samples: samples.length,
    rows: real.length,
  }
}
