/**
 * Result types of the explanation library and the model abstraction it explains.
 *
 * The result interfaces map one to one onto the GraphQL types of the same names (nullable GraphQL fields are
 * `T | null`), so a resolver can return them without reshaping.
 */

/** The explanation methods, named exactly like the GraphQL enum `ExplanationMethod`. */
export enum ExplanationMethod {
  LINEAR_SURROGATE = 'LINEAR_SURROGATE',
  SURROGATE_NETWORK = 'SURROGATE_NETWORK',
  PERMUTATION_IMPORTANCE = 'PERMUTATION_IMPORTANCE',
  INTEGRATED_GRADIENTS = 'INTEGRATED_GRADIENTS',
  SHAPLEY = 'SHAPLEY',
  PARTIAL_DEPENDENCE = 'PARTIAL_DEPENDENCE',
  // Generative models (VAE): see src/models/vae/explain.ts.
  LATENT_TRAVERSAL = 'LATENT_TRAVERSAL',
  LATENT_SENSITIVITY = 'LATENT_SENSITIVITY',
  GENERATOR_SURROGATE = 'GENERATOR_SURROGATE',
  ENCODER_ATTRIBUTION = 'ENCODER_ATTRIBUTION',
  ACTIVE_UNITS = 'ACTIVE_UNITS',
  DISENTANGLEMENT = 'DISENTANGLEMENT',
  SAMPLE_FIDELITY = 'SAMPLE_FIDELITY',
  // Text generators (SEQUENCE): see src/models/sequence/explain.ts.
  DISTANCE_PROFILE = 'DISTANCE_PROFILE',
  NEXT_CHARACTER_SURROGATE = 'NEXT_CHARACTER_SURROGATE',
  GENERATED_SAMPLES = 'GENERATED_SAMPLES',
}

/** What a next-character surrogate of a text generator is (GraphQL `NextCharacterSurrogateKind`). */
export enum NextCharacterSurrogateKind {
  SOFTMAX_LINEAR = 'SOFTMAX_LINEAR',
  NGRAM = 'NGRAM',
}

/** Every supervised method, in the canonical order used for `Explanation.methods`. */
export const ALL_METHODS: readonly ExplanationMethod[] = Object.freeze([
  ExplanationMethod.LINEAR_SURROGATE,
  ExplanationMethod.SURROGATE_NETWORK,
  ExplanationMethod.PERMUTATION_IMPORTANCE,
  ExplanationMethod.INTEGRATED_GRADIENTS,
  ExplanationMethod.SHAPLEY,
  ExplanationMethod.PARTIAL_DEPENDENCE,
])

/** The learning task; same names as the Prisma/GraphQL `Task` enum. */
export type Task = 'REGRESSION' | 'BINARY_CLASSIFICATION'

/**
 * The explained output of the model for each row: the prediction for regression, the logit for binary
 * classification. Must be deterministic and must not keep references to `rows` after returning.
 */
export type BatchPredict = (rows: readonly Float64Array[]) => Float64Array

/** d output / d input for each row (same output as {@link BatchPredict}); one array of length M per row. */
export type BatchGradient = (rows: readonly Float64Array[]) => Float64Array[]

/** Loss of predictions against targets (lower is better), e.g. mean squared error or log-loss on logits. */
export type LossFunction = (targets: ArrayLike<number>, predictions: ArrayLike<number>) => number

/** A coefficient of the linear surrogate; GraphQL `FeatureWeight`. */
export interface FeatureWeight {
  feature: string
  weight: number
  /** weight * sd(feature) (population sd of the rows the surrogate was fitted on). */
  standardizedWeight: number
}

/** GraphQL `LinearSurrogate`. */
export interface LinearSurrogate {
  intercept: number
  coefficients: FeatureWeight[]
  /** 1 - SSE/SST of the surrogate against the model's outputs; negative when worse than a constant. */
  fidelityR2: number
}

/** GraphQL `SurrogateNetwork`. */
export interface SurrogateNetwork {
  hiddenLayers: number[]
  /** R^2 of the surrogate network against the model's outputs on held-out rows. */
  fidelityR2: number
  /** Classification only: share of held-out rows where both logits have the same sign (same class). */
  agreement: number | null
  /** Epochs trained (early stopping); absent in explanations stored before it. */
  epochs?: number | null
}

/** GraphQL `FeatureImportance`. */
export interface FeatureImportance {
  method: ExplanationMethod
  feature: string
  importance: number
  /** Spread of the importance where the method has one (permutation importance: std over repeats). */
  std: number | null
}

/** GraphQL `PartialDependence`. */
export interface PartialDependence {
  feature: string
  grid: number[]
  values: number[]
}

/** GraphQL `MethodCheck`: completeness (IG) or efficiency (Shapley) gaps over the explained rows. */
export interface MethodCheck {
  method: ExplanationMethod
  maxGap: number
  meanGap: number
  /**
   * Largest standard error of one attribution over the rows: sampled Shapley's estimate; 0 when computed
   * exactly; null (or absent, in explanations stored before it existed) when the method has none.
   */
  maxStdError?: number | null
  /** Integrated Gradients: gradient points per row; sampled Shapley: permutations per row (largest, mean). */
  maxSteps?: number | null
  meanSteps?: number | null
}

/** GraphQL `Explanation`. */
export interface Explanation {
  methods: ExplanationMethod[]
  linearSurrogate: LinearSurrogate | null
  surrogateNetwork: SurrogateNetwork | null
  featureImportance: FeatureImportance[]
  partialDependence: PartialDependence[]
  checks: MethodCheck[]
  computeMs: number
}

/** GraphQL `Attribution`. */
export interface Attribution {
  method: ExplanationMethod
  feature: string
  value: number
}

/** GraphQL `InstanceExplanation`. */
export interface InstanceExplanation {
  prediction: number
  baselinePrediction: number
  attributions: Attribution[]
  checks: MethodCheck[]
}

/** What one method cost: wall time and model evaluations (forward rows plus gradient rows). */
export interface MethodCost {
  ms: number
  evaluations: number
}

/** Cost per computed method; stored as the `cost` JSON column of an explanation. */
export type MethodCosts = Partial<Record<ExplanationMethod, MethodCost>>
