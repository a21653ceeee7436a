import { ExplainInputError, assertRowWidths } from './errors'
import { leastSquares } from './linalg'
import { DEFAULT_MAX_BATCH_ROWS } from './model'
import { createRng, permutation, randomInt, type Rng } from './random'
import { mean, std } from './stats'
import type { BatchPredict } from './types'

/**
 * Largest feature count explained by exact enumeration of all 2^M coalitions (4,096 at M = 12); above it
 * KernelSHAP samples coalitions. SHAP's KernelExplainer is exhaustive up to M = 11 with its default budget.
 */
export const DEFAULT_EXACT_MAX_FEATURES = 12

/** Hard ceiling for exact enumeration: 2^20 coalitions per instance is already beyond any sane budget. */
const EXACT_FEATURE_CEILING = 20

/** Options of {@link shapleyValues}. */
export interface ShapleyOptions {
  predict: BatchPredict
  /** Rows to explain. */
  rows: readonly Float64Array[]
  /** Background rows: v(S) = mean over them of f(x_S, bg_rest). A single row gives baseline Shapley values. */
  background: readonly Float64Array[]
  /** Exact enumeration up to this many features (default 12), KernelSHAP above. */
  exactMaxFeatures?: number
  /** KernelSHAP coalitions per instance; default SHAP's 2M + 2048 (M = features that vary). */
  nSamples?: number
  seed?: number | string
  /** Upper bound on rows per model call. */
  maxBatchRows?: number
  /**
   * Estimate by stratified antithetic permutation sampling instead of enumerating coalitions (any width): see
   * {@link PermutationSampling}. Absent: exact up to `exactMaxFeatures`, KernelSHAP above.
   */
  sampling?: PermutationSampling
}

/**
 * A tolerance-driven budget for sampled Shapley values. A round draws, for every background row b, one
 * permutation and its reverse and walks both from b to x (2 |bg| (M - 1) model rows per instance). Rounds are
 * added until every feature's standard error is at most `tolerance` x sd_bg(f) (the spread of the model over
 * the background, so the tolerance has no units) or `maxRounds` is reached.
 */
export interface PermutationSampling {
  tolerance: number
  /** At least 2: the standard error needs two draws per background row. */
  minRounds: number
  maxRounds: number
}

/** Result of {@link shapleyValues}. */
export interface ShapleyResult {
  /** phi per row, one value per feature. */
  values: Float64Array[]
  /** E[f] over the background, v(empty set). */
  expectedValue: number
  /** f(x) per row. */
  predictions: Float64Array
  /** Efficiency gap |sum_i phi_i + E[f] - f(x)| per row. */
  gaps: Float64Array
  /** True when computed by exact enumeration, false for KernelSHAP estimates. */
  exact: boolean
  /**
   * Per row, the largest standard error of a feature's value: 0 when exact, the sampling estimate's when
   * sampled, null for KernelSHAP (which has none).
   */
  stdErrors: Float64Array | null
  /** Per row, the permutations walked (sampled); 0 when exact; null for KernelSHAP. */
  permutations: Int32Array | null
}

/**
 * Interventional Shapley values phi_i = sum_{S subset N\{i}} |S|!(M-|S|-1)!/M! [v(S+i) - v(S)] with
 * v(S) = mean_bg f(x_S, bg_rest): exact up to `exactMaxFeatures` features, KernelSHAP (Lundberg and Lee 2017,
 * as SHAP's KernelExplainer samples and solves it, without its optional l1 feature selection) above.
 */
export function shapleyValues(options: ShapleyOptions): ShapleyResult {
  const { predict, rows, background } = options
  if (background.length === 0) throw new ExplainInputError('Shapley values need at least one background row')
  const width = (background[0] as Float64Array).length
  assertRowWidths(background, width, 'background')
  assertRowWidths(rows, width, 'rows')
  const exactMax = options.exactMaxFeatures ?? DEFAULT_EXACT_MAX_FEATURES
  if (exactMax > EXACT_FEATURE_CEILING) {
    throw new ExplainInputError(`exact Shapley is limited to ${EXACT_FEATURE_CEILING} features`)
  }
  const maxBatchRows = options.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS
  const exact = width <= exactMax && options.sampling === undefined

  const backgroundValues = predict(background)
  const expectedValue = mean(backgroundValues)
  const predictions = rows.length > 0 ? predict(rows) : new Float64Array(0)
  if (options.sampling !== undefined) {
    const sampled = sampledShapley(
      predict,
      rows,
      background,
      backgroundValues,
      predictions,
      options.sampling,
      createRng(options.seed ?? 0, 'shapley-permutations'),
    )
    return {
      ...sampled,
      expectedValue,
      predictions,
      gaps: efficiencyGaps(sampled.values, expectedValue, predictions),
      exact: false,
    }
  }
  const rng = createRng(options.seed ?? 0, 'kernel-shap')
  const values = rows.map((x, i) => {
    const fx = predictions[i] as number
    return exact
      ? exactInstance(predict, x, background, expectedValue, fx, maxBatchRows)
      : kernelShapInstance(predict, x, background, expectedValue, fx, options.nSamples, rng, maxBatchRows)
  })
  return {
    values,
    expectedValue,
    predictions,
    gaps: efficiencyGaps(values, expectedValue, predictions),
    exact,
    stdErrors: exact ? new Float64Array(rows.length) : null,
    permutations: exact ? new Int32Array(rows.length) : null,
  }
}

function efficiencyGaps(
  values: readonly Float64Array[],
  expectedValue: number,
  predictions: Float64Array,
): Float64Array {
  const gaps = new Float64Array(values.length)
  values.forEach((phi, i) => {
    let sum = 0
    for (const v of phi) sum += v
    gaps[i] = Math.abs(sum + expectedValue - (predictions[i] as number))
  })
  return gaps
}

/** Running sums of one instance's sampled Shapley values, per background row (the strata). */
interface SampledInstance {
  x: Float64Array
  fx: number
  /** sum[b * M + j]: sum over rounds of the pair means of feature j with background row b; sq the squares. */
  sum: Float64Array
  sq: Float64Array
  rounds: number
  stdError: number
}

/**
 * Stratified antithetic permutation sampling (Strumbelj and Kononenko's estimator, Captum's
 * ShapleyValueSampling, with the background as strata): v(S) is the background mean of f(x_S, b), so
 * phi_j = mean over b of E_pi[f(x_{pre_j + j}, b) - f(x_{pre_j}, b)]. Each round walks, for every b, a random
 * permutation pi and its reverse from b to x (antithetic pair); their marginal contributions telescope to
 * f(x) - f(b), so after any whole round sum phi = f(x) - E f to rounding (efficiency holds by construction).
 * The standard error is the stratified one, sqrt(sum_b s_b^2 / n) / |bg| with s_b^2 the variance of b's pair
 * means over the n rounds: a model additive in the features gets 0 (every permutation agrees), not the spread
 * of the background. All active instances of a round go to the model together.
 */
function sampledShapley(
  predict: BatchPredict,
  rows: readonly Float64Array[],
  background: readonly Float64Array[],
  backgroundValues: Float64Array,
  predictions: Float64Array,
  sampling: PermutationSampling,
  rng: Rng,
): { values: Float64Array[]; stdErrors: Float64Array; permutations: Int32Array } {
  const { minRounds, maxRounds, tolerance } = sampling
  if (
    !Number.isInteger(minRounds) ||
    minRounds < 2 ||
    !Number.isInteger(maxRounds) ||
    maxRounds < minRounds
  ) {
    throw new ExplainInputError('sampled Shapley needs integer rounds with 2 <= minRounds <= maxRounds')
  }
  if (!(tolerance >= 0)) throw new ExplainInputError('the Shapley tolerance must be >= 0')
  const m = (background[0] as Float64Array).length
  const k = background.length
  const aim = tolerance * std(backgroundValues)
  const instances: SampledInstance[] = rows.map((x, i) => ({
    x,
    fx: predictions[i] as number,
    sum: new Float64Array(k * m),
    sq: new Float64Array(k * m),
    rounds: 0,
    stdError: Number.POSITIVE_INFINITY,
  }))
  const walk = new Float64Array(m)
  for (let round = 0; round < maxRounds; round++) {
    const active = instances.filter((s) => s.rounds < minRounds || s.stdError > aim)
    if (active.length === 0 || m === 0) break
    // Per instance and background row: a permutation and its reverse, M - 1 inner points each.
    const orders: Int32Array[] = []
    const batch: Float64Array[] = []
    for (const s of active) {
      for (const b of background) {
        const order = permutation(m, rng)
        orders.push(order)
        for (const o of [order, order.slice().reverse()]) {
          const point = Float64Array.from(b)
          for (let t = 0; t + 1 < m; t++) {
            const j = o[t] as number
            point[j] = s.x[j] as number
            batch.push(Float64Array.from(point))
          }
        }
      }
    }
    const out = predict(batch)
    let at = 0
    active.forEach((s, a) => {
      for (let b = 0; b < k; b++) {
        const order = orders[a * k + b] as Int32Array
        walk.fill(0)
        for (const reversed of [false, true]) {
          let previous = backgroundValues[b] as number
          for (let t = 0; t < m; t++) {
            const current = t + 1 < m ? (out[at++] as number) : s.fx
            const j = order[reversed ? m - 1 - t : t] as number
            walk[j] = (walk[j] as number) + (current - previous) / 2
            previous = current
          }
        }
        for (let j = 0; j < m; j++) {
          const v = walk[j] as number
          s.sum[b * m + j] = (s.sum[b * m + j] as number) + v
          s.sq[b * m + j] = (s.sq[b * m + j] as number) + v * v
        }
      }
      s.rounds++
      s.stdError = stratifiedStdError(s, k, m)
    })
  }
  return {
    values: instances.map((s) => {
      const phi = new Float64Array(m)
      for (let b = 0; b < k; b++)
        for (let j = 0; j < m; j++) phi[j] = (phi[j] as number) + (s.sum[b * m + j] as number)
      return phi.map((v) => v / (k * s.rounds))
    }),
    stdErrors: Float64Array.from(instances, (s) => (s.rounds > 0 ? s.stdError : 0)),
    permutations: Int32Array.from(instances, (s) => 2 * k * s.rounds),
  }
}

/** max_j sqrt(sum_b s_bj^2 / n) / |bg|; infinite before two rounds. */
function stratifiedStdError(s: SampledInstance, k: number, m: number): number {
  const n = s.rounds
  if (n < 2) return Number.POSITIVE_INFINITY
  let worst = 0
  for (let j = 0; j < m; j++) {
    let variance = 0
    for (let b = 0; b < k; b++) {
      const sum = s.sum[b * m + j] as number
      // Sample variance from the sums; clamped at 0 against rounding for features whose draws all agree.
      variance += Math.max(0, ((s.sq[b * m + j] as number) - (sum * sum) / n) / (n - 1))
    }
    worst = Math.max(worst, Math.sqrt(variance / n) / k)
  }
  return worst
}

/**
 * v(S) for each given coalition: x on the features of the coalition, background elsewhere, averaged over
 * the background. Coalitions are sent in batches of whole backgrounds.
 */
function coalitionValues(
  predict: BatchPredict,
  x: Float64Array,
  background: readonly Float64Array[],
  coalitionCount: number,
  setFeatures: (coalition: number, row: Float64Array, x: Float64Array) => void,
  maxBatchRows: number,
): Float64Array {
  const k = background.length
  const perCall = Math.max(1, Math.floor(maxBatchRows / k))
  const v = new Float64Array(coalitionCount)
  for (let start = 0; start < coalitionCount; start += perCall) {
    const end = Math.min(coalitionCount, start + perCall)
    const batch: Float64Array[] = []
    for (let c = start; c < end; c++) {
      for (const b of background) {
        const row = Float64Array.from(b)
        setFeatures(c, row, x)
        batch.push(row)
      }
    }
    const out = predict(batch)
    for (let c = start; c < end; c++) {
      let sum = 0
      for (let r = 0; r < k; r++) sum += out[(c - start) * k + r] as number
      v[c] = sum / k
    }
  }
  return v
}

function popcount(mask: number): number {
  let m = mask
  let count = 0
  while (m !== 0) {
    m &= m - 1
    count++
  }
  return count
}

/** Exact enumeration over all 2^M coalitions (v of the empty and the full coalition are known already). */
function exactInstance(
  predict: BatchPredict,
  x: Float64Array,
  background: readonly Float64Array[],
  expectedValue: number,
  fx: number,
  maxBatchRows: number,
): Float64Array {
  const m = x.length
  const full = 2 ** m - 1
  const phi = new Float64Array(m)
  if (m === 0) return phi
  // Coalition c of the inner evaluation is the mask c + 1, skipping the empty and the full coalition.
  const inner = coalitionValues(
    predict,
    x,
    background,
    Math.max(0, full - 1),
    (c, row, point) => {
      const mask = c + 1
      for (let j = 0; j < m; j++) if ((mask >> j) & 1) row[j] = point[j] as number
    },
    maxBatchRows,
  )
  const v = new Float64Array(full + 1)
  v.set(inner, 1)
  v[0] = expectedValue
  // v(N) as the background average of f(x) would come out, so an ignored feature gets exactly 0.
  let fxSum = 0
  for (let k = 0; k < background.length; k++) fxSum += fx
  v[full] = fxSum / background.length
  // Shapley weight |S|!(M-|S|-1)!/M! = 1 / (M * C(M-1, |S|)).
  const weight = new Float64Array(m)
  let binom = 1
  for (let s = 0; s < m; s++) {
    weight[s] = 1 / (m * binom)
    binom = (binom * (m - 1 - s)) / (s + 1)
  }
  for (let mask = 0; mask < full; mask++) {
    const w = weight[popcount(mask)] as number
    const vs = v[mask] as number
    for (let i = 0; i < m; i++) {
      const bit = 1 << i
      if ((mask & bit) === 0) phi[i] = (phi[i] as number) + w * ((v[mask | bit] as number) - vs)
    }
  }
  return phi
}

function binomial(n: number, k: number): number {
  let r = 1
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i
  return Math.round(r)
}

/** Draws from a discrete distribution given by probabilities summing to 1. */
function drawIndex(probabilities: Float64Array, rng: Rng): number {
  const u = rng()
  let acc = 0
  for (let i = 0; i < probabilities.length; i++) {
    acc += probabilities[i] as number
    if (u < acc) return i
  }
  return probabilities.length - 1
}

/**
 * KernelSHAP for one instance, following SHAP's KernelExplainer: only features where x differs from some
 * background row take part (the others get exactly 0); coalition sizes whose every subset fits the budget
 * are enumerated with their complements, the rest sampled in complement pairs with weights from the Shapley
 * kernel pi(z) = (M-1) / (C(M,|z|) |z| (M-|z|)); then a weighted least-squares fit with the efficiency
 * constraint sum phi = f(x) - E[f] enforced by eliminating the last feature.
 */
function kernelShapInstance(
  predict: BatchPredict,
  x: Float64Array,
  background: readonly Float64Array[],
  expectedValue: number,
  fx: number,
  nSamplesOption: number | undefined,
  rng: Rng,
  maxBatchRows: number,
): Float64Array {
  const phi = new Float64Array(x.length)
  const varying: number[] = []
  for (let j = 0; j < x.length; j++) {
    const xj = x[j] as number
    // Exact comparison (NaN equal to NaN), as SHAP: a feature equal to every background value gets 0.
    if (background.some((b) => !(b[j] === xj || (Number.isNaN(b[j]) && Number.isNaN(xj))))) varying.push(j)
  }
  const m = varying.length
  if (m === 0) return phi
  if (m === 1) {
    phi[varying[0] as number] = fx - expectedValue
    return phi
  }

  let nSamples = nSamplesOption ?? 2 * m + 2048
  const maxSamples = m <= 30 ? 2 ** m - 2 : 2 ** 30
  nSamples = Math.min(nSamples, maxSamples)
  if (!Number.isInteger(nSamples) || nSamples < 1) throw new ExplainInputError('nSamples must be >= 1')

  const masks: Uint8Array[] = []
  const kernelWeights: number[] = []
  const addSample = (mask: Uint8Array, w: number): void => {
    masks.push(Uint8Array.from(mask))
    kernelWeights.push(w)
  }

  const numSubsetSizes = Math.ceil((m - 1) / 2)
  const numPairedSubsetSizes = Math.floor((m - 1) / 2)
  const weightVector = new Float64Array(numSubsetSizes)
  for (let s = 1; s <= numSubsetSizes; s++) {
    weightVector[s - 1] = ((m - 1) / (s * (m - s))) * (s <= numPairedSubsetSizes ? 2 : 1)
  }
  const totalWeight = weightVector.reduce((a, b) => a + b, 0)
  for (let s = 0; s < numSubsetSizes; s++) weightVector[s] = (weightVector[s] as number) / totalWeight

  // Fully enumerate the subset sizes the budget can cover, smallest (and their complements) first.
  let numFullSubsets = 0
  let numSamplesLeft = nSamples
  const remaining = Float64Array.from(weightVector)
  const mask = new Uint8Array(m)
  for (let size = 1; size <= numSubsetSizes; size++) {
    const paired = size <= numPairedSubsetSizes
    const nSubsets = binomial(m, size) * (paired ? 2 : 1)
    if ((numSamplesLeft * (remaining[size - 1] as number)) / nSubsets < 1 - 1e-8) break
    numFullSubsets++
    numSamplesLeft -= nSubsets
    const r = remaining[size - 1] as number
    if (r < 1) for (let s = 0; s < numSubsetSizes; s++) remaining[s] = (remaining[s] as number) / (1 - r)
    const w = (weightVector[size - 1] as number) / binomial(m, size) / (paired ? 2 : 1)
    forEachCombination(m, size, (indices) => {
      mask.fill(0)
      for (const i of indices) mask[i] = 1
      addSample(mask, w)
      if (paired) {
        for (let i = 0; i < m; i++) mask[i] = 1 - (mask[i] as number)
        addSample(mask, w)
      }
    })
  }

  // Sample the remaining sizes (each draw with its complement), merging duplicates into their weight.
  const nFixed = masks.length
  let samplesLeft = nSamples - nFixed
  if (numFullSubsets !== numSubsetSizes && samplesLeft > 0) {
    const probs = weightVector.slice(numFullSubsets)
    for (let s = 0; s < probs.length; s++) {
      if (s + numFullSubsets + 1 <= numPairedSubsetSizes) probs[s] = (probs[s] as number) / 2
    }
    const probSum = probs.reduce((a, b) => a + b, 0)
    for (let s = 0; s < probs.length; s++) probs[s] = (probs[s] as number) / probSum
    const used = new Map<string, number>()
    const order = Array.from({ length: m }, (_, i) => i)
    const maxDraws = 4 * samplesLeft
    for (let draw = 0; draw < maxDraws && samplesLeft > 0; draw++) {
      const size = drawIndex(probs, rng) + numFullSubsets + 1
      mask.fill(0)
      // The first `size` entries of a partial Fisher-Yates shuffle: a uniform subset of that size.
      for (let i = 0; i < size; i++) {
        const j = i + randomInt(m - i, rng)
        const tmp = order[i] as number
        order[i] = order[j] as number
        order[j] = tmp
        mask[order[i] as number] = 1
      }
      const key = mask.join('')
      const previous = used.get(key)
      if (previous === undefined) {
        used.set(key, masks.length)
        samplesLeft--
        addSample(mask, 1)
      } else {
        kernelWeights[previous] = (kernelWeights[previous] as number) + 1
      }
      if (samplesLeft > 0 && size <= numPairedSubsetSizes) {
        for (let i = 0; i < m; i++) mask[i] = 1 - (mask[i] as number)
        if (previous === undefined) {
          samplesLeft--
          addSample(mask, 1)
        } else {
          kernelWeights[previous + 1] = (kernelWeights[previous + 1] as number) + 1
        }
      }
    }
    let weightLeft = 0
    for (let s = numFullSubsets; s < numSubsetSizes; s++) weightLeft += weightVector[s] as number
    let sampled = 0
    for (let i = nFixed; i < kernelWeights.length; i++) sampled += kernelWeights[i] as number
    for (let i = nFixed; i < kernelWeights.length; i++) {
      kernelWeights[i] = ((kernelWeights[i] as number) * weightLeft) / sampled
    }
  }

  const ey = coalitionValues(
    predict,
    x,
    background,
    masks.length,
    (c, row, point) => {
      const z = masks[c] as Uint8Array
      for (let k = 0; k < m; k++) {
        if (z[k] === 1) {
          const j = varying[k] as number
          row[j] = point[j] as number
        }
      }
    },
    maxBatchRows,
  )

  // Eliminate the last feature: phi_last = (f(x) - E f) - sum of the others.
  const total = fx - expectedValue
  const last = m - 1
  const design: Float64Array[] = []
  const target = new Float64Array(masks.length)
  masks.forEach((z, s) => {
    const zLast = z[last] as number
    const row = new Float64Array(last)
    for (let k = 0; k < last; k++) row[k] = (z[k] as number) - zLast
    design.push(row)
    target[s] = (ey[s] as number) - expectedValue - zLast * total
  })
  const { coefficients } = leastSquares(design, target, last, kernelWeights)
  let sum = 0
  for (let k = 0; k < last; k++) {
    const value = coefficients[k] as number
    phi[varying[k] as number] = value
    sum += value
  }
  phi[varying[last] as number] = total - sum
  return phi
}

/** Calls `visit` with each size-k subset of 0..n-1 in lexicographic order (as itertools.combinations). */
function forEachCombination(n: number, k: number, visit: (indices: Int32Array) => void): void {
  const idx = new Int32Array(k)
  for (let i = 0; i < k; i++) idx[i] = i
  while (true) {
    visit(idx)
    let i = k - 1
    while (i >= 0 && idx[i] === n - k + i) i--
    if (i < 0) return
    idx[i] = (idx[i] as number) + 1
    for (let j = i + 1; j < k; j++) idx[j] = (idx[j - 1] as number) + 1
  }
}
