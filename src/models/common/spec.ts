/**
 * The training vocabulary shared by every family: hyperparameter names and the one error type training throws
 * on purpose. Nothing here touches TensorFlow.js.
 */

/** Activation of every hidden layer. */
export type Activation = 'RELU' | 'TANH' | 'SIGMOID' | 'ELU'

/** Optimizer used for every weight. */
export type OptimizerName = 'ADAM' | 'SGD' | 'RMSPROP'

export const ACTIVATIONS: readonly Activation[] = ['RELU', 'TANH', 'SIGMOID', 'ELU']
export const OPTIMIZERS: readonly OptimizerName[] = ['ADAM', 'SGD', 'RMSPROP']

/** The hyperparameters every family trains with. Same spec + same data + same backend => bit-identical losses. */
export interface CommonSpec {
  /** Units per hidden Dense layer, input side first (a VAE's encoder; its decoder mirrors them). */
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

/** Why a run could not train; lets the caller map failures to its own error codes without parsing messages. */
export type TrainingErrorCode = 'INVALID_SPEC' | 'INVALID_DATA' | 'NON_FINITE_LOSS'

/** The only error the training code throws on purpose. Anything else is a bug or a backend failure. */
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

/** Keras's activation names for ours. */
export const TF_ACTIVATIONS: Record<Activation, 'relu' | 'tanh' | 'sigmoid' | 'elu'> = {
  RELU: 'relu',
  TANH: 'tanh',
  SIGMOID: 'sigmoid',
  ELU: 'elu',
}

/** Throws INVALID_SPEC unless every shared hyperparameter can be trained with. */
export function validateCommonSpec(spec: CommonSpec): void {
  const fail = (message: string): never => {
    throw new TrainingError(`invalid training spec: ${message}`, 'INVALID_SPEC')
  }
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

/** Weights and biases of a chain of Dense layers of these widths (input first): sum of (in + 1) x out. */
export function denseParameters(widths: readonly number[]): number {
  let total = 0
  for (let i = 1; i < widths.length; i++) total += (widths[i - 1]! + 1) * widths[i]!
  return total
}
