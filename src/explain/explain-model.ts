import { ExplainInputError, assertRowWidths } from './errors'
import { integratedGradients, type AdaptivePath } from './integrated-gradients'
import { fitLinearSurrogate } from './linear-surrogate'
import { DEFAULT_MAX_BATCH_ROWS, EvaluationCounter } from './model'
import { partialDependence, DEFAULT_GRID_RESOLUTION } from './partial-dependence'
import { permutationImportance, DEFAULT_PERMUTATION_REPEATS } from './permutation-importance'
import type { IntegrationRule } from './quadrature'
import { createRng, sampleIndices, sampleRows } from './random'
import { DEFAULT_EXACT_MAX_FEATURES, shapleyValues, type PermutationSampling } from './shapley'
import { columnMeans, logLossFromLogits, meanSquaredError } from './stats'
import { DEFAULT_SURROGATE_HIDDEN, fitSurrogateNetwork } from './surrogate-network'
import {
  ALL_METHODS,
  ExplanationMethod,
  type BatchGradient,
  type BatchPredict,
  type Explanation,
  type FeatureImportance,
  type LinearSurrogate,
  type LossFunction,
  type MethodCheck,
  type MethodCosts,
  type PartialDependence,
  type SurrogateNetwork,
  type Task,
} from './types'

/**
 * Default sizes and tolerances. Shapley values are sampled (stratified antithetic permutations) until their
 * standard error is small rather than enumerated: exact enumeration on 10 features costs 50 rows x 1,022
 * coalitions x 20 background rows = 1.02 M model rows, more than training the reference network; the sampled
 * estimate stops at a standard error of 2 % of the model's spread (or after 8 rounds), which it reports. Integrated Gradients
 * refines its path until a bound on the completeness gap is within 1 % of |f(x) - f(x')| (the gaps reached are
 * far smaller: the panels' errors partly cancel). Figures: bench/explanations.ts
 * and bench/README.md; the cost and the error reached are recorded with every explanation.
 */
export const EXPLAIN_DEFAULTS = Object.freeze({
  /** Held-out rows used (a seeded sample when there are more): permutation importance, PD, linear surrogate. */
  maxEvalRows: 1000,
  /**
   * The generative families' cap on rows they explain one by one (the VAE's sensitivity and encoder rows, the
   * text profile's windows); for an MLP, the most rows Integrated Gradients may explain (see `igRows`).
   */
  sampleSize: 200,
  /**
   * Rows a trained MLP's Integrated Gradients explain (as many gradient rows each as the adaptive path needs):
   * 100, as the global importance is a mean over rows and the adaptive path costs ~4x the old fixed rule.
   */
  igRows: 100,
  /** Held-out rows each partial-dependence curve averages over (a seeded sample: grid x rows model rows). */
  partialDependenceRows: 200,
  /** Rows explained by Shapley values: a prefix of the IG sample, so both rank over the same rows. */
  shapleySampleSize: 50,
  /** Training rows used as the Shapley background (E[f] and the values of absent features). */
  backgroundSize: 20,
  /** Model rows Shapley may use; above it the Shapley sample shrinks (exact at 12 features: 13 rows). */
  maxShapleyEvaluations: 1_100_000,
  /** Sampled Shapley: aimed standard error per value, relative to the sd of f over the background. */
  shapleyTolerance: 0.02,
  /** Sampled Shapley: rounds of one antithetic pair per background row (2 at least, for the error). */
  shapleyMinRounds: 2,
  shapleyMaxRounds: 8,
  /** Integrated Gradients: aimed bound on the completeness gap relative to |f(x) - f(x')| (see igSteps). */
  igTolerance: 0.01,
  igMaxSteps: 1024,
  /** Training rows the surrogate network learns from. */
  maxSurrogateTrainRows: 2000,
  /** Features with a partial dependence curve; above it the most important ones. */
  maxPartialDependenceFeatures: 20,
})

/** Options of the surrogate network inside {@link explainModel}. */
export interface SurrogateNetworkSettings {
  hiddenLayers?: readonly number[]
  epochs?: number
  batchSize?: number
  learningRate?: number
  patience?: number
  minGain?: number
  maxTrainRows?: number
}

/** Options of {@link explainModel}. */
export interface ExplainModelOptions {
  /** The explained output per row: prediction for regression, logit for binary classification. */
  predict: BatchPredict
  /** d output / d input; required for INTEGRATED_GRADIENTS. */
  gradient?: BatchGradient
  featureNames: readonly string[]
  task: Task
  /** Training rows: their mean is the IG baseline and a seeded sample is the Shapley background. */
  trainRows: readonly Float64Array[]
  /** Held-out rows. */
  evalRows: readonly Float64Array[]
  /** Labels of `evalRows` (0/1 for classification), for permutation importance. */
  evalTargets: ArrayLike<number>
  /** Default: all six. */
  methods?: readonly ExplanationMethod[]
  seed?: number | string
  maxEvalRows?: number
  sampleSize?: number
  shapleySampleSize?: number
  backgroundSize?: number
  maxShapleyEvaluations?: number
  exactShapleyMaxFeatures?: number
  /**
   * Shapley by exact enumeration up to `exactShapleyMaxFeatures` features and KernelSHAP above, instead of the
   * default sampled permutations (`shapleyTolerance`, `shapleyMaxRounds`).
   */
  exactShapley?: boolean
  shapleyTolerance?: number
  shapleyMaxRounds?: number
  /** KernelSHAP coalitions per row (above `exactShapleyMaxFeatures`); default 2M + 2048. */
  kernelShapSamples?: number
  /** A fixed IG rule (`igSteps` points of `igRule`); when neither is given, the adaptive path. */
  igSteps?: number
  igRule?: IntegrationRule
  igTolerance?: number
  igMaxSteps?: number
  permutationRepeats?: number
  /** Loss for permutation importance; default MSE for regression, log-loss on logits for classification. */
  loss?: LossFunction
  gridResolution?: number
  maxPartialDependenceFeatures?: number
  /** Rows each curve averages over; default {@link EXPLAIN_DEFAULTS.partialDependenceRows}. */
  partialDependenceRows?: number
  surrogateNetwork?: SurrogateNetworkSettings
  /** Largest batch passed to `predict`/`gradient`. */
  maxBatchRows?: number
  /** Checked between methods and surrogate epochs. */
  signal?: AbortSignal
  /** Called when a method starts and when it is done. */
  onProgress?: (event: { method: ExplanationMethod; done: boolean }) => void
}

/** An {@link Explanation} plus what each method cost, for the `cost` column. */
export interface ExplainModelResult extends Explanation {
  cost: MethodCosts
}

/** Priority of the global rankings used to choose partial dependence features when there are too many. */
const RANKING_PRIORITY: readonly ExplanationMethod[] = [
  ExplanationMethod.SHAPLEY,
  ExplanationMethod.INTEGRATED_GRADIENTS,
  ExplanationMethod.PERMUTATION_IMPORTANCE,
  ExplanationMethod.LINEAR_SURROGATE,
]

/**
 * The seeded background: the first `size` rows of a seeded permutation of the training rows, so a larger
 * background drawn with the same seed contains a smaller one.
 */
export function selectBackground(
  trainRows: readonly Float64Array[],
  size: number,
  seed: number | string,
): Float64Array[] {
  return sampleRows(trainRows, size, createRng(seed, 'background'))
}

/**
 * Explains a trained model globally with the requested methods (default all six). Every method runs on
 * the same seeded samples, is timed and its model evaluations counted. Global importances: permutation
 * importance (mean loss increase, with std over repeats), mean |IG|, mean |phi|, and |standardized weight|
 * of the linear surrogate; listed per method in canonical order, most important first. Partial dependence
 * is computed for every feature in column order, or for the `maxPartialDependenceFeatures` most important
 * ones (by Shapley, else IG, else permutation, else the linear surrogate, else the first columns).
 */
export async function explainModel(options: ExplainModelOptions): Promise<ExplainModelResult> {
  const started = performance.now()
  const { featureNames, task, trainRows } = options
  const width = featureNames.length
  const seed = options.seed ?? 0
  const requested = new Set(options.methods ?? ALL_METHODS)
  const methods = ALL_METHODS.filter((m) => requested.has(m))
  validate(options, methods)

  const maxBatchRows = options.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS
  const maxEvalRows = options.maxEvalRows ?? EXPLAIN_DEFAULTS.maxEvalRows
  const evalIndex =
    options.evalRows.length > maxEvalRows
      ? sampleIndices(options.evalRows.length, maxEvalRows, createRng(seed, 'eval-rows')).sort(
          (a, b) => a - b,
        )
      : options.evalRows.map((_, i) => i)
  const evalRows = evalIndex.map((i) => options.evalRows[i] as Float64Array)
  const evalTargets = Float64Array.from(evalIndex, (i) => options.evalTargets[i] as number)
  // A prefix of one seeded order of the held-out rows, so the Shapley rows are among the IG rows.
  const sampleOrder = sampleIndices(evalRows.length, evalRows.length, createRng(seed, 'explained-rows'))
  const baseline = columnMeans(trainRows, width)
  const background = selectBackground(
    trainRows,
    options.backgroundSize ?? EXPLAIN_DEFAULTS.backgroundSize,
    seed,
  )

  const cost: MethodCosts = {}
  const checks: MethodCheck[] = []
  const globalImportance = new Map<ExplanationMethod, FeatureImportance[]>()
  let linearSurrogate: LinearSurrogate | null = null
  let surrogateNetwork: SurrogateNetwork | null = null
  let partial: PartialDependence[] = []

  const run = async <T>(method: ExplanationMethod, body: (model: EvaluationCounter) => Promise<T> | T) => {
    options.signal?.throwIfAborted()
    // Let cancellation and other events in between methods that each block for a while.
    await new Promise<void>((resolve) => setImmediate(resolve))
    options.onProgress?.({ method, done: false })
    const model = new EvaluationCounter(options.predict, options.gradient, maxBatchRows)
    const t0 = performance.now()
    const result = await body(model)
    cost[method] = { ms: performance.now() - t0, evaluations: model.evaluations }
    options.onProgress?.({ method, done: true })
    return result
  }
  // Attribution-based importances have no repeat-to-repeat spread, hence std null.
  const importanceOf = (method: ExplanationMethod, values: number[]): void => {
    globalImportance.set(
      method,
      featureNames.map((feature, j) => ({ method, feature, importance: values[j] as number, std: null })),
    )
  }
  const checkOf = (
    method: ExplanationMethod,
    gaps: Float64Array,
    reached: { steps: Int32Array | null; stdErrors: Float64Array | null },
  ): void => {
    checks.push({
      method,
      maxGap: maxOf(gaps),
      meanGap: meanOf(gaps),
      maxStdError: reached.stdErrors ? maxOf(reached.stdErrors) : null,
      maxSteps: reached.steps ? maxOf(reached.steps) : null,
      meanSteps: reached.steps ? meanOf(reached.steps) : null,
    })
  }

  for (const method of methods) {
    switch (method) {
      case ExplanationMethod.LINEAR_SURROGATE: {
        linearSurrogate = await run(method, (model) =>
          fitLinearSurrogate({ predict: model.predict, rows: evalRows, featureNames }),
        )
        importanceOf(
          method,
          linearSurrogate.coefficients.map((c) => Math.abs(c.standardizedWeight)),
        )
        break
      }
      case ExplanationMethod.SURROGATE_NETWORK: {
        const settings = options.surrogateNetwork ?? {}
        const maxTrain = settings.maxTrainRows ?? EXPLAIN_DEFAULTS.maxSurrogateTrainRows
        const surrogateTrain = sampleRows(trainRows, maxTrain, createRng(seed, 'surrogate-rows'))
        surrogateNetwork = await run(method, (model) =>
          fitSurrogateNetwork({
            predict: model.predict,
            trainRows: surrogateTrain,
            testRows: evalRows,
            task,
            hiddenLayers: settings.hiddenLayers ?? DEFAULT_SURROGATE_HIDDEN,
            epochs: settings.epochs,
            batchSize: settings.batchSize,
            learningRate: settings.learningRate,
            patience: settings.patience,
            minGain: settings.minGain,
            signal: options.signal,
            seed,
          }),
        )
        break
      }
      case ExplanationMethod.PERMUTATION_IMPORTANCE: {
        const result = await run(method, (model) =>
          permutationImportance({
            predict: model.predict,
            rows: evalRows,
            targets: evalTargets,
            featureNames,
            loss: options.loss ?? (task === 'REGRESSION' ? meanSquaredError : logLossFromLogits),
            nRepeats: options.permutationRepeats ?? DEFAULT_PERMUTATION_REPEATS,
            seed,
          }),
        )
        globalImportance.set(method, result.importances)
        break
      }
      case ExplanationMethod.INTEGRATED_GRADIENTS: {
        const rows = sampleOrder
          .slice(0, options.sampleSize ?? EXPLAIN_DEFAULTS.sampleSize)
          .map((i) => evalRows[i] as Float64Array)
        const result = await run(method, (model) =>
          integratedGradients({
            predict: model.predict,
            gradient: model.gradient,
            rows,
            baseline,
            maxBatchRows,
            steps: options.igSteps,
            rule: options.igRule,
            adaptive: igAdaptive(options),
          }),
        )
        importanceOf(method, meanAbsolute(result.attributions, width))
        checkOf(method, result.gaps, { steps: result.steps, stdErrors: null })
        break
      }
      case ExplanationMethod.SHAPLEY: {
        const exactMax = options.exactShapleyMaxFeatures ?? DEFAULT_EXACT_MAX_FEATURES
        const sampling = shapleySampling(options)
        const coalitions =
          sampling !== undefined
            ? 2 * sampling.maxRounds * Math.max(1, width - 1)
            : width <= exactMax
              ? 2 ** width - 2
              : Math.min(2 ** width - 2, options.kernelShapSamples ?? 2 * width + 2048)
        const perRow = Math.max(1, coalitions * background.length)
        const budgetRows = Math.floor(
          (options.maxShapleyEvaluations ?? EXPLAIN_DEFAULTS.maxShapleyEvaluations) / perRow,
        )
        const count = Math.max(
          1,
          Math.min(options.shapleySampleSize ?? EXPLAIN_DEFAULTS.shapleySampleSize, budgetRows),
        )
        const rows = sampleOrder.slice(0, count).map((i) => evalRows[i] as Float64Array)
        const result = await run(method, (model) =>
          shapleyValues({
            predict: model.predict,
            rows,
            background,
            exactMaxFeatures: exactMax,
            seed,
            maxBatchRows,
            nSamples: options.kernelShapSamples,
            ...(sampling ? { sampling } : {}),
          }),
        )
        importanceOf(method, meanAbsolute(result.values, width))
        checkOf(method, result.gaps, { steps: result.permutations, stdErrors: result.stdErrors })
        break
      }
      case ExplanationMethod.PARTIAL_DEPENDENCE: {
        const features = partialDependenceFeatures(
          width,
          options.maxPartialDependenceFeatures ?? EXPLAIN_DEFAULTS.maxPartialDependenceFeatures,
          globalImportance,
        )
        // The same seeded order as the IG and Shapley rows: its first rows.
        const pdRows = sampleOrder
          .slice(0, options.partialDependenceRows ?? EXPLAIN_DEFAULTS.partialDependenceRows)
          .map((i) => evalRows[i] as Float64Array)
        partial = await run(method, (model) =>
          features.map((j) =>
            partialDependence({
              predict: model.predict,
              rows: pdRows,
              featureIndex: j,
              featureName: featureNames[j] as string,
              gridResolution: options.gridResolution ?? DEFAULT_GRID_RESOLUTION,
            }),
          ),
        )
        break
      }
      default:
        // ALL_METHODS holds only the supervised methods; the generative ones are the VAE family's.
        throw new ExplainInputError(`${method} is not a method of a supervised model`)
    }
  }

  const featureImportance: FeatureImportance[] = []
  for (const method of ALL_METHODS) {
    const list = globalImportance.get(method)
    if (list !== undefined) featureImportance.push(...sortByImportance(list))
  }
  return {
    methods,
    linearSurrogate,
    surrogateNetwork,
    featureImportance,
    partialDependence: partial,
    checks,
    computeMs: performance.now() - started,
    cost,
  }
}

function maxOf(values: ArrayLike<number>): number {
  let max = 0
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i] as number)
  return max
}

function meanOf(values: ArrayLike<number>): number {
  let sum = 0
  for (let i = 0; i < values.length; i++) sum += values[i] as number
  return values.length > 0 ? sum / values.length : 0
}

/** The adaptive IG path unless a fixed rule was asked for. */
function igAdaptive(options: ExplainModelOptions): AdaptivePath | undefined {
  if (options.igSteps !== undefined || options.igRule !== undefined) return undefined
  return {
    tolerance: options.igTolerance ?? EXPLAIN_DEFAULTS.igTolerance,
    maxSteps: options.igMaxSteps ?? EXPLAIN_DEFAULTS.igMaxSteps,
  }
}

/** Sampled permutations unless exact enumeration (or KernelSHAP) was asked for. */
function shapleySampling(options: ExplainModelOptions): PermutationSampling | undefined {
  if (options.exactShapley === true) return undefined
  const maxRounds = options.shapleyMaxRounds ?? EXPLAIN_DEFAULTS.shapleyMaxRounds
  return {
    tolerance: options.shapleyTolerance ?? EXPLAIN_DEFAULTS.shapleyTolerance,
    minRounds: Math.min(EXPLAIN_DEFAULTS.shapleyMinRounds, maxRounds),
    maxRounds,
  }
}

function validate(options: ExplainModelOptions, methods: readonly ExplanationMethod[]): void {
  const width = options.featureNames.length
  if (width === 0) throw new ExplainInputError('no features')
  if (new Set(options.featureNames).size !== width) {
    throw new ExplainInputError('feature names must be unique')
  }
  if (options.trainRows.length === 0) throw new ExplainInputError('no training rows')
  if (options.evalRows.length < 2) throw new ExplainInputError('at least 2 held-out rows are needed')
  assertRowWidths(options.trainRows, width, 'trainRows')
  assertRowWidths(options.evalRows, width, 'evalRows')
  if (options.evalTargets.length !== options.evalRows.length) {
    throw new ExplainInputError('evalTargets and evalRows differ in length')
  }
  if (methods.length === 0) throw new ExplainInputError('no explanation method requested')
  if (methods.includes(ExplanationMethod.INTEGRATED_GRADIENTS) && options.gradient === undefined) {
    throw new ExplainInputError('INTEGRATED_GRADIENTS needs the model gradient')
  }
  const positive: [string, number | undefined][] = [
    ['maxEvalRows', options.maxEvalRows],
    ['sampleSize', options.sampleSize],
    ['shapleySampleSize', options.shapleySampleSize],
    ['backgroundSize', options.backgroundSize],
    ['igSteps', options.igSteps],
    ['igMaxSteps', options.igMaxSteps],
    ['shapleyMaxRounds', options.shapleyMaxRounds],
    ['permutationRepeats', options.permutationRepeats],
    ['gridResolution', options.gridResolution],
    ['maxPartialDependenceFeatures', options.maxPartialDependenceFeatures],
    ['partialDependenceRows', options.partialDependenceRows],
    ['maxBatchRows', options.maxBatchRows],
  ]
  for (const [name, value] of positive) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new ExplainInputError(`${name} must be a positive integer, got ${value}`)
    }
  }
}

/** Mean |attribution| per feature over rows. */
export function meanAbsolute(attributions: readonly Float64Array[], width: number): number[] {
  const out = new Array<number>(width).fill(0)
  for (const a of attributions)
    for (let j = 0; j < width; j++) out[j] = (out[j] as number) + Math.abs(a[j] as number)
  return attributions.length === 0 ? out : out.map((v) => v / attributions.length)
}

/** Most important first; ties keep column order (Array.prototype.sort is stable). */
function sortByImportance(list: readonly FeatureImportance[]): FeatureImportance[] {
  return [...list].sort((a, b) => b.importance - a.importance)
}

function partialDependenceFeatures(
  width: number,
  max: number,
  rankings: ReadonlyMap<ExplanationMethod, FeatureImportance[]>,
): number[] {
  const all = Array.from({ length: width }, (_, j) => j)
  if (width <= max) return all
  const ranking = RANKING_PRIORITY.map((m) => rankings.get(m)).find((r) => r !== undefined)
  if (ranking === undefined) return all.slice(0, max)
  const chosen = all
    .map((j) => ({ j, importance: (ranking[j] as FeatureImportance).importance }))
    .sort((a, b) => b.importance - a.importance)
    .slice(0, max)
    .map((c) => c.j)
  return chosen.sort((a, b) => a - b)
}
