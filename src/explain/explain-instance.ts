import { ExplainInputError, assertRowWidths } from './errors'
import { selectBackground } from './explain-model'
import { DEFAULT_IG_STEPS, integratedGradients } from './integrated-gradients'
import { fitLinearSurrogate } from './linear-surrogate'
import { DEFAULT_MAX_BATCH_ROWS } from './model'
import type { IntegrationRule } from './quadrature'
import { createRng, sampleRows } from './random'
import { DEFAULT_EXACT_MAX_FEATURES, shapleyValues } from './shapley'
import { columnMeans } from './stats'
import {
  ExplanationMethod,
  type Attribution,
  type BatchGradient,
  type BatchPredict,
  type InstanceExplanation,
  type LinearSurrogate,
  type MethodCheck,
} from './types'

/**
 * Background rows for one instance: a single row is cheap (1,022 coalitions x 32 = 33k model rows at 10
 * features), and drawn with the same seed it contains the 20-row background of the global explanation.
 */
export const DEFAULT_INSTANCE_BACKGROUND_SIZE = 32

/** Rows a linear surrogate is fitted on when none is passed in. */
const INSTANCE_SURROGATE_ROWS = 1000

/** The methods that attribute one prediction to features. */
export type InstanceMethod =
  ExplanationMethod.INTEGRATED_GRADIENTS | ExplanationMethod.SHAPLEY | ExplanationMethod.LINEAR_SURROGATE

const INSTANCE_METHODS: readonly InstanceMethod[] = [
  ExplanationMethod.LINEAR_SURROGATE,
  ExplanationMethod.INTEGRATED_GRADIENTS,
  ExplanationMethod.SHAPLEY,
]

/** Options of {@link explainInstance}. */
export interface ExplainInstanceOptions {
  predict: BatchPredict
  /** Required for INTEGRATED_GRADIENTS. */
  gradient?: BatchGradient
  featureNames: readonly string[]
  /** The row explained. */
  row: Float64Array
  /**
   * Default: INTEGRATED_GRADIENTS when a gradient is given, SHAPLEY, and LINEAR_SURROGATE when a surrogate or
   * training rows are given.
   */
  methods?: readonly ExplanationMethod[]
  /**
   * Reference point x' of IG and the linear surrogate; default the training mean (else the background mean).
   * When given and `background` is not, Shapley values are taken against this single point too.
   */
  baseline?: Float64Array
  /** Training rows: default baseline, Shapley background sample, and linear surrogate fit. */
  trainRows?: readonly Float64Array[]
  /** Explicit Shapley background. */
  background?: readonly Float64Array[]
  backgroundSize?: number
  /** The global explanation's surrogate, so instance attributions use the same coefficients. */
  linearSurrogate?: LinearSurrogate
  igSteps?: number
  igRule?: IntegrationRule
  exactShapleyMaxFeatures?: number
  kernelShapSamples?: number
  seed?: number | string
  maxBatchRows?: number
}

/**
 * Attributes one prediction to the features: Integrated Gradients from the baseline, Shapley values against
 * the background, and the linear surrogate's b_i (x_i - x'_i). Attributions are listed per method in the
 * order LINEAR_SURROGATE, INTEGRATED_GRADIENTS, SHAPLEY and per feature in column order. `baselinePrediction`
 * is f(x'); IG and the linear terms sum to (nearly) f(x) - f(x'), Shapley values to f(x) - E_bg[f], which
 * equals f(x) - f(x') only for a single-row background at x' or a linear model.
 */
export function explainInstance(options: ExplainInstanceOptions): InstanceExplanation {
  const { predict, featureNames, row, trainRows } = options
  const width = featureNames.length
  const seed = options.seed ?? 0
  assertRowWidths([row], width, 'row')
  if (trainRows !== undefined) assertRowWidths(trainRows, width, 'trainRows')
  if (options.background !== undefined) assertRowWidths(options.background, width, 'background')

  const canFitSurrogate = options.linearSurrogate !== undefined || (trainRows?.length ?? 0) >= 2
  const requested = options.methods ?? [
    ...(options.gradient === undefined ? [] : [ExplanationMethod.INTEGRATED_GRADIENTS]),
    ExplanationMethod.SHAPLEY,
    ...(canFitSurrogate ? [ExplanationMethod.LINEAR_SURROGATE] : []),
  ]
  for (const m of requested) {
    if (!(INSTANCE_METHODS as readonly ExplanationMethod[]).includes(m)) {
      throw new ExplainInputError(`${m} does not explain single predictions`)
    }
  }
  const methods = INSTANCE_METHODS.filter((m) => requested.includes(m))
  if (methods.includes(ExplanationMethod.INTEGRATED_GRADIENTS) && options.gradient === undefined) {
    throw new ExplainInputError('INTEGRATED_GRADIENTS needs the model gradient')
  }
  if (methods.includes(ExplanationMethod.LINEAR_SURROGATE) && !canFitSurrogate) {
    throw new ExplainInputError('LINEAR_SURROGATE needs a fitted surrogate or training rows')
  }

  const baseline = resolveBaseline(options, width)
  assertRowWidths([baseline], width, 'baseline')

  const maxBatchRows = options.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS
  const ends = predict([row, baseline])
  const prediction = ends[0] as number
  const baselinePrediction = ends[1] as number
  const attributions: Attribution[] = []
  const checks: MethodCheck[] = []
  const push = (method: ExplanationMethod, values: ArrayLike<number>): void => {
    featureNames.forEach((feature, j) => attributions.push({ method, feature, value: values[j] as number }))
  }

  for (const method of methods) {
    if (method === ExplanationMethod.LINEAR_SURROGATE) {
      const surrogate =
        options.linearSurrogate ??
        fitLinearSurrogate({
          predict,
          rows: sampleRows(trainRows ?? [], INSTANCE_SURROGATE_ROWS, createRng(seed, 'instance-surrogate')),
          featureNames,
        })
      const weights = new Map(surrogate.coefficients.map((c) => [c.feature, c.weight]))
      push(
        method,
        featureNames.map((feature, j) => {
          const w = weights.get(feature)
          if (w === undefined) throw new ExplainInputError(`the linear surrogate has no feature ${feature}`)
          return w * ((row[j] as number) - (baseline[j] as number))
        }),
      )
    } else if (method === ExplanationMethod.INTEGRATED_GRADIENTS) {
      const gradient = options.gradient as BatchGradient
      const result = integratedGradients({
        predict,
        gradient,
        rows: [row],
        baseline,
        steps: options.igSteps,
        rule: options.igRule,
        maxBatchRows,
      })
      push(method, result.attributions[0] as Float64Array)
      const gap = result.gaps[0] as number
      checks.push({ method, maxGap: gap, meanGap: gap })
    } else {
      const background =
        options.background ??
        (options.baseline !== undefined
          ? [options.baseline]
          : selectBackground(
              trainRows ?? [],
              options.backgroundSize ?? DEFAULT_INSTANCE_BACKGROUND_SIZE,
              seed,
            ))
      if (background.length === 0) throw new ExplainInputError('SHAPLEY needs a background or training rows')
      const result = shapleyValues({
        predict,
        rows: [row],
        background,
        exactMaxFeatures: options.exactShapleyMaxFeatures,
        nSamples: options.kernelShapSamples,
        seed,
        maxBatchRows,
      })
      push(method, result.values[0] as Float64Array)
      const gap = result.gaps[0] as number
      checks.push({ method, maxGap: gap, meanGap: gap })
    }
  }
  return { prediction, baselinePrediction, attributions, checks }
}

/** The explicit baseline, else the training mean, else the background mean. */
function resolveBaseline(options: ExplainInstanceOptions, width: number): Float64Array {
  if (options.baseline !== undefined) return options.baseline
  if (options.trainRows !== undefined && options.trainRows.length > 0) {
    return columnMeans(options.trainRows, width)
  }
  if (options.background !== undefined && options.background.length > 0) {
    return columnMeans(options.background, width)
  }
  throw new ExplainInputError('a baseline, training rows or a background is needed')
}

/** What {@link instanceEvaluations} counts from. */
export interface InstanceWork {
  methods: readonly ExplanationMethod[]
  featureCount: number
  /** Shapley background rows (1 for an explicit baseline). */
  backgroundSize: number
  /** LINEAR_SURROGATE reuses a fitted surrogate (no evaluations) rather than fitting one. */
  surrogateFitted: boolean
  igSteps?: number
  kernelShapSamples?: number
  exactShapleyMaxFeatures?: number
}

/**
 * Model evaluations (forward rows plus gradient rows) that {@link explainInstance} will send for this work,
 * computed before any of it runs: the two end points, IG's path (steps gradient rows, the row and the
 * baseline), Shapley's background and its coalitions times the background (all 2^M - 2 when exact, else
 * KernelSHAP's samples), and a surrogate fit when none is reused. An upper bound where KernelSHAP drops
 * features equal to every background value.
 */
export function instanceEvaluations(work: InstanceWork): number {
  const m = work.featureCount
  const k = work.backgroundSize
  let total = 2
  for (const method of work.methods) {
    if (method === ExplanationMethod.INTEGRATED_GRADIENTS) {
      total += (work.igSteps ?? DEFAULT_IG_STEPS) + 2
    } else if (method === ExplanationMethod.SHAPLEY) {
      const all = m <= 52 ? 2 ** m - 2 : Number.MAX_SAFE_INTEGER
      const coalitions =
        m <= (work.exactShapleyMaxFeatures ?? DEFAULT_EXACT_MAX_FEATURES)
          ? all
          : Math.min(work.kernelShapSamples ?? 2 * m + 2048, all)
      total += k + 1 + Math.max(0, coalitions) * k
    } else if (method === ExplanationMethod.LINEAR_SURROGATE && !work.surrogateFitted) {
      total += INSTANCE_SURROGATE_ROWS
    }
  }
  return total
}
