/**
 * Explanations of a variational autoencoder: traversals, decoder sensitivity, Integrated Gradients through
 * the decoder and the encoder, the generator's linear surrogate and active units. Definitions as in
 * EXPLANATIONS.md ("Generative models"). The model comes in as plain functions over Float64Array rows - the
 * caller wraps the tfjs encoder and decoder - so every method here is checked against closed-form models.
 */
import { ExplainInputError } from './errors'
import {
  assertFeatureNames,
  assertFiniteRows,
  assertIntegerAtLeast,
  assertLatentDim,
  callInBatches,
  resolveMaxBatchRows,
} from './latent-common'

import type { Decode, DecoderJacobian } from './latent-common'

export type { Decode, DecoderJacobian, Encode, EncoderJacobian } from './latent-common'

export type { CompletenessCheck } from './latent-common'
export {
  decoderIntegratedGradients,
  encoderAttribution,
  type DecoderIntegratedGradientsOptions,
  type DecoderIntegratedGradientsResult,
  type EncoderAttributionEntry,
  type EncoderAttributionOptions,
  type EncoderAttributionResult,
} from './latent-gradients'
export {
  generatorSurrogate,
  standardNormalRows,
  DEFAULT_GENERATOR_DRAWS,
  type GeneratorSurrogateFeature,
  type GeneratorSurrogateOptions,
  type GeneratorSurrogateResult,
} from './latent-surrogate'

/** Default number of grid points of a traversal. */
export const DEFAULT_TRAVERSAL_STEPS = 11
/** Default half-width of a traversal, in prior standard deviations. */
export const DEFAULT_TRAVERSAL_RANGE = 3
/** KL (nats, mean over rows) at or above which a latent counts as active. */
export const DEFAULT_ACTIVE_THRESHOLD = 0.01

/** Where a traversal starts. */
export interface TraversalOrigin {
  /** null: the prior mean, and `z` must be 0; otherwise the held-out row whose posterior mean `z` is. */
  rowIndex: number | null
  z: Float64Array
}

/** Options of {@link latentTraversals}. */
export interface LatentTraversalOptions {
  decode: Decode
  latentDim: number
  origins: readonly TraversalOrigin[]
  /** Grid points per traversal, at least 2; default 11. */
  steps?: number
  /** The grid covers [-range, range]; default 3. */
  range?: number
  /** Upper bound on rows per decode call; default 4096. */
  maxBatchRows?: number
}

/** One latent swept from one origin. */
export interface LatentTraversal {
  latent: number
  rowIndex: number | null
  origin: number[]
  /** The offsets t, evenly spaced over [-range, range]. */
  grid: number[]
  /** outputs[g] = decode(origin + grid[g] e_latent). */
  outputs: number[][]
}

/**
 * Latent traversals: for each origin z0 and each latent k, decode(z0 + t e_k) on an evenly spaced grid of t
 * over [-range, range]. Results are origin-major, latents in order. All grid points of all traversals go to
 * `decode` together, in calls of at most `maxBatchRows` rows.
 */
export function latentTraversals(options: LatentTraversalOptions): LatentTraversal[] {
  const { decode, latentDim, origins } = options
  assertLatentDim(latentDim)
  if (origins.length === 0) throw new ExplainInputError('origins needs at least one origin')
  assertFiniteRows(
    origins.map((o) => o.z),
    latentDim,
    'origins.z',
  )
  origins.forEach(({ rowIndex, z }, o) => {
    if (rowIndex === null) {
      if (z.some((v) => v !== 0))
        throw new ExplainInputError(`origins[${o}] has rowIndex null but z is not 0`)
    } else if (!Number.isInteger(rowIndex) || rowIndex < 0) {
      throw new ExplainInputError(`origins[${o}].rowIndex must be null or a row index, got ${rowIndex}`)
    }
  })
  const steps = options.steps ?? DEFAULT_TRAVERSAL_STEPS
  assertIntegerAtLeast(steps, 2, 'steps')
  const range = options.range ?? DEFAULT_TRAVERSAL_RANGE
  if (!Number.isFinite(range) || range <= 0) {
    throw new ExplainInputError(`range must be a positive number, got ${range}`)
  }
  const maxBatchRows = resolveMaxBatchRows(options.maxBatchRows)

  // Written as range * (2g - (n - 1)) / (n - 1) so the grid is symmetric to the bit and, for odd n, hits 0.
  const grid = Array.from({ length: steps }, (_, g) => (range * (2 * g - (steps - 1))) / (steps - 1))
  const points: Float64Array[] = []
  for (const { z } of origins) {
    for (let k = 0; k < latentDim; k++) {
      for (const t of grid) {
        const point = Float64Array.from(z)
        point[k] = (point[k] as number) + t
        points.push(point)
      }
    }
  }
  const decoded = callInBatches(decode, points, maxBatchRows, null, 'decode')

  const traversals: LatentTraversal[] = []
  origins.forEach(({ rowIndex, z }, o) => {
    for (let k = 0; k < latentDim; k++) {
      const first = (o * latentDim + k) * steps
      traversals.push({
        latent: k,
        rowIndex,
        origin: Array.from(z),
        grid: grid.slice(),
        outputs: decoded.slice(first, first + steps).map((row) => Array.from(row)),
      })
    }
  })
  return traversals
}

/** Options of {@link decoderSensitivity}. */
export interface DecoderSensitivityOptions {
  jacobian: DecoderJacobian
  /** Latent rows to average over: draws z ~ q(z|x) of held-out rows. */
  z: readonly Float64Array[]
  latentDim: number
  /** One name per decoder output, in output order. */
  featureNames: readonly string[]
  /** Upper bound on rows per Jacobian call; default 4096. */
  maxBatchRows?: number
}

/** How strongly one decoder output responds to one latent. */
export interface SensitivityEntry {
  latent: number
  feature: string
  /** Mean over the latent rows of d g_feature / d z_latent, in the units `sample` returns. */
  value: number
  /** Mean over the latent rows of |d g_feature / d z_latent|. */
  meanAbs: number
}

/** Result of {@link decoderSensitivity}. */
export interface DecoderSensitivity {
  /** Latent-major: all features of latent 0, then of latent 1, ... */
  entries: SensitivityEntry[]
}

/**
 * Decoder sensitivity: the signed mean and the mean absolute value of the Jacobian d g_i / d z_j over the
 * given latent rows. The signed mean shows the direction a latent pushes a feature; the mean |.| also
 * counts effects that cancel on average (a latent that bends a feature up and down). For a linear decoder
 * g(z) = A z + b the signed mean is A exactly.
 */
export function decoderSensitivity(options: DecoderSensitivityOptions): DecoderSensitivity {
  const { jacobian, z, latentDim, featureNames } = options
  assertLatentDim(latentDim)
  assertFeatureNames(featureNames)
  assertFiniteRows(z, latentDim, 'z')
  const maxBatchRows = resolveMaxBatchRows(options.maxBatchRows)
  const width = featureNames.length
  const size = width * latentDim

  const jacobians = callInBatches(jacobian, z, maxBatchRows, size, 'decoder jacobian')
  const sum = new Float64Array(size)
  const sumAbs = new Float64Array(size)
  for (const jac of jacobians) {
    for (let e = 0; e < size; e++) {
      const v = jac[e] as number
      sum[e] = (sum[e] as number) + v
      sumAbs[e] = (sumAbs[e] as number) + Math.abs(v)
    }
  }
  const entries: SensitivityEntry[] = []
  for (let j = 0; j < latentDim; j++) {
    featureNames.forEach((feature, i) => {
      const e = i * latentDim + j
      entries.push({
        latent: j,
        feature,
        value: (sum[e] as number) / z.length,
        meanAbs: (sumAbs[e] as number) / z.length,
      })
    })
  }
  return { entries }
}

/** Options of {@link activeUnits}. */
export interface ActiveUnitsOptions {
  /** Posterior means of held-out rows, k values per row. */
  mean: readonly Float64Array[]
  /** Posterior log-variances log sigma^2 of the same rows. */
  logVar: readonly Float64Array[]
  /** Mean KL in nats at or above which a latent is active; default 0.01. */
  threshold?: number
}

/** One latent's use of the code. */
export interface ActiveUnit {
  latent: number
  /** KL(q(z_j|x) || N(0, 1)) in nats, averaged over the rows. */
  kl: number
  /** Burda et al.'s activity statistic Cov_x(E_q[z_j]): population variance of mu_j over the rows. */
  variance: number
  /** kl >= threshold. */
  active: boolean
}

/**
 * Active units. A latent is active when its mean KL 0.5 (mu^2 + sigma^2 - log sigma^2 - 1) over the rows is at
 * least `threshold` (0.01 nats); an inactive latent is posterior collapse, its posterior equal to the prior.
 * Burda et al. (2016) instead call a latent active when `variance` > 0.01; it is reported beside the KL so a
 * reader can apply either criterion. The two differ when the posterior's variance, not its mean, moves away
 * from the prior.
 */
export function activeUnits(options: ActiveUnitsOptions): ActiveUnit[] {
  const { mean, logVar } = options
  const threshold = options.threshold ?? DEFAULT_ACTIVE_THRESHOLD
  if (!Number.isFinite(threshold)) throw new ExplainInputError(`threshold must be finite, got ${threshold}`)
  if (mean.length === 0) throw new ExplainInputError('mean needs at least one row')
  const latentDim = (mean[0] as Float64Array).length
  assertLatentDim(latentDim)
  assertFiniteRows(mean, latentDim, 'mean')
  if (logVar.length !== mean.length) {
    throw new ExplainInputError(`logVar has ${logVar.length} rows, mean has ${mean.length}`)
  }
  assertFiniteRows(logVar, latentDim, 'logVar')

  const n = mean.length
  const units: ActiveUnit[] = []
  for (let j = 0; j < latentDim; j++) {
    let kl = 0
    let sumMu = 0
    for (let r = 0; r < n; r++) {
      const mu = (mean[r] as Float64Array)[j] as number
      const lv = (logVar[r] as Float64Array)[j] as number
      // sigma^2 - 1 - log sigma^2 as expm1(lv) - lv: no cancellation near a collapsed latent (lv ~ 0).
      kl += 0.5 * (mu * mu + Math.expm1(lv) - lv)
      sumMu += mu
    }
    const muMean = sumMu / n
    let sq = 0
    for (let r = 0; r < n; r++) sq += (((mean[r] as Float64Array)[j] as number) - muMean) ** 2
    units.push({ latent: j, kl: kl / n, variance: sq / n, active: kl / n >= threshold })
  }
  return units
}
