import { EXPLAIN_DEFAULTS, explainModel } from '../../explain/explain-model'
import { createRng, sampleIndices } from '../../explain/random'
import type { ExplanationMethod } from '../../explain/types'
import type { DatasetContent } from '../../modules/dataset/dataset.content'
import type { ExplainSizes, FamilyExplanation } from '../family'
import type { Predictor } from './artifacts'
import type { TrainResult } from './train'

/** Training rows kept with the explanation as the Shapley background of instance explanations. */
const INSTANCE_BACKGROUND_ROWS = 32

/** The rows an MLP's worker explanation explains one by one, from the worker's sizes (bench/ asks the same). */
export function mlpSampleSizes(sizes: ExplainSizes): { sampleSize: number; shapleySampleSize: number } {
  return {
    sampleSize: Math.min(EXPLAIN_DEFAULTS.igRows, sizes.sampleSize),
    shapleySampleSize: Math.min(EXPLAIN_DEFAULTS.shapleySampleSize, sizes.sampleSize),
  }
}

/**
 * The supervised explanations of a trained MLP on its held-out rows: the explained output is the logit for
 * classification and the prediction for regression. The stored result also keeps what `explainInstance` reuses
 * (the baseline and a seeded background of training rows).
 */
export async function explainMlp(
  predictor: Predictor,
  content: DatasetContent,
  result: TrainResult,
  methods: ExplanationMethod[],
  sizes: ExplainSizes,
  seed: number,
  signal?: AbortSignal,
): Promise<FamilyExplanation> {
  const m = content.featureNames.length
  const row = (i: number) => content.features.subarray(i * m, (i + 1) * m)
  const trainRows = result.trainIndices.map(row)
  // Explanations use the held-out rows; a run without a validation split has none, and falls back
  // to its training rows (its explanation then says how the model fits what it has seen).
  const evalIndices = result.holdoutIndices.length > 0 ? result.holdoutIndices : result.trainIndices
  const evalRows = evalIndices.map(row)
  const evalTargets = Float64Array.from(evalIndices, (i) => content.targets[i]!)
  const started = performance.now()
  const explained = await explainModel({
    predict: (rows) => predictor.logit(rows),
    gradient: (rows) => predictor.gradient(rows),
    featureNames: content.featureNames,
    task: predictor.task,
    trainRows,
    evalRows,
    evalTargets,
    methods,
    seed,
    maxEvalRows: sizes.maxEvalRows,
    ...mlpSampleSizes(sizes),
    ...(signal ? { signal } : {}),
  })
  const computeMs = performance.now() - started
  const rng = createRng(seed, 'instance-background')
  const background = sampleIndices(
    trainRows.length,
    Math.min(INSTANCE_BACKGROUND_ROWS, trainRows.length),
    rng,
  ).map((i) => Array.from(trainRows[i]!))
  const { cost, computeMs: _inner, ...rest } = explained
  return {
    methods: explained.methods,
    result: {
      ...rest,
      baseline: result.normalization.mean,
      background,
      evaluationRows: Math.min(evalRows.length, sizes.maxEvalRows),
    },
    computeMs,
    cost,
  }
}
