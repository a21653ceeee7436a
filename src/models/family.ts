/**
 * The seam between the generic platform (queue, trainer process, lifecycle, events, store, sweeps, API) and a
 * model family (src/models/<family>/). The platform knows families only through {@link Family}; a family knows
 * nothing of the queue, the database or GraphQL. Adding a family is one folder and one line in registry.ts.
 */
import type { PositionScorer, StepScorers } from '../explain/token-attribution'
import type { MethodCosts } from '../explain/types'
import type { ExplanationMethod } from '../explain/types'
import type { DatasetContent } from '../modules/dataset/dataset.content'
import type { CommonSpec } from './common/spec'
import type { DatasetKind } from '../modules/dataset/dataset.enums'
import type { Likelihood, ModelFamily, SequenceArchitecture } from './family.enums'

/** Rows the predictor accepts: `number[][]` or `Float64Array[]`, each of `featureCount` raw feature values. */
export type Rows = ReadonlyArray<ArrayLike<number>>

/**
 * A trained model behind synchronous calls on raw rows, the shape the explanation library expects. Holds tensors:
 * call {@link Predictor.dispose} when done.
 */
export interface Predictor {
  /** The supervised task (the MLP's), named like the GraphQL `Task`. */
  readonly task: 'BINARY_CLASSIFICATION' | 'REGRESSION'
  readonly featureCount: number
  /** Probability of class 1 for classification, the predicted value for regression. */
  predict(rows: Rows): Float64Array
  /** The network's raw output: the pre-sigmoid logit for classification, the prediction for regression. */
  logit(rows: Rows): Float64Array
  /** d logit / d x for each row, with respect to the raw feature values (the standardisation is accounted for). */
  gradient(rows: Rows): Float64Array[]
  dispose(): void
}

/** One named value of one epoch (GraphQL `MetricValue`). */
export interface MetricValue {
  name: string
  value: number
}

/** What a family reports after each epoch. `loss` is always among the metrics. */
export interface EpochReport {
  /** From 1. */
  epoch: number
  /** Wall time of the epoch's training and validation. */
  durationMs: number
  /** Every metric of the epoch, in the family's order; all finite. */
  metrics: MetricValue[]
}

/** The hyperparameters of a run as stored; the family-specific ones are null for families without them. */
export interface RunSpec extends CommonSpec {
  family: ModelFamily
  latentDim: number | null
  beta: number | null
  likelihood: Likelihood | null
  architecture: SequenceArchitecture | null
  contextLength: number | null
}

/** The family-specific hyperparameters (null for families without them). */
export const FAMILY_FIELDS = ['latentDim', 'beta', 'likelihood', 'architecture', 'contextLength'] as const
export type FamilyField = (typeof FAMILY_FIELDS)[number]

/** The family-specific part of a run request, as a client sent it. */
export interface FamilyArgs {
  latentDim?: number | null | undefined
  beta?: number | null | undefined
  likelihood?: Likelihood | null | undefined
  architecture?: SequenceArchitecture | null | undefined
  contextLength?: number | null | undefined
}

/** What a family may know of a dataset before training on it (no rows). */
export interface DatasetShape {
  task: string
  /**
   * The width of one input: the features of a table; for a TEXT dataset the one-hot width of one character
   * (its vocabulary and the unknown symbol).
   */
  featureCount: number
  /** Rows of a table; characters of a TEXT corpus. */
  rowCount: number
  factorNames: string[]
  imageShape: number[] | null
  featureStats: { min: number; max: number }[]
}

/** A trained model as the TrainedModel row holds it; the family decides what goes in each part. */
export interface StoredModel {
  topology: unknown
  weightSpecs: unknown
  weights: Uint8Array
  normalization: unknown
  parameterCount: number
}

/** Sizes of the explanation work, from the operator's configuration. */
export interface ExplainSizes {
  maxEvalRows: number
  sampleSize: number
}

/** An explanation as a family computed it, ready for the Explanation row. */
export interface FamilyExplanation {
  methods: ExplanationMethod[]
  /** The typed result (the `result` JSON column): the fields of GraphQL `Explanation` this family fills. */
  result: Record<string, unknown>
  computeMs: number
  cost: MethodCosts
}

/**
 * Where a training stood at the end of an epoch: enough to continue it exactly as if it had never stopped (every
 * network's weights, the optimizer's moments and step counters). The family makes it and reads it back; the
 * platform stores it as it is (src/models/common/checkpoint.ts builds one from networks and an optimizer).
 */
export interface Checkpoint {
  /** The last completed epoch (from 1). */
  epoch: number
  /** Family-defined JSON besides the tensors (format version, tensor roles, anything the loop needs). */
  meta: Record<string, unknown>
  /** tf.io weight manifest of `weights`. */
  weightSpecs: unknown
  /** The tensors, as tf.io.encodeWeights lays them out. */
  weights: Uint8Array
}

/** Serialises the training state as of the end of the epoch just reported; valid while onEpoch runs. */
export type TakeCheckpoint = () => Promise<Checkpoint>

/** Called by {@link Family.train}; the next epoch starts only once onEpoch has settled. */
export interface TrainHooks {
  /**
   * Return 'stop' to end training after this epoch; the result then says `cancelled: true`. `checkpoint` is how
   * the platform takes a checkpoint when its policy says so (most epochs it is not called: it reads every tensor).
   */
  onEpoch(report: EpochReport, checkpoint: TakeCheckpoint): Promise<void | 'stop'> | void | 'stop'
}

export interface TrainInput {
  content: DatasetContent
  spec: RunSpec
  hooks: TrainHooks
  /** Aborting stops at the next batch. */
  signal?: AbortSignal
  /**
   * Continue from this checkpoint (one this family made for the same spec and dataset): training starts at
   * `resume.epoch + 1` and reports only the epochs after it. A checkpoint that does not fit (corrupt, another
   * format, other shapes) makes train reject with a `CheckpointError` (src/models/common/checkpoint.ts) before any epoch.
   */
  resume?: Checkpoint
}

/** A finished training: the model still in memory (for the explanation), and its stored form. */
export interface TrainedRun {
  history: EpochReport[]
  /** True when onEpoch returned 'stop' or the signal aborted. */
  cancelled: boolean
  /** The TensorFlow.js backend that ran the computation. */
  backend: string
  samplesPerSecond: number
  model: StoredModel
  /**
   * The state at the end of the last epoch this call completed, for a later attempt to continue from (a
   * hand-back, or a retry should this process die while explaining); null when it completed none.
   */
  checkpoint(): Promise<Checkpoint | null>
  /**
   * Explains the trained model with the given methods (all of them apply to this family). Aborting `signal`
   * stops it between steps (methods, surrogate epochs) with the signal's reason.
   */
  explain(methods: ExplanationMethod[], sizes: ExplainSizes, signal?: AbortSignal): Promise<FamilyExplanation>
  dispose(): void
}

/** A latent code: the posterior's mean and log-variance (GraphQL `LatentCode`). */
export interface LatentCode {
  mean: number[]
  logVar: number[]
}

/** Per-instance attribution of decoded outputs to latents (GraphQL `LatentExplanation`). */
export interface LatentExplanationResult {
  latent: number[]
  baseline: number[]
  outputs: number[]
  baselineOutputs: number[]
  attributions: { latent: number; feature: string; value: number }[]
  /** Completeness gap per output: |sum_k IG_jk - (g_j(z) - g_j(z'))|. */
  gaps: { feature: string; gap: number }[]
  maxGap: number
  steps: number
}

/** What can be asked of a trained generative model; rows and outputs in the dataset's own units. */
export interface GenerativeModel {
  readonly latentDim: number
  readonly featureCount: number
  sample(n: number, seed: number, temperature: number): number[][]
  encode(rows: number[][]): LatentCode[]
  decode(latents: number[][]): number[][]
  reconstruct(rows: number[][]): number[][]
  explainLatent(latent: number[], baseline: number[], featureNames: string[]): LatentExplanationResult
}

/**
 * A trained next-character model: the distribution of the next symbol after each of a batch of contexts.
 * Symbols are indices into `vocabulary`, and `vocabulary.length` is the unknown symbol.
 */
export interface TextModel {
  readonly vocabulary: readonly string[]
  readonly contextLength: number
  /** One row of `vocabulary.length + 1` probabilities per context (each at most contextLength symbols long). */
  nextDistributions(contexts: readonly (readonly number[])[]): Float64Array[]
}

/** A next-character model whose scores can be attributed to context positions. */
export interface AttributableTextModel extends TextModel {
  /**
   * log p(target | context) as a function of masks over the context's positions (1 to contextLength symbols):
   * what the token attribution methods explain (src/explain/token-attribution.ts).
   */
  positionScorer(context: readonly number[], target: number): PositionScorer
  /**
   * The position scorers of many steps behind one model call per batch of masks (a model whose cost is per
   * call); without it, each step's positionScorer is called on its own.
   */
  positionScorers?(steps: readonly ScoredStep[]): StepScorers
}

/** The score of one step: log p(target | context). */
export interface ScoredStep {
  context: readonly number[]
  target: number
}

/**
 * A trained model loaded for queries. Capabilities, not a family switch: `predict` needs a predictor,
 * `sample`/`encode`/`decode` need a generator, `generate` needs a text model.
 */
export interface LoadedModel {
  readonly featureCount: number
  readonly predictor?: Predictor
  readonly generator?: GenerativeModel
  readonly text?: AttributableTextModel
  dispose(): void
}

/** How much work one epoch is, for the LAB_MAX_TRAINING_STEPS check. */
export interface TrainingWork {
  /** Training examples per epoch. */
  examples: number
  /** Cost of one example relative to a Dense step (the timesteps of a recurrent network). */
  stepsPerBatch: number
}

/** A model family. Everything the platform asks of one. */
export interface Family {
  readonly name: ModelFamily
  /** The kind of dataset this family trains on; the API refuses the others. */
  readonly datasetKind: DatasetKind
  /**
   * Checks the family's part of a request against the dataset and fills in its defaults (throws AppError).
   * Returns the family's own fields only; a field it does not return is refused when given, and stored null.
   */
  prepare(args: FamilyArgs, dataset: DatasetShape): Partial<Pick<RunSpec, FamilyField>>
  /**
   * Weights and biases of the network(s) a spec builds on inputs `featureCount` wide (see DatasetShape),
   * computed from the spec alone so the API can refuse an oversized network before anything is queued.
   */
  parameterCount(
    spec: Pick<RunSpec, 'hiddenLayers' | 'latentDim'> &
      Partial<Pick<RunSpec, 'architecture' | 'contextLength'>>,
    featureCount: number,
  ): number
  /** hiddenLayers when a request gives none (default: the platform's [128, 64, 32, 16]). */
  defaultHiddenLayers?(args: FamilyArgs): number[]
  /** Examples per epoch and their cost, when not one per row of the training split. */
  trainingWork?(
    spec: Pick<RunSpec, 'validationSplit' | 'seed' | FamilyField>,
    dataset: DatasetShape,
  ): TrainingWork
  /** Names of the metrics each epoch reports, in order (what sweeps and filters may use). */
  metricNames(spec: Pick<RunSpec, 'latentDim' | 'validationSplit'>): string[]
  /** Explanation methods that apply to this family on this dataset; also the default. */
  explanationMethods(dataset: Pick<DatasetShape, 'factorNames'>): ExplanationMethod[]
  train(input: TrainInput): Promise<TrainedRun>
  load(stored: StoredModel): Promise<LoadedModel>
}
