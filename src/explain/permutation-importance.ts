import { ExplainInputError, assertRowWidths } from './errors'
import { createRng, permutation } from './random'
import { mean, std } from './stats'
import { ExplanationMethod, type BatchPredict, type FeatureImportance, type LossFunction } from './types'

/** scikit-learn's default number of shuffles per feature. */
export const DEFAULT_PERMUTATION_REPEATS = 5

/** Options of {@link permutationImportance}. */
export interface PermutationImportanceOptions {
  predict: BatchPredict
  /** Held-out rows. */
  rows: readonly Float64Array[]
  /** The labels of `rows` (0/1 for classification). */
  targets: ArrayLike<number>
  featureNames: readonly string[]
  /** Loss of labels against the explained output, e.g. `meanSquaredError` or `logLossFromLogits`. */
  loss: LossFunction
  nRepeats?: number
  seed?: number | string
}

/** Result of {@link permutationImportance}. */
export interface PermutationImportanceResult {
  /** Loss on the unshuffled rows. */
  baselineLoss: number
  /** Per feature, in column order: mean loss increase over repeats and its std (ddof 0, as numpy). */
  importances: FeatureImportance[]
  /** Loss increase of every repeat, per feature: `increases[feature][repeat]`. */
  increases: number[][]
}

/**
 * scikit-learn's `permutation_importance`: the increase of the loss when one column of the held-out rows is
 * shuffled, repeated `nRepeats` times. As in scikit-learn every feature sees the same sequence of
 * permutations, so differences between features are not blurred by different shuffles.
 */
export function permutationImportance(options: PermutationImportanceOptions): PermutationImportanceResult {
  const { predict, rows, targets, featureNames, loss } = options
  const nRepeats = options.nRepeats ?? DEFAULT_PERMUTATION_REPEATS
  const width = featureNames.length
  const n = rows.length
  if (n === 0) throw new ExplainInputError('permutation importance needs rows')
  if (targets.length !== n) throw new ExplainInputError('targets and rows differ in length')
  if (!Number.isInteger(nRepeats) || nRepeats < 1) throw new ExplainInputError('nRepeats must be >= 1')
  assertRowWidths(rows, width, 'rows')

  const baselineLoss = loss(targets, predict(rows))
  const permutations: Int32Array[] = []
  for (let r = 0; r < nRepeats; r++)
    permutations.push(permutation(n, createRng(options.seed ?? 0, `pi:${r}`)))

  const increases: number[][] = []
  for (let j = 0; j < width; j++) {
    // All repeats of one feature go to the model together; the counter splits them into batches.
    const shuffled: Float64Array[] = []
    for (const perm of permutations) {
      for (let i = 0; i < n; i++) {
        const row = Float64Array.from(rows[i] as Float64Array)
        row[j] = (rows[perm[i] as number] as Float64Array)[j] as number
        shuffled.push(row)
      }
    }
    const outputs = predict(shuffled)
    const perFeature: number[] = []
    for (let r = 0; r < nRepeats; r++) {
      perFeature.push(loss(targets, outputs.subarray(r * n, (r + 1) * n)) - baselineLoss)
    }
    increases.push(perFeature)
  }
  return {
    baselineLoss,
    increases,
    importances: featureNames.map((feature, j) => ({
      method: ExplanationMethod.PERMUTATION_IMPORTANCE,
      feature,
      importance: mean(increases[j] as number[]),
      std: std(increases[j] as number[]),
    })),
  }
}
