/**
 * Integrated Gradients through the two halves of a VAE: every decoder output with respect to every latent,
 * and every posterior mean with respect to every input feature. Same definition and quadrature as
 * `integrated-gradients.ts`, applied to a vector-valued function through its Jacobian.
 */
import { DEFAULT_IG_STEPS } from './integrated-gradients'
import { ExplainInputError } from './errors'
import { unitIntervalRule, type IntegrationRule } from './quadrature'
import {
  assertFeatureNames,
  assertFiniteRows,
  assertIntegerAtLeast,
  assertLatentDim,
  callInBatches,
  completenessGaps,
  resolveMaxBatchRows,
  type CompletenessCheck,
  type RowFunction,
} from './latent-common'
import type { Decode, DecoderJacobian, Encode, EncoderJacobian } from './latent-common'

/** Options of {@link decoderIntegratedGradients}. */
export interface DecoderIntegratedGradientsOptions {
  decode: Decode
  jacobian: DecoderJacobian
  /** Latent rows to explain (k values each). */
  z: readonly Float64Array[]
  /** The reference latent z'; default 0, the prior mean. */
  baseline?: Float64Array
  /** Points on the path per row; default 50. */
  steps?: number
  /** Default Gauss-Legendre (Captum's default). */
  rule?: IntegrationRule
  /** Upper bound on rows per decode or Jacobian call; default 4096. */
  maxBatchRows?: number
}

/** Result of {@link decoderIntegratedGradients}. */
export interface DecoderIntegratedGradientsResult {
  /** Per latent row, d*k values row-major [output i][latent j]: IG of output i to latent j. */
  attributions: Float64Array[]
  /** g(z) per row. */
  outputs: Float64Array[]
  /** g(z'). */
  baselineOutput: Float64Array
  /** Per row, per output: |sum_j IG_ij - (g_i(z) - g_i(z'))|, the quadrature error of the path integral. */
  gaps: Float64Array[]
  check: CompletenessCheck
  /** The points per path that produced these figures. */
  steps: number
}

/**
 * Integrated Gradients of every decoder output to every latent along the straight path from z' to z:
 * IG_ij = (z_j - z'_j) * integral_0^1 d g_i(z' + a (z - z')) / d z_j da, the integral by Gauss-Legendre
 * (or the trapezoid rule) with `steps` points. The Jacobian is asked for at the path points of as many rows
 * as fit in `maxBatchRows` per call. A Jacobian row holds d*k values, so for wide outputs (images) a smaller
 * `maxBatchRows` bounds the memory of one call.
 */
export function decoderIntegratedGradients(
  options: DecoderIntegratedGradientsOptions,
): DecoderIntegratedGradientsResult {
  const { decode, jacobian, z } = options
  if (z.length === 0) throw new ExplainInputError('z needs at least one row')
  const latentDim = (z[0] as Float64Array).length
  assertLatentDim(latentDim)
  assertFiniteRows(z, latentDim, 'z')
  const baseline = options.baseline ?? new Float64Array(latentDim)
  assertFiniteRows([baseline], latentDim, 'baseline')
  const steps = options.steps ?? DEFAULT_IG_STEPS
  const maxBatchRows = resolveMaxBatchRows(options.maxBatchRows)

  const decoded = callInBatches(decode, [...z, baseline], maxBatchRows, null, 'decode')
  const baselineOutput = decoded.pop() as Float64Array
  if (baselineOutput.length === 0) throw new ExplainInputError('decode returned rows of 0 values')
  const attributions = integrateAlongPaths({
    jacobian,
    points: z,
    baseline,
    outWidth: baselineOutput.length,
    steps,
    rule: options.rule ?? 'gauss-legendre',
    maxBatchRows,
    what: 'decoder jacobian',
  })
  const { gaps, check } = completenessGaps(attributions, decoded, baselineOutput, latentDim)
  return { attributions, outputs: decoded, baselineOutput, gaps, check, steps }
}

/** Options of {@link encoderAttribution}. */
export interface EncoderAttributionOptions {
  encode: Encode
  jacobian: EncoderJacobian
  /** Input rows in raw feature units (held-out rows). */
  rows: readonly Float64Array[]
  /** The reference input x'; the caller passes the training mean. */
  baseline: Float64Array
  featureNames: readonly string[]
  latentDim: number
  /** Points on the path per row; default 50. */
  steps?: number
  /** Default Gauss-Legendre (Captum's default). */
  rule?: IntegrationRule
  /** Upper bound on rows per encode or Jacobian call; default 4096. */
  maxBatchRows?: number
}

/** The attribution of one input feature to one latent's posterior mean. */
export interface EncoderAttributionEntry {
  latent: number
  feature: string
  /** Mean over the rows of |IG| of mu_latent with respect to the feature. */
  value: number
}

/** Result of {@link encoderAttribution}. */
export interface EncoderAttributionResult {
  /** Latent-major: all features of latent 0, then of latent 1, ... */
  entries: EncoderAttributionEntry[]
  check: CompletenessCheck
  /** Per row, k*m signed values row-major [latent j][feature i]. */
  attributions: Float64Array[]
  /** mu(x) per row. */
  means: Float64Array[]
  /** mu(x'). */
  baselineMean: Float64Array
  /** Per row, per latent: |sum_i IG_ji - (mu_j(x) - mu_j(x'))|. */
  gaps: Float64Array[]
  steps: number
}

/**
 * Which input features move each latent: Integrated Gradients of every posterior mean mu_j to every input
 * feature from `baseline`, summarised per latent and feature as the mean |IG| over the rows (the usual
 * global ranking), with the completeness gap |sum_i IG_ji - (mu_j(x) - mu_j(x'))| as the check.
 */
export function encoderAttribution(options: EncoderAttributionOptions): EncoderAttributionResult {
  const { encode, jacobian, rows, baseline, featureNames, latentDim } = options
  assertLatentDim(latentDim)
  assertFeatureNames(featureNames)
  const width = featureNames.length
  assertFiniteRows(rows, width, 'rows')
  assertFiniteRows([baseline], width, 'baseline')
  const steps = options.steps ?? DEFAULT_IG_STEPS
  const maxBatchRows = resolveMaxBatchRows(options.maxBatchRows)

  const encodeMean: RowFunction = (chunk) => {
    const { mean } = encode(chunk)
    return mean
  }
  const means = callInBatches(encodeMean, [...rows, baseline], maxBatchRows, latentDim, 'encode')
  const baselineMean = means.pop() as Float64Array
  const attributions = integrateAlongPaths({
    jacobian,
    points: rows,
    baseline,
    outWidth: latentDim,
    steps,
    rule: options.rule ?? 'gauss-legendre',
    maxBatchRows,
    what: 'encoder jacobian',
  })
  const { gaps, check } = completenessGaps(attributions, means, baselineMean, width)

  const entries: EncoderAttributionEntry[] = []
  for (let j = 0; j < latentDim; j++) {
    featureNames.forEach((feature, i) => {
      let sum = 0
      for (const ig of attributions) sum += Math.abs(ig[j * width + i] as number)
      entries.push({ latent: j, feature, value: sum / attributions.length })
    })
  }
  return { entries, check, attributions, means, baselineMean, gaps, steps }
}

/** Inputs of {@link integrateAlongPaths}. */
interface PathIntegral {
  jacobian: RowFunction
  points: readonly Float64Array[]
  baseline: Float64Array
  outWidth: number
  steps: number
  rule: IntegrationRule
  maxBatchRows: number
  what: string
}

/**
 * IG of a vector function for each point: out*in values, row-major [output][input]. The paths of several
 * points share a Jacobian call; a path longer than `maxBatchRows` is split over calls rather than breaking
 * the bound.
 */
function integrateAlongPaths(p: PathIntegral): Float64Array[] {
  const { points, baseline, outWidth, steps, maxBatchRows } = p
  assertIntegerAtLeast(steps, 1, 'steps')
  const { nodes, weights } = unitIntervalRule(p.rule, steps)
  const inWidth = baseline.length
  const size = outWidth * inWidth
  const pointsPerCall = Math.max(1, Math.floor(maxBatchRows / steps))

  const attributions: Float64Array[] = []
  for (let start = 0; start < points.length; start += pointsPerCall) {
    const chunk = points.slice(start, start + pointsPerCall)
    const path: Float64Array[] = []
    for (const x of chunk) {
      for (const alpha of nodes) {
        const point = new Float64Array(inWidth)
        for (let j = 0; j < inWidth; j++) {
          const b = baseline[j] as number
          point[j] = b + alpha * ((x[j] as number) - b)
        }
        path.push(point)
      }
    }
    const jacobians = callInBatches(p.jacobian, path, maxBatchRows, size, p.what)
    chunk.forEach((x, r) => {
      const ig = new Float64Array(size)
      for (let s = 0; s < steps; s++) {
        const jac = jacobians[r * steps + s] as Float64Array
        const w = weights[s] as number
        for (let e = 0; e < size; e++) ig[e] = (ig[e] as number) + w * (jac[e] as number)
      }
      for (let i = 0; i < outWidth; i++) {
        for (let j = 0; j < inWidth; j++) {
          const e = i * inWidth + j
          ig[e] = (ig[e] as number) * ((x[j] as number) - (baseline[j] as number))
        }
      }
      attributions.push(ig)
    })
  }
  return attributions
}
