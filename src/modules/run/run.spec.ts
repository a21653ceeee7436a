/** Hyperparameter enums shared by the API, the store and the trainer (no GraphQL here). */
export enum Activation {
  RELU = 'RELU',
  TANH = 'TANH',
  SIGMOID = 'SIGMOID',
  ELU = 'ELU',
}

export enum Optimizer {
  ADAM = 'ADAM',
  SGD = 'SGD',
  RMSPROP = 'RMSPROP',
}

export const DEFAULTS = {
  experiment: 'default',
  hiddenLayers: [128, 64, 32, 16],
  activation: Activation.RELU,
  epochs: 10,
  batchSize: 32,
  learningRate: 0.001,
  optimizer: Optimizer.ADAM,
  validationSplit: 0.2,
} as const

export const LIMITS = {
  minEpochs: 1,
  maxEpochs: 10_000,
  maxLayers: 16,
  minUnits: 1,
  maxUnits: 4096,
  maxTags: 50,
  maxTagLength: 100,
  maxNameLength: 200,
} as const
