/**
 * The vocabulary of the training core: what to train ({@link TrainSpec}), on what ({@link TrainData}), and the
 * one error type the core throws ({@link TrainingError}). Nothing here touches TensorFlow.js, so the API and the
 * CLI can validate a request without loading it.
 */

/** What the network predicts: a probability of the positive class, or a real value. */
export type Task = 'BINARY_CLASSIFICATION' | 'REGRESSION'

/** Activation of every hidden layer. */
export type Activation = 'RELU' | 'TANH' | 'SIGMOID' | 'ELU'

/** Optimizer used for every weight. */
export type OptimizerName = 'ADAM' | 'SGD' | 'RMSPROP'

/** Hyperparameters of one training run. Same spec + same data + same backend => bit-identical losses. */
export interface TrainSpec {
  task: Task
  /** Units per hidden Dense layer, input side first. Empty means a linear / logistic model. */
  hiddenLayers: number[]
  activation: Activation
  /** Number of passes over the training rows; epochs are numbered from 1. */
  epochs: number
  batchSize: number
  learningRate: number
  optimizer: OptimizerName
  /** Fraction in [0, 1) of the rows held out for validation (and later for explanations). */
  validationSplit: number
  /** Seeds the split, the per-epoch shuffles and the weight initialisation. Any integer, 0 included. */
  seed: number
}

/** A numeric table. Features are row-major: the value of column c in row r is `features[r * featureCount + c]`. */
export interface TrainData {
  features: Float64Array
  /** One target per row: 0 or 1 for classification, any finite number for regression. */
  targets: Float64Array
  rowCount: number
  featureCount: number
}

/** Why a run could not train; lets the caller map failures to its own error codes without parsing messages. */
export type TrainingErrorCode = 'INVALID_SPEC' | 'INVALID_DATA' | 'NON_FINITE_LOSS'

/** The only error the training core throws on purpose. Anything else is a bug or a backend failure. */
export class TrainingError extends Error {
  override readonly name = 'TrainingError'

  constructor(
    message: string,
    readonly code: TrainingErrorCode,
    /** For `NON_FINITE_LOSS`: the epoch (from 1) whose loss was not finite. */
    readonly epoch?: number,
  ) {
    super(message)
  }
}

const TASKS: readonly Task[] = ['BINARY_CLASSIFICATION', 'REGRESSION']
const ACTIVATIONS: readonly Activation[] = ['RELU', 'TANH', 'SIGMOID', 'ELU']
const OPTIMIZERS: readonly OptimizerName[] = ['ADAM', 'SGD', 'RMSPROP']

/**
 * Throws a {@link TrainingError} (`INVALID_SPEC`) naming the first field that cannot be trained with.
 * The spec usually comes from a client, so every field is checked even though the type already says what it is.
 */
export function validateSpec(spec: TrainSpec): void {
  const fail = (message: string): never => {
    throw new TrainingError(`invalid training spec: ${message}`, 'INVALID_SPEC')
  }
  if (!TASKS.includes(spec.task)) fail(`unknown task ${String(spec.task)}`)
  if (!ACTIVATIONS.includes(spec.activation)) fail(`unknown activation ${String(spec.activation)}`)
  if (!OPTIMIZERS.includes(spec.optimizer)) fail(`unknown optimizer ${String(spec.optimizer)}`)
  if (!Array.isArray(spec.hiddenLayers)) fail('hiddenLayers must be an array')
  spec.hiddenLayers.forEach((units, i) => {
    if (!Number.isInteger(units) || units < 1)
      fail(`hiddenLayers[${i}] must be a positive integer, got ${units}`)
  })
  if (!Number.isInteger(spec.epochs) || spec.epochs < 1)
    fail(`epochs must be a positive integer, got ${spec.epochs}`)
  if (!Number.isInteger(spec.batchSize) || spec.batchSize < 1) {
    fail(`batchSize must be a positive integer, got ${spec.batchSize}`)
  }
  if (!Number.isFinite(spec.learningRate) || spec.learningRate <= 0) {
    fail(`learningRate must be a positive number, got ${spec.learningRate}`)
  }
  if (!Number.isFinite(spec.validationSplit) || spec.validationSplit < 0 || spec.validationSplit >= 1) {
    fail(`validationSplit must be in [0, 1), got ${spec.validationSplit}`)
  }
  if (!Number.isSafeInteger(spec.seed)) fail(`seed must be an integer, got ${spec.seed}`)
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
