/**
 * The explanation library: pure functions over a model given as batch functions (see `BatchPredict`,
 * `BatchGradient`). Only the surrogate network touches tfjs, on whatever backend the caller selected.
 */
export * from './types'
export { ExplainInputError } from './errors'
export { EvaluationCounter, DEFAULT_MAX_BATCH_ROWS } from './model'
export { createRng, type Rng } from './random'
export { meanSquaredError, logLossFromLogits, rSquared, quantiles } from './stats'
export { leastSquares, type LeastSquaresSolution } from './linalg'
export {
  fitLinearSurrogate,
  ordinaryLeastSquares,
  type LinearSurrogateOptions,
  type OlsFit,
} from './linear-surrogate'
export {
  permutationImportance,
  DEFAULT_PERMUTATION_REPEATS,
  type PermutationImportanceOptions,
  type PermutationImportanceResult,
} from './permutation-importance'
export { gaussLegendre, unitIntervalRule, type IntegrationRule, type QuadratureRule } from './quadrature'
export {
  integratedGradients,
  DEFAULT_IG_STEPS,
  type IntegratedGradientsOptions,
  type IntegratedGradientsResult,
} from './integrated-gradients'
export { shapleyValues, DEFAULT_EXACT_MAX_FEATURES, type ShapleyOptions, type ShapleyResult } from './shapley'
export {
  partialDependence,
  partialDependenceGrid,
  DEFAULT_GRID_RESOLUTION,
  DEFAULT_PERCENTILES,
  type PartialDependenceOptions,
} from './partial-dependence'
export {
  fitSurrogateNetwork,
  DEFAULT_SURROGATE_HIDDEN,
  DEFAULT_SURROGATE_EPOCHS,
  DEFAULT_SURROGATE_BATCH_SIZE,
  DEFAULT_SURROGATE_LEARNING_RATE,
  type SurrogateNetworkOptions,
} from './surrogate-network'
export {
  explainModel,
  selectBackground,
  EXPLAIN_DEFAULTS,
  type ExplainModelOptions,
  type ExplainModelResult,
  type SurrogateNetworkSettings,
} from './explain-model'
export {
  explainInstance,
  DEFAULT_INSTANCE_BACKGROUND_SIZE,
  type ExplainInstanceOptions,
  type InstanceMethod,
} from './explain-instance'
// Generative models (VAE): latents, disentanglement, sample fidelity.
export {
  activeUnits,
  decoderIntegratedGradients,
  decoderSensitivity,
  encoderAttribution,
  generatorSurrogate,
  latentTraversals,
  type Decode,
  type DecoderJacobian,
  type Encode,
  type EncoderJacobian,
} from './latent'
export { principalAngles } from './subspace'
export { disentanglement, dciFromImportance, type DisentanglementResult } from './disentanglement'
export { sampleFidelity, type SampleFidelity } from './sample-fidelity'
