/**
 * What the MLP family trains ({@link TrainSpec}) and on what ({@link TrainData}). Nothing here touches
 * TensorFlow.js, so the API and the CLI can validate a request without loading it.
 */
import { TrainingError, validateCommonSpec } from '../common/spec'
import type { CommonSpec } from '../common/spec'

export type { Activation, OptimizerName, TrainingErrorCode } from '../common/spec'
export { TrainingError } from '../common/spec'

/** What the network predicts: a probability of the positive class, or a real value. */
export type Task = 'BINARY_CLASSIFICATION' | 'REGRESSION'

/** Hyperparameters of one MLP run: the shared ones and the task. Empty hiddenLayers: a linear / logistic model. */
export interface TrainSpec extends CommonSpec {
  task: Task
}

/** A numeric table. Features are row-major: the value of column c in row r is `features[r * featureCount + c]`. */
export interface TrainData {
  features: Float64Array
  /** One target per row: 0 or 1 for classification, any finite number for regression. */
  targets: Float64Array
  rowCount: number
  featureCount: number
}

const TASKS: readonly Task[] = ['BINARY_CLASSIFICATION', 'REGRESSION']

/**
 * Throws a {@link TrainingError} (`INVALID_SPEC`) naming the first field that cannot be trained with.
 * The spec usually comes from a client, so every field is checked even though the type already says what it is.
 */
export function validateSpec(spec: TrainSpec): void {
  const fail = (message: string): never => {
    throw new TrainingError(`invalid training spec: ${message}`, 'INVALID_SPEC')
  }
  if (!TASKS.includes(spec.task)) fail(`unknown task ${String(spec.task)}`)
  validateCommonSpec(spec)
}

/**
 * Throws a {@link TrainingError} (`INVALID_DATA`) when the table is malformed or holds a value that would only
 * surface later as a confusing NaN loss (a non-finite feature, a class label other than 0/1).
 */
export function validateData(data: TrainData, task: Task): void {
  const fail = (message: string): never => {
    throw new TrainingError(`invalid training data: ${message}`, 'INVALID_DATA')
  }
  const { features, targets, rowCount, featureCount } = data
  if (!Number.isInteger(rowCount) || rowCount < 2) fail(`need at least 2 rows, got ${rowCount}`)
  if (!Number.isInteger(featureCount) || featureCount < 1)
    fail(`need at least 1 feature, got ${featureCount}`)
  if (features.length !== rowCount * featureCount) {
    fail(
      `features has ${features.length} values, expected rowCount * featureCount = ${rowCount * featureCount}`,
    )
  }
  if (targets.length !== rowCount) fail(`targets has ${targets.length} values, expected ${rowCount}`)
  for (let i = 0; i < features.length; i++) {
    const v = features[i] as number
    if (!Number.isFinite(v)) {
      fail(`feature ${i % featureCount} of row ${Math.floor(i / featureCount)} is ${v}`)
    }
  }
  for (let r = 0; r < rowCount; r++) {
    const t = targets[r] as number
    if (task === 'BINARY_CLASSIFICATION' ? t !== 0 && t !== 1 : !Number.isFinite(t)) {
      fail(`target of row ${r} is ${t}${task === 'BINARY_CLASSIFICATION' ? ', expected 0 or 1' : ''}`)
    }
  }
}
