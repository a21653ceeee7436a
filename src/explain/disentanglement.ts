/**
 * Disentanglement scores of a VAE's codes against known generative factors: MIG (Chen et al. 2018), SAP
 * (Kumar et al. 2018) and DCI (Eastwood & Williams 2018), as disentanglement_lib computes them, with the
 * variants named where we differ. Pure TypeScript: the importance model of DCI is a small seeded random
 * forest written here, not a TensorFlow model.
 */
import { ExplainInputError, assertRowWidths } from './errors'
import { createRng, permutation, randomInt, sampleIndices, type Rng } from './random'
import { column, mean, rSquared } from './stats'

/** disentanglement_lib's `histogram_discretizer` default for MIG. */
export const DEFAULT_DISENTANGLEMENT_BINS = 20

/** Trees in the DCI forest: enough that the importances of 2,000 rows vary by a few percent between seeds. */
export const DCI_TREES = 30

/** Depth limit of a DCI tree: 64 leaves resolve a 16-level factor exactly and a smooth one to R^2 ~ 0.999. */
export const DCI_MAX_DEPTH = 6

/** Rows the DCI forest sees at most (a seeded subsample above it), which bounds its cost. */
export const DCI_MAX_ROWS = 2000

/** Share of the forest's rows it is trained on; informativeness is R^2 on the rest. */
export const DCI_TRAIN_FRACTION = 0.8

/** Scores of one generative factor. */
export interface FactorDisentanglement {
  factor: string
  /** (largest - second largest I(z_j; v_k)) / H(v_k); 0 for a constant factor. */
  mig: number
  /** Top minus second one-latent R^2; 0 for a constant factor. */
  sap: number
  /** C_k = 1 - H_J(R_.k / sum_j R_jk). */
  completeness: number
  /** Held-out R^2 of the importance model for this factor, as is (negative when worse than the mean). */
  informativeness: number
  /** Plug-in entropy H(v_k) of the discretised factor, nats. A factor with H = 0 is left out of every mean. */
  entropy: number
}

/** Disentanglement D_j of one latent and its weight rho_j in D. */
export interface LatentDisentanglement {
  latent: number
  disentanglement: number
  weight: number
}

/** Importance R_jk of latent j for factor k. */
export interface ImportanceEntry {
  latent: number
  factor: string
  value: number
}

/** Result of {@link disentanglement}. */
export interface DisentanglementResult {
  mig: number
  sap: number
  dciDisentanglement: number
  dciCompleteness: number
  dciInformativeness: number
  /**
   * Which model gave the DCI importances and informativeness, e.g. "random forest (30 trees, depth 6, MDI
   * importance); informativeness = held-out R^2"
   */
  importanceModel: string
  factors: FactorDisentanglement[]
  latents: LatentDisentanglement[]
  importance: ImportanceEntry[]
  bins: number
  rows: number
}

/** Options of {@link disentanglement}. */
export interface DisentanglementOptions {
  /** rows x k: posterior means of the VAE. */
  codes: readonly Float64Array[]
  /** rows x K: true factor values, same rows. */
  factors: readonly Float64Array[]
  factorNames: readonly string[]
  /** Seeds everything random: the row subsample, the train/test split and the forest. Default 0. */
  seed?: number | string
  /** Equal-width bins per latent (and per factor with more distinct values than this). Default 20. */
  bins?: number
}

/**
 * MIG, SAP and DCI of the codes against the factors. MIG and SAP use every row; the DCI forest uses at most
 * {@link DCI_MAX_ROWS} of them (a seeded subsample), 80% to fit and 20% to score. Factors that are constant
 * (H = 0) carry nothing to capture and are left out of every mean over factors.
 */
export function disentanglement(options: DisentanglementOptions): DisentanglementResult {
  const { codes, factors, factorNames } = options
  const bins = options.bins ?? DEFAULT_DISENTANGLEMENT_BINS
  const seed = options.seed ?? 0
  validate(codes, factors, factorNames, bins)
  const rows = codes.length
  const k = (codes[0] as Float64Array).length
  const K = factorNames.length
  const codeColumns = Array.from({ length: k }, (_, j) => column(codes, j))
  const factorColumns = Array.from({ length: K }, (_, f) => column(factors, f))

  const codeBins = codeColumns.map((c) => discretize(c, bins))
  const factorClasses = factorColumns.map((c) => discretizeFactor(c, bins))
  const entropies = factorClasses.map((v) => entropy(v))
  const informative = entropies.map((h) => h > 0)
  const mi = codeBins.map((z) => factorClasses.map((v) => mutualInformation(z, v)))
  const migScores = mig(mi, entropies)
  const sapScores = sap(sapScoreMatrix(codeColumns, factorColumns), informative)

  const forest = forestImportance(codeColumns, factorColumns, informative, seed)
  const dci = dciFromImportance(forest.importance)
  const informativeness = meanWhere(forest.informativeness, informative)

  return {
    mig: migScores.mig,
    sap: sapScores.sap,
    dciDisentanglement: dci.disentanglement,
    dciCompleteness: dci.completeness,
    dciInformativeness: informativeness,
    importanceModel:
      `random forest of regression trees (${DCI_TREES} bootstrap trees, depth ${DCI_MAX_DEPTH}, every latent ` +
      `tried at each split, MDI importance) fit on a seeded ${Math.round(DCI_TRAIN_FRACTION * 100)}% of ` +
      `${forest.rows} rows; informativeness = held-out R^2 on the other ${forest.testRows}`,
    factors: factorNames.map((factor, f) => ({
      factor,
      mig: migScores.perFactor[f] as number,
      sap: sapScores.perFactor[f] as number,
      completeness: dci.perFactor[f] as number,
      informativeness: forest.informativeness[f] as number,
      entropy: entropies[f] as number,
    })),
    latents: dci.perLatent,
    importance: forest.importance.flatMap((r, latent) =>
      factorNames.map((factor, f) => ({ latent, factor, value: r[f] as number })),
    ),
    bins,
    rows,
  }
}

function validate(
  codes: readonly Float64Array[],
  factors: readonly Float64Array[],
  factorNames: readonly string[],
  bins: number,
): void {
  if (codes.length !== factors.length) {
    throw new ExplainInputError(`codes have ${codes.length} rows but factors have ${factors.length}`)
  }
  if (codes.length < 2)
    throw new ExplainInputError(`disentanglement needs at least 2 rows, got ${codes.length}`)
  if (!Number.isInteger(bins) || bins < 2) {
    throw new ExplainInputError(`bins must be an integer >= 2, got ${bins}`)
  }
  const k = (codes[0] as Float64Array).length
  if (k < 1) throw new ExplainInputError('codes need at least one latent')
  const K = (factors[0] as Float64Array).length
  if (K < 1) throw new ExplainInputError('factors need at least one column')
  if (factorNames.length !== K) {
    throw new ExplainInputError(`${factorNames.length} factor names for ${K} factor columns`)
  }
  assertRowWidths(codes, k, 'codes')
  assertRowWidths(factors, K, 'factors')
  assertFinite(codes, 'codes')
  assertFinite(factors, 'factors')
}

function assertFinite(rows: readonly Float64Array[], what: string): void {
  rows.forEach((row, i) => {
    const j = row.findIndex((v) => !Number.isFinite(v))
    if (j >= 0) throw new ExplainInputError(`${what}[${i}][${j}] is ${row[j]}, expected a finite number`)
  })
}

/**
 * Bin indices 0..bins-1 of equal-width bins over the observed range [min, max], the maximum in the last bin
 * (numpy's `digitize(x, histogram(x, bins)[1][:-1])`, shifted to start at 0). A constant input is one bin.
 */
export function discretize(values: ArrayLike<number>, bins: number): Int32Array {
  const n = values.length
  let lo = Infinity
  let hi = -Infinity
  for (let i = 0; i < n; i++) {
    const v = values[i] as number
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  const out = new Int32Array(n)
  if (!(hi > lo)) return out
  const scale = bins / (hi - lo)
  for (let i = 0; i < n; i++) out[i] = Math.min(bins - 1, Math.floor(((values[i] as number) - lo) * scale))
  return out
}

/**
 * Classes of a factor: the distinct values themselves (ranked) when there are at most `bins` of them, so a
 * discrete factor is never merged or split; otherwise the equal-width bins of {@link discretize}.
 */
export function discretizeFactor(values: ArrayLike<number>, bins: number): Int32Array {
  const distinct = new Set<number>()
  for (let i = 0; i < values.length && distinct.size <= bins; i++) distinct.add(values[i] as number)
  if (distinct.size > bins) return discretize(values, bins)
  const rank = new Map([...distinct].sort((a, b) => a - b).map((v, r) => [v, r]))
  return Int32Array.from({ length: values.length }, (_, i) => rank.get(values[i] as number) as number)
}

/** Labels renumbered 0..classes-1 in order of first appearance. */
function denseLabels(labels: ArrayLike<number>): { ids: Int32Array; classes: number } {
  const index = new Map<number, number>()
  const ids = new Int32Array(labels.length)
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as number
    let id = index.get(l)
    if (id === undefined) {
      id = index.size
      index.set(l, id)
    }
    ids[i] = id
  }
  return { ids, classes: index.size }
}

/** Plug-in (maximum-likelihood) entropy of discrete labels, natural log. */
export function entropy(labels: ArrayLike<number>): number {
  const { ids, classes } = denseLabels(labels)
  const counts = new Float64Array(classes)
  for (const id of ids) counts[id] = (counts[id] as number) + 1
  const n = labels.length
  let h = 0
  for (const c of counts) h -= (c / n) * Math.log(c / n)
  // -1 * log(1) is -0; a constant reads better as 0.
  return h > 0 ? h : 0
}

/**
 * Plug-in mutual information of two discrete label arrays, natural log: scikit-learn's
 * `mutual_info_score(a, b)` (sum over the contingency table of p_ij log(p_ij / (p_i p_j)), clipped at 0).
 */
export function mutualInformation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new ExplainInputError(`mutual information of ${a.length} and ${b.length} labels`)
  }
  const n = a.length
  if (n === 0) return 0
  const la = denseLabels(a)
  const lb = denseLabels(b)
  const rowCounts = new Float64Array(la.classes)
  const colCounts = new Float64Array(lb.classes)
  const joint = new Map<number, number>()
  for (let i = 0; i < n; i++) {
    const ia = la.ids[i] as number
    const ib = lb.ids[i] as number
    rowCounts[ia] = (rowCounts[ia] as number) + 1
    colCounts[ib] = (colCounts[ib] as number) + 1
    const cell = ia * lb.classes + ib
    joint.set(cell, (joint.get(cell) ?? 0) + 1)
  }
  let mi = 0
  for (const [cell, c] of joint) {
    const ia = Math.floor(cell / lb.classes)
    const ib = cell - ia * lb.classes
    mi += (c / n) * Math.log((c * n) / ((rowCounts[ia] as number) * (colCounts[ib] as number)))
  }
  return mi > 0 ? mi : 0
}

/** A gap score per factor and its mean over the factors that count. */
export interface GapScores {
  perFactor: number[]
  /** Indices of the factors the mean is over. */
  counted: number[]
}

/** Top entry of a column minus the second one; with a single latent the second is taken as 0. */
function topTwoGap(matrix: readonly ArrayLike<number>[], f: number): number {
  let first = -Infinity
  let second = -Infinity
  for (const row of matrix) {
    const v = row[f] as number
    if (v > first) {
      second = first
      first = v
    } else if (v > second) second = v
  }
  return first - (second === -Infinity ? 0 : second)
}

/**
 * MIG from the mutual information matrix `mi[j][k]` = I(z_j; v_k) (k latents x K factors) and the factor
 * entropies H(v_k): the mean over factors of (largest - second largest I) / H(v_k). Two latents equally
 * informative about a factor give it a gap of exactly 0; with one latent the gap is I itself. A factor with
 * H = 0 (constant) has no information to share out, so its gap is reported as 0 and left out of the mean
 * (disentanglement_lib would divide by zero); with no such factor left MIG is 0.
 */
export function mig(
  mi: readonly ArrayLike<number>[],
  factorEntropies: ArrayLike<number>,
): GapScores & { mig: number } {
  const perFactor: number[] = []
  const counted: number[] = []
  for (let f = 0; f < factorEntropies.length; f++) {
    const h = factorEntropies[f] as number
    if (h > 0) {
      perFactor.push(topTwoGap(mi, f) / h)
      counted.push(f)
    } else perFactor.push(0)
  }
  return { mig: mean(counted.map((f) => perFactor[f] as number)), perFactor, counted }
}

/**
 * S_jk = R^2 of the one-latent least-squares regression of factor k on latent j, i.e. the squared Pearson
 * correlation: disentanglement_lib's `continuous_factors=True` variant, which we use for every factor (a
 * discrete factor is scored by how linearly a latent tracks it, not by a classifier's accuracy). A latent or
 * factor that is constant up to rounding scores 0, as in disentanglement_lib. Returns `S[j][k]`.
 */
export function sapScoreMatrix(
  codeColumns: readonly ArrayLike<number>[],
  factorColumns: readonly ArrayLike<number>[],
): number[][] {
  const centred = (c: ArrayLike<number>): { d: Float64Array; ss: number; constant: boolean } => {
    const m = mean(c)
    const d = Float64Array.from(c, (v) => v - m)
    let ss = 0
    let scale = 0
    for (let i = 0; i < d.length; i++) {
      ss += (d[i] as number) ** 2
      scale = Math.max(scale, Math.abs(c[i] as number))
    }
    // Rounding leaves a constant column with deviations of ~1e-16 of its size; they are not a signal.
    return { d, ss, constant: ss <= d.length * (1e-12 * scale) ** 2 }
  }
  const z = codeColumns.map(centred)
  const v = factorColumns.map(centred)
  return z.map((zj) =>
    v.map((vk) => {
      if (zj.constant || vk.constant) return 0
      let cross = 0
      for (let i = 0; i < zj.d.length; i++) cross += (zj.d[i] as number) * (vk.d[i] as number)
      return Math.min(1, (cross * cross) / (zj.ss * vk.ss))
    }),
  )
}

/**
 * SAP from the score matrix `scores[j][k]`: the mean over factors of (top - second) score. `counted` marks
 * the factors the mean is over (all by default; {@link disentanglement} leaves out constant factors, whose
 * gap is 0 only because nothing can be explained).
 */
export function sap(
  scores: readonly ArrayLike<number>[],
  counted?: readonly boolean[],
): GapScores & { sap: number } {
  const factors = scores[0]?.length ?? counted?.length ?? 0
  const perFactor: number[] = []
  const used: number[] = []
  for (let f = 0; f < factors; f++) {
    if (counted === undefined || counted[f] === true) {
      perFactor.push(topTwoGap(scores, f))
      used.push(f)
    } else perFactor.push(0)
  }
  return { sap: mean(used.map((f) => perFactor[f] as number)), perFactor, counted: used }
}

/** D and C of an importance matrix, per latent and per factor. */
export interface DciScores {
  /** D = sum_j rho_j D_j. */
  disentanglement: number
  /** Mean of C_k over the factors with positive total importance. */
  completeness: number
  perLatent: LatentDisentanglement[]
  /** C_k per factor, 0 for a factor no latent has any importance for. */
  perFactor: number[]
}

/** Entropy of the distribution proportional to `weights` (total > 0), in log base `base`. */
function normalizedEntropy(weights: readonly number[], total: number, base: number): number {
  let h = 0
  for (const w of weights) if (w > 0) h -= (w / total) * Math.log(w / total)
  return h / Math.log(base)
}

/**
 * Disentanglement and completeness of Eastwood & Williams from `R[j][k]`, the importance of latent j for
 * factor k (k latents x K factors, non-negative). D_j = 1 - H_K(P_j.) with P_jk = R_jk / sum_k R_jk and
 * D = sum_j rho_j D_j, rho_j = sum_k R_jk / sum R; C_k = 1 - H_J(R_.k / sum_j R_jk), averaged over factors.
 *
 * Edge cases, where the definition divides by zero: with one factor (K = 1) every latent that matters at all
 * matters for that factor alone, so D_j = 1; with one latent (J = 1) it carries every factor alone, C_k = 1.
 * A latent with zero total importance has weight 0 and D_j = 0 (it encodes nothing, disentangled or not). A
 * factor with zero total importance has C_k = 0 and is left out of the mean: nothing predicts it (in the
 * pipeline, a constant factor). When every factor's importances sum to 1, as a forest's normalised MDI do,
 * this mean equals disentanglement_lib's importance-weighted one.
 */
export function dciFromImportance(R: readonly (readonly number[])[]): DciScores {
  const J = R.length
  if (J === 0) throw new ExplainInputError('importance matrix has no latents')
  const K = (R[0] as readonly number[]).length
  if (K === 0) throw new ExplainInputError('importance matrix has no factors')
  R.forEach((row, j) => {
    if (row.length !== K)
      throw new ExplainInputError(`importance row ${j} has ${row.length} values, expected ${K}`)
    row.forEach((v, f) => {
      if (!Number.isFinite(v) || v < 0) {
        throw new ExplainInputError(`importance[${j}][${f}] is ${v}, expected a finite number >= 0`)
      }
    })
  })
  const latentTotals = R.map((row) => row.reduce((s, v) => s + v, 0))
  const total = latentTotals.reduce((s, v) => s + v, 0)
  const perLatent = R.map((row, latent) => {
    const t = latentTotals[latent] as number
    let d = 0
    if (t > 0) d = K === 1 ? 1 : Math.max(0, 1 - normalizedEntropy(row, t, K))
    return { latent, disentanglement: d, weight: total > 0 ? t / total : 0 }
  })
  const perFactor: number[] = []
  const counted: number[] = []
  for (let f = 0; f < K; f++) {
    const col = R.map((row) => row[f] as number)
    const t = col.reduce((s, v) => s + v, 0)
    if (t > 0) {
      perFactor.push(J === 1 ? 1 : Math.max(0, 1 - normalizedEntropy(col, t, J)))
      counted.push(f)
    } else perFactor.push(0)
  }
  return {
    disentanglement: perLatent.reduce((s, l) => s + l.weight * l.disentanglement, 0),
    completeness: mean(counted.map((f) => perFactor[f] as number)),
    perLatent,
    perFactor,
  }
}

function meanWhere(values: readonly number[], include: readonly boolean[]): number {
  return mean(values.filter((_, i) => include[i] === true))
}

interface ForestImportance {
  /** R[j][k]: per factor the forest's normalised MDI importances (summing to 1, or all 0). */
  importance: number[][]
  /** Held-out R^2 per factor. */
  informativeness: number[]
  rows: number
  testRows: number
}

/**
 * Fits one forest per factor on a seeded split of (a seeded subsample of) the rows and returns the
 * importance matrix and the held-out R^2. Constant factors get no forest: zero importances, and the R^2 of
 * predicting the constant (1).
 */
function forestImportance(
  codeColumns: readonly Float64Array[],
  factorColumns: readonly Float64Array[],
  informative: readonly boolean[],
  seed: number | string,
): ForestImportance {
  const n = (codeColumns[0] as Float64Array).length
  const used =
    n > DCI_MAX_ROWS
      ? sampleIndices(n, DCI_MAX_ROWS, createRng(seed, 'disentanglement:subsample'))
      : Array.from({ length: n }, (_, i) => i)
  const m = used.length
  const nTrain = Math.min(m - 1, Math.max(1, Math.round(DCI_TRAIN_FRACTION * m)))
  const order = permutation(m, createRng(seed, 'disentanglement:split'))
  const trainRows = Array.from(order.subarray(0, nTrain), (i) => used[i] as number)
  const testRows = Array.from(order.subarray(nTrain), (i) => used[i] as number)
  const pick = (c: Float64Array, rows: number[]): Float64Array =>
    Float64Array.from(rows, (i) => c[i] as number)
  const xTrain = codeColumns.map((c) => pick(c, trainRows))
  const xTest = codeColumns.map((c) => pick(c, testRows))
  // One presort per latent serves every tree of every factor: a node's rows are found by filtering it.
  const sorted = xTrain.map((c) =>
    Int32Array.from({ length: nTrain }, (_, i) => i).sort((a, b) => c[a]! - c[b]!),
  )
  const keys = xTrain.map(columnKey)

  const importance = codeColumns.map(() => new Array<number>(factorColumns.length).fill(0))
  const informativeness = factorColumns.map((c, f) => {
    const yTrain = pick(c, trainRows)
    const yTest = pick(c, testRows)
    if (informative[f] !== true) return rSquared(yTest, new Float64Array(yTest.length).fill(mean(yTrain)))
    const rng = createRng(seed, `disentanglement:forest:${f}`)
    const fit = fitForest(xTrain, yTrain, sorted, keys, xTest, rng)
    fit.importance.forEach((v, j) => ((importance[j] as number[])[f] = v))
    return rSquared(yTest, fit.predictions)
  })
  return { importance, informativeness, rows: m, testRows: m - nTrain }
}

/** A 32-bit finaliser (MurmurHash3's fmix32): every input bit moves every output bit. */
function mix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** A hash of a column's values (FNV-1a over its bits): who a latent is, independent of where it stands. */
function columnKey(values: Float64Array): number {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2)
  let h = 2166136261
  for (const w of words) h = Math.imul(h ^ w, 16777619)
  return mix32(h >>> 0)
}

/** The best split found so far for every open node of a level, and the running sums of the current scan. */
interface SplitSearch {
  gain: Float64Array
  feature: Int32Array
  threshold: Float64Array
  leftW: Float64Array
  leftSum: Float64Array
  previous: Float64Array
}

/**
 * One pass over latent f's live rows in sorted order, trying the threshold between every two consecutive
 * distinct values of every open node. Kept small and separate so V8 optimises it early: it is the hot loop.
 */
function scanLatent(
  f: number,
  rows: Int32Array,
  values: Float64Array,
  live: number,
  slot: Int32Array,
  weight: Float64Array,
  deviation: Float64Array,
  sumW: Float64Array,
  priority: Float64Array,
  p: number,
  search: SplitSearch,
): void {
  const { gain: bestGain, feature: bestFeature, threshold, leftW, leftSum, previous } = search
  leftW.fill(0)
  leftSum.fill(0)
  for (let idx = 0; idx < live; idx++) {
    const r = rows[idx] as number
    const s = slot[r] as number
    if (s < 0) continue
    const v = values[idx] as number
    const wl = leftW[s] as number
    if (wl > 0 && v > (previous[s] as number)) {
      // SSE(parent) - SSE(left) - SSE(right) = W c^2 / (W_l W_r), c the left sum of y - parent mean.
      const W = sumW[s] as number
      const c = leftSum[s] as number
      const gain = (W * c * c) / (wl * (W - wl))
      const best = bestGain[s] as number
      const tol = 1e-9 * best
      const bf = bestFeature[s] as number
      if (
        gain > best + tol ||
        (gain >= best - tol && bf >= 0 && bf !== f && priority[s * p + f]! < priority[s * p + bf]!)
      ) {
        bestGain[s] = gain
        bestFeature[s] = f
        const prev = previous[s] as number
        const mid = prev + (v - prev) / 2
        threshold[s] = mid < v ? mid : prev
      }
    }
    leftW[s] = wl + (weight[r] as number)
    leftSum[s] = (leftSum[s] as number) + (deviation[r] as number)
    previous[s] = v
  }
}

/** A regression tree in flat arrays; a leaf has left = -1. */
interface RegressionTree {
  feature: number[]
  threshold: number[]
  left: number[]
  right: number[]
  value: number[]
}

function predictTree(tree: RegressionTree, columns: readonly Float64Array[], i: number): number {
  let node = 0
  while ((tree.left[node] as number) >= 0) {
    const x = (columns[tree.feature[node] as number] as Float64Array)[i] as number
    node = (x <= (tree.threshold[node] as number) ? tree.left[node] : tree.right[node]) as number
  }
  return tree.value[node] as number
}

/**
 * A bagged forest (scikit-learn's RandomForestRegressor with max_features = 1.0, its regression default):
 * every tree sees a bootstrap of the training rows and tries every latent at every split. Importances are
 * scikit-learn's: each tree's impurity decreases normalised to sum 1, averaged over the trees that split,
 * normalised again.
 */
function fitForest(
  xTrain: readonly Float64Array[],
  yTrain: Float64Array,
  sorted: readonly Int32Array[],
  keys: readonly number[],
  xTest: readonly Float64Array[],
  rng: Rng,
): { importance: number[]; predictions: Float64Array } {
  const n = yTrain.length
  const p = xTrain.length
  // Centring keeps the sums of squares in the split search free of cancellation on offset factors.
  const offset = mean(yTrain)
  const y = Float64Array.from(yTrain, (v) => v - offset)
  const summed = new Float64Array(p)
  const predictions = new Float64Array((xTest[0] as Float64Array).length)
  const weight = new Float64Array(n)
  for (let t = 0; t < DCI_TREES; t++) {
    weight.fill(0)
    for (let i = 0; i < n; i++) {
      const r = randomInt(n, rng)
      weight[r] = (weight[r] as number) + 1
    }
    const treeImportance = new Float64Array(p)
    const tree = growTree(xTrain, y, sorted, keys, weight, rng, treeImportance)
    let total = 0
    for (const v of treeImportance) total += v
    if (total > 0)
      for (let j = 0; j < p; j++) summed[j] = (summed[j] as number) + (treeImportance[j] as number) / total
    for (let i = 0; i < predictions.length; i++)
      predictions[i] = (predictions[i] as number) + predictTree(tree, xTest, i)
  }
  let total = 0
  for (const v of summed) total += v
  for (let i = 0; i < predictions.length; i++)
    predictions[i] = (predictions[i] as number) / DCI_TREES + offset
  return { importance: Array.from(summed, (v) => (total > 0 ? v / total : 0)), predictions }
}

/**
 * Grows one least-squares regression tree, level by level to {@link DCI_MAX_DEPTH}, on the rows with
 * positive bootstrap weight, adding each split's weighted decrease of the sum of squared errors to
 * `importance[feature]`. Each level is one pass over every latent's presorted rows, evaluating the candidate
 * thresholds of all open nodes at once (midpoints between consecutive distinct values).
 *
 * Near-equal gains of different latents are common (two latents that cut a small node's rows the same way,
 * or copies of one latent). They are settled by a random priority per node and latent, drawn from a hash of
 * the latent's values rather than its position, so the forest does not depend on the order of the latents;
 * exact copies, which hash alike, fall back to a draw per position, so they share the splits (and the
 * importance) instead of the first copy taking all of it.
 */
function growTree(
  columns: readonly Float64Array[],
  y: Float64Array,
  sorted: readonly Int32Array[],
  keys: readonly number[],
  weight: Float64Array,
  rng: Rng,
  importance: Float64Array,
): RegressionTree {
  const n = y.length
  const p = columns.length
  const tree: RegressionTree = { feature: [], threshold: [], left: [], right: [], value: [] }
  const addNode = (): number => {
    tree.feature.push(-1)
    tree.threshold.push(0)
    tree.left.push(-1)
    tree.right.push(-1)
    tree.value.push(0)
    return tree.value.length - 1
  }
  // slot[r]: the row's node among the open nodes of the current level, -1 when out of bag or in a leaf.
  const slot = new Int32Array(n)
  for (let r = 0; r < n; r++) slot[r] = (weight[r] as number) > 0 ? 0 : -1
  // Per latent, the rows in sorted order and their values; the first `live` entries hold every row still in
  // play (and maybe some that are not, slot -1). The scans read the values in order.
  const rowsOf = sorted.map((o) => o.slice())
  const valuesOf = columns.map((x, f) => {
    const o = sorted[f] as Int32Array
    const values = new Float64Array(n)
    for (let idx = 0; idx < n; idx++) values[idx] = x[o[idx] as number] as number
    return values
  })
  let live = n
  let frontier = [addNode()]
  for (let depth = 0; frontier.length > 0; depth++) {
    const F = frontier.length
    const sumW = new Float64Array(F)
    const sumY = new Float64Array(F)
    for (let r = 0; r < n; r++) {
      const s = slot[r] as number
      if (s < 0) continue
      const w = weight[r] as number
      sumW[s] = (sumW[s] as number) + w
      sumY[s] = (sumY[s] as number) + w * (y[r] as number)
    }
    const means = sumY.map((v, s) => v / (sumW[s] as number))
    frontier.forEach((node, s) => (tree.value[node] = means[s] as number))
    if (depth === DCI_MAX_DEPTH) break

    const sse = new Float64Array(F)
    const scale = new Float64Array(F)
    for (let r = 0; r < n; r++) {
      const s = slot[r] as number
      if (s < 0) continue
      const w = weight[r] as number
      const yr = y[r] as number
      sse[s] = (sse[s] as number) + w * (yr - (means[s] as number)) ** 2
      scale[s] = (scale[s] as number) + w * yr * yr
    }
    const scanned = new Int32Array(F)
    for (let s = 0; s < F; s++) {
      // A pure node's SSE, and the gains inside it, are rounding: splitting on them would invent importance.
      scanned[s] = (sse[s] as number) > 1e-20 * (scale[s] as number) ? 1 : 0
    }
    let inPlay = 0
    for (let r = 0; r < n; r++) {
      const s = slot[r] as number
      if (s < 0) continue
      if (scanned[s] === 0) slot[r] = -1
      else inPlay++
    }
    // Compacting costs a pass per latent, as much as a scan: worth it only when many rows have dropped out
    // (the out-of-bag rows at the root, pure leaves later).
    if (inPlay < 0.75 * live) {
      for (let f = 0; f < p; f++) {
        const rows = rowsOf[f] as Int32Array
        const values = valuesOf[f] as Float64Array
        const x = columns[f] as Float64Array
        let kept = 0
        for (let idx = 0; idx < live; idx++) {
          const r = rows[idx] as number
          if ((slot[r] as number) < 0) continue
          rows[kept] = r
          values[kept] = x[r] as number
          kept++
        }
      }
      live = inPlay
    }
    // An integer part from the latent's key and the node's salt, a fraction that only separates copies.
    const priority = new Float64Array(F * p)
    for (let s = 0; s < F; s++) {
      const salt = Math.floor(rng() * 4294967296)
      for (let f = 0; f < p; f++) priority[s * p + f] = mix32((keys[f] as number) ^ salt) + rng()
    }
    // Each row's weighted deviation from its node's mean: the left sums of the scan add these up.
    const deviation = new Float64Array(n)
    for (let r = 0; r < n; r++) {
      const s = slot[r] as number
      if (s >= 0) deviation[r] = (weight[r] as number) * ((y[r] as number) - (means[s] as number))
    }
    const search: SplitSearch = {
      gain: new Float64Array(F),
      feature: new Int32Array(F).fill(-1),
      threshold: new Float64Array(F),
      leftW: new Float64Array(F),
      leftSum: new Float64Array(F),
      previous: new Float64Array(F),
    }
    for (let f = 0; f < p; f++) {
      scanLatent(
        f,
        rowsOf[f] as Int32Array,
        valuesOf[f] as Float64Array,
        live,
        slot,
        weight,
        deviation,
        sumW,
        priority,
        p,
        search,
      )
    }
    const bestGain = search.gain
    const bestFeature = search.feature
    const bestThreshold = search.threshold

    const leftSlot = new Int32Array(F).fill(-1)
    const next: number[] = []
    frontier.forEach((node, s) => {
      const f = bestFeature[s] as number
      const gain = bestGain[s] as number
      if (f < 0 || scanned[s] === 0 || gain <= 1e-12 * (sse[s] as number)) return
      tree.feature[node] = f
      tree.threshold[node] = bestThreshold[s] as number
      const left = addNode()
      const right = addNode()
      tree.left[node] = left
      tree.right[node] = right
      leftSlot[s] = next.length
      next.push(left, right)
      importance[f] = (importance[f] as number) + gain
    })
    for (let r = 0; r < n; r++) {
      const s = slot[r] as number
      if (s < 0) continue
      const ls = leftSlot[s] as number
      if (ls < 0) {
        slot[r] = -1
        continue
      }
      const node = frontier[s] as number
      const x = (columns[tree.feature[node] as number] as Float64Array)[r] as number
      slot[r] = x <= (tree.threshold[node] as number) ? ls : ls + 1
    }
    frontier = next
  }
  return tree
}
