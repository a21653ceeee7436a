/**
 * The founding design's linear surrogate applied to a VAE's generator: how far is the decoder from a linear
 * map of the latents, feature by feature, on draws from the prior.
 */
import { ExplainInputError } from './errors'
import { ordinaryLeastSquaresMany, type OlsFit } from './linear-surrogate'
import { createRng, type Rng } from './random'
import { rSquared } from './stats'
import {
  assertFeatureNames,
  assertIntegerAtLeast,
  assertLatentDim,
  callInBatches,
  resolveMaxBatchRows,
} from './latent-common'
import type { Decode } from './latent-common'

/** Default number of prior draws the generator surrogate is fitted on. */
export const DEFAULT_GENERATOR_DRAWS = 2000

/** Options of {@link generatorSurrogate}. */
export interface GeneratorSurrogateOptions {
  decode: Decode
  latentDim: number
  /** One name per decoder output, in output order. */
  featureNames: readonly string[]
  /** Draws z ~ N(0, I); default 2000, at least latentDim + 2 so that R^2 means something. */
  draws?: number
  seed: number | string
  /** Upper bound on rows per decode call; default 4096. */
  maxBatchRows?: number
}

/** The linear surrogate of one output feature of the generator. */
export interface GeneratorSurrogateFeature {
  feature: string
  intercept: number
  /** weights[k] is latent k's coefficient. */
  weights: number[]
  /**
   * 1 - SSE/SST of the surrogate against the decoder on the draws. For an output that is constant over the
   * draws SST = 0: reported as 1 when the fit reproduces it up to rounding (it always does, via the
   * intercept) and 0 otherwise, as `rSquared` does.
   */
  fidelityR2: number
}

/** Result of {@link generatorSurrogate}. */
export interface GeneratorSurrogateResult {
  features: GeneratorSurrogateFeature[]
  /**
   * 1 - sum_i SSE_i / sum_i SST_i over all output features, in the units `sample` returns, so features with a
   * larger spread weigh more; 1 (or 0) by the same convention as a feature's when every output is constant.
   */
  overallR2: number
  draws: number
}

/**
 * For each output feature i, ordinary least squares g_i(z) ~ b0 + sum_k b_k z_k over seeded draws z ~ N(0, I)
 * (Box-Muller), with fidelity R^2 per feature and overall. For a linear decoder g(z) = A z + b the weights
 * are A's rows, the intercepts b and every R^2 is 1; a lower R^2 measures how nonlinear that output is.
 */
export function generatorSurrogate(options: GeneratorSurrogateOptions): GeneratorSurrogateResult {
  const { decode, latentDim, featureNames, seed } = options
  assertLatentDim(latentDim)
  assertFeatureNames(featureNames)
  const draws = options.draws ?? DEFAULT_GENERATOR_DRAWS
  assertIntegerAtLeast(draws, latentDim + 2, 'draws')
  const maxBatchRows = resolveMaxBatchRows(options.maxBatchRows)
  const width = featureNames.length

  const z = standardNormalRows(draws, latentDim, createRng(seed, 'generator-surrogate'))
  const outputs = callInBatches(decode, z, maxBatchRows, width, 'decode')
  // One column of targets per feature, all fitted on the same draws with one factorisation.
  const columns = featureNames.map((feature, i) => {
    const targets = new Float64Array(draws)
    for (let r = 0; r < draws; r++) {
      const value = (outputs[r] as Float64Array)[i] as number
      if (!Number.isFinite(value)) throw new ExplainInputError(`decode returned a non-finite ${feature}`)
      targets[r] = value
    }
    return targets
  })
  const fits = ordinaryLeastSquaresMany(z, columns, latentDim)
  let sseTotal = 0
  let sstTotal = 0
  let scaleTotal = 0
  const features = featureNames.map((feature, i): GeneratorSurrogateFeature => {
    const targets = columns[i] as Float64Array
    const fit = fits[i] as OlsFit
    const { sse, sst, scale } = sumsOfSquares(targets, fit.fitted)
    sseTotal += sse
    sstTotal += sst
    scaleTotal += scale
    return {
      feature,
      intercept: fit.intercept,
      weights: Array.from(fit.weights),
      fidelityR2: rSquared(targets, fit.fitted),
    }
  })
  // Same constant-target convention and tolerances as `rSquared`.
  const overallR2 =
    sstTotal <= 1e-24 * Math.max(scaleTotal, 1)
      ? sseTotal <= 1e-20 * Math.max(scaleTotal, 1)
        ? 1
        : 0
      : 1 - sseTotal / sstTotal
  return { features, overallR2, draws }
}

/** SSE of the fit, SST about the mean and sum of squares of the targets. */
function sumsOfSquares(
  targets: Float64Array,
  fitted: Float64Array,
): { sse: number; sst: number; scale: number } {
  let m = 0
  for (const t of targets) m += t
  m /= targets.length
  let sse = 0
  let sst = 0
  let scale = 0
  targets.forEach((t, r) => {
    const e = t - (fitted[r] as number)
    sse += e * e
    sst += (t - m) * (t - m)
    scale += t * t
  })
  return { sse, sst, scale }
}

/**
 * `n` rows of `k` independent standard normal values by the Box-Muller transform, two values per pair of
 * uniforms. 1 - u keeps the logarithm's argument in (0, 1].
 */
export function standardNormalRows(n: number, k: number, rng: Rng): Float64Array[] {
  const values = new Float64Array(n * k)
  for (let v = 0; v < values.length; v += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - rng()))
    const angle = 2 * Math.PI * rng()
    values[v] = radius * Math.cos(angle)
    if (v + 1 < values.length) values[v + 1] = radius * Math.sin(angle)
  }
  const rows: Float64Array[] = []
  for (let r = 0; r < n; r++) rows.push(values.slice(r * k, (r + 1) * k))
  return rows
}
