/** Per-feature mean and standard deviation of the training rows; inputs are fed to a network as (x - mean) / std. */
export interface Normalization {
  mean: number[]
  /** Never 0: a constant column gets std 1 so that it standardises to 0 instead of NaN. */
  std: number[]
}

/** Mean and (population) standard deviation per feature over `rows`; a constant feature gets std 1. */
export function computeNormalization(
  features: Float64Array,
  featureCount: number,
  rows: readonly number[],
): Normalization {
  const f = featureCount
  const mean = new Array<number>(f).fill(0)
  const std = new Array<number>(f).fill(0)
  for (const r of rows) {
    for (let c = 0; c < f; c++) mean[c] = (mean[c] as number) + (features[r * f + c] as number)
  }
  for (let c = 0; c < f; c++) mean[c] = (mean[c] as number) / rows.length
  for (const r of rows) {
    for (let c = 0; c < f; c++) {
      const d = (features[r * f + c] as number) - (mean[c] as number)
      std[c] = (std[c] as number) + d * d
    }
  }
  for (let c = 0; c < f; c++) {
    const s = Math.sqrt((std[c] as number) / rows.length)
    // Relative threshold: a column like 1e9 + float noise is constant too, and dividing by its noise would blow up.
    std[c] = s > 1e-12 * Math.max(1, Math.abs(mean[c] as number)) ? s : 1
  }
  return { mean, std }
}

/** The identity normalisation (features fed as they are, e.g. pixels in [0, 1]). */
export function identityNormalization(featureCount: number): Normalization {
  return { mean: new Array<number>(featureCount).fill(0), std: new Array<number>(featureCount).fill(1) }
}

/** Standardised float32 copy of the given rows of a packed table. */
export function standardizeRows(
  features: Float64Array,
  featureCount: number,
  rows: readonly number[],
  norm: Normalization,
): Float32Array {
  const f = featureCount
  const out = new Float32Array(rows.length * f)
  rows.forEach((r, i) => {
    for (let c = 0; c < f; c++) {
      out[i * f + c] = ((features[r * f + c] as number) - (norm.mean[c] as number)) / (norm.std[c] as number)
    }
  })
  return out
}
