/**
 * The slice of the GraphQL API the CLI speaks, as its own small typed documents. The CLI is a client:
 * it must not import the server's type-graphql classes (or Prisma), so the shapes are restated here
 * and checked against the real server by test/integration/cli.test.ts.
 */

/** A GraphQL operation whose result and variables types travel with its source text. */
export interface Document<TData, TVariables> {
  readonly source: string
  /** Never set: only carries the types. */
  readonly _types?: { data: TData; variables: TVariables }
}

const doc = <TData, TVariables = Record<string, never>>(source: string): Document<TData, TVariables> => ({
  source,
})

export const RUN_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]
export type SweepStatus = 'RUNNING' | 'FINISHED' | 'CANCELLED' | 'FAILED'
export type Activation = 'ELU' | 'RELU' | 'SIGMOID' | 'TANH'
export type Optimizer = 'ADAM' | 'RMSPROP' | 'SGD'
export type Task = 'REGRESSION' | 'BINARY_CLASSIFICATION' | 'UNSUPERVISED'
export const MODEL_FAMILIES = ['MLP', 'VAE', 'SEQUENCE'] as const
export type ModelFamily = (typeof MODEL_FAMILIES)[number]
export const LIKELIHOODS = ['GAUSSIAN', 'BERNOULLI'] as const
export type Likelihood = (typeof LIKELIHOODS)[number]
export const SEQUENCE_ARCHITECTURES = ['RNN_GRU', 'WINDOW_MLP'] as const
export type SequenceArchitecture = (typeof SEQUENCE_ARCHITECTURES)[number]
/** Every method the API knows; the server checks which apply to a run's family and dataset. */
export const EXPLANATION_METHODS = [
  'INTEGRATED_GRADIENTS',
  'LINEAR_SURROGATE',
  'PARTIAL_DEPENDENCE',
  'PERMUTATION_IMPORTANCE',
  'SHAPLEY',
  'SURROGATE_NETWORK',
  'LATENT_TRAVERSAL',
  'LATENT_SENSITIVITY',
  'GENERATOR_SURROGATE',
  'ENCODER_ATTRIBUTION',
  'ACTIVE_UNITS',
  'DISENTANGLEMENT',
  'SAMPLE_FIDELITY',
  'DISTANCE_PROFILE',
  'NEXT_CHARACTER_SURROGATE',
  'GENERATED_SAMPLES',
] as const
export type ExplanationMethod = (typeof EXPLANATION_METHODS)[number]
export const RUN_ORDER_FIELDS = [
  'CREATED_AT',
  'STARTED_AT',
  'FINISHED_AT',
  'NAME',
  'STATUS',
  'FINAL_LOSS',
  'FINAL_VAL_LOSS',
  'BEST_VAL_LOSS',
  'BEST_EPOCH',
  'FINAL_ACCURACY',
  'FINAL_VAL_ACCURACY',
  'LAST_EPOCH',
  'LEARNING_RATE',
  'BATCH_SIZE',
  'EPOCHS',
  'SEED',
  'VALIDATION_SPLIT',
] as const
export type RunOrderField = (typeof RUN_ORDER_FIELDS)[number]

/** A JSON value, as the `JSON` scalar carries it. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json }

/** The tunable part of StartRunInput: what a sweep's `base` and its parameters may set. */
export interface RunSettings {
  /** Default MLP; not swept (a sweep's runs are of one family). */
  family?: ModelFamily
  epochs?: number
  hiddenLayers?: number[]
  activation?: Activation
  optimizer?: Optimizer
  learningRate?: number
  batchSize?: number
  validationSplit?: number
  seed?: number
  /** VAE only. */
  latentDim?: number
  /** VAE only. */
  beta?: number
  /** VAE only. */
  likelihood?: Likelihood
  /** SEQUENCE only. */
  architecture?: SequenceArchitecture
  /** SEQUENCE only. */
  contextLength?: number
  tags?: string[]
  explain?: ExplanationMethod[]
}

export interface StartRunInput extends RunSettings {
  datasetId: string
  experiment?: string
  name?: string
}

export type Distribution = 'UNIFORM' | 'LOG_UNIFORM' | 'INT_UNIFORM'

export interface SweepParameterInput {
  name: string
  values?: Json[]
  min?: number
  max?: number
  distribution?: Distribution
}

export interface SweepInput {
  experiment: string
  datasetId: string
  method: 'GRID' | 'RANDOM'
  parameters: SweepParameterInput[]
  base?: StartRunInput
  metric: string
  goal: 'MINIMIZE' | 'MAXIMIZE'
  runCap?: number
  maxConcurrent?: number
  seed?: number
  earlyTerminate?: { type: 'MEDIAN_STOP'; minEpochs?: number }
}

export interface PageInfo {
  hasNextPage: boolean
  endCursor: string | null
}

export interface Connection<T> {
  totalCount: number
  pageInfo: PageInfo
  edges: { node: T }[]
}

/** One named value: a metric of an epoch, or its final value. */
export interface MetricValue {
  name: string
  value: number
}

export interface RunSummary {
  /** Every named metric's final value (loss, valLoss, reconstruction, kl_0 ...), in the family's order. */
  metrics: MetricValue[]
  finalLoss: number | null
  finalValLoss: number | null
  bestValLoss: number | null
  bestEpoch: number | null
  finalAccuracy: number | null
  finalValAccuracy: number | null
}

/** What the CLI shows of a run: enough for the runs table and the sweep table. */
export interface RunView {
  id: string
  name: string
  status: RunStatus
  error: string | null
  epochs: number
  lastEpoch: number
  createdAt: string
  experiment: { name: string }
  tags: string[]
  family: ModelFamily
  learningRate: number
  batchSize: number
  hiddenLayers: number[]
  activation: Activation
  optimizer: Optimizer
  validationSplit: number
  seed: number
  /** Null for an MLP. */
  latentDim: number | null
  /** Null for an MLP. */
  beta: number | null
  /** Null for an MLP. */
  likelihood: Likelihood | null
  summary: RunSummary
}

const SUMMARY_FIELDS = `summary { metrics { name value } finalLoss finalValLoss bestValLoss bestEpoch finalAccuracy
  finalValAccuracy }`

const RUN_FIELDS = `id name status error epochs lastEpoch createdAt experiment { name } tags family
  learningRate batchSize hiddenLayers activation optimizer validationSplit seed latentDim beta likelihood
  ${SUMMARY_FIELDS}`

export interface DatasetView {
  id: string
  name: string
  version: number
  task: Task
  rowCount: number
  featureNames: string[]
  /** Null for UNSUPERVISED. */
  targetName: string | null
  factorNames: string[]
  imageShape: number[] | null
  /** TABLE or TEXT. */
  kind: 'TABLE' | 'TEXT'
  /** TEXT: the known characters; null for tables. */
  vocabulary: string[] | null
  createdAt: string
}

const DATASET_FIELDS =
  'id name version kind task rowCount featureNames targetName factorNames imageShape vocabulary createdAt'

export interface SweepView {
  id: string
  status: SweepStatus
  method: 'GRID' | 'RANDOM'
  metric: string
  goal: 'MINIMIZE' | 'MAXIMIZE'
  runCap: number | null
  maxConcurrent: number
  /** Why the sweep FAILED. */
  error: string | null
  runCount: number
  finishedCount: number
  createdAt: string
  finishedAt: string | null
  bestRun: { id: string; name: string } | null
}

const SWEEP_FIELDS = `id status method metric goal runCap maxConcurrent error runCount finishedCount createdAt finishedAt
  bestRun { id name }`

export interface RunFilter {
  experiment?: string
  status?: RunStatus[]
  tags?: string[]
  sweepId?: string
}

export interface RunOrder {
  field: RunOrderField
  direction: 'ASC' | 'DESC'
}

export const RUNS = doc<
  { runs: Connection<RunView> },
  { filter?: RunFilter; orderBy?: RunOrder[]; first: number; after?: string | null }
>(`query Runs($filter: RunFilter, $orderBy: [RunOrder!], $first: Int, $after: String) {
  runs(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { ${RUN_FIELDS} } }
  }
}`)

export const RUN = doc<{ run: RunView | null }, { id: string }>(
  `query Run($id: ID!) { run(id: $id) { ${RUN_FIELDS} } }`,
)

export interface EpochMetric {
  epoch: number
  loss: number
  valLoss: number | null
  accuracy: number | null
  valAccuracy: number | null
  /** Every metric of the epoch in the family's order, loss and valLoss included. */
  values: MetricValue[]
}

export type RunEvent =
  | { __typename: 'EpochCompleted'; runId: string; metric: EpochMetric }
  | { __typename: 'RunStatusChanged'; runId: string; status: RunStatus; error: string | null }
  | { __typename: 'ExplanationReady'; runId: string }

export const RUN_EVENTS = doc<{ runEvents: RunEvent }, { runId: string; afterEpoch?: number }>(
  `subscription RunEvents($runId: ID!, $afterEpoch: Int) {
  runEvents(runId: $runId, afterEpoch: $afterEpoch) {
    __typename
    ... on EpochCompleted { runId metric { epoch loss valLoss accuracy valAccuracy values { name value } } }
    ... on RunStatusChanged { runId status error }
    ... on ExplanationReady { runId }
  }
}`,
)

export const DATASETS = doc<{ datasets: Connection<DatasetView> }, { first: number; after?: string | null }>(
  `query Datasets($first: Int, $after: String) {
  datasets(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { ${DATASET_FIELDS} } }
  }
}`,
)

export const IMPORT_CSV = doc<
  { importCsvDataset: DatasetView },
  { input: { name: string; task: Task; csv: string; targetColumn?: string; factorColumns?: string[] } }
>(
  `mutation ImportCsv($input: ImportCsvDatasetInput!) { importCsvDataset(input: $input) { ${DATASET_FIELDS} } }`,
)

export const IMPORT_TEXT = doc<
  { importTextDataset: DatasetView },
  { input: { name: string; text: string; minCount?: number } }
>(
  `mutation ImportText($input: ImportTextDatasetInput!) { importTextDataset(input: $input) { ${DATASET_FIELDS} } }`,
)

export const START_SWEEP = doc<{ startSweep: SweepView }, { input: SweepInput }>(
  `mutation StartSweep($input: SweepInput!) { startSweep(input: $input) { ${SWEEP_FIELDS} } }`,
)

export const CANCEL_SWEEP = doc<{ cancelSweep: SweepView }, { id: string }>(
  `mutation CancelSweep($id: ID!) { cancelSweep(id: $id) { ${SWEEP_FIELDS} } }`,
)

export const SWEEP = doc<{ sweep: SweepView | null }, { id: string }>(
  `query Sweep($id: ID!) { sweep(id: $id) { ${SWEEP_FIELDS} } }`,
)

export const SWEEP_RUNS = doc<
  { sweep: { runs: Connection<RunView> } | null },
  { id: string; first: number; after?: string | null }
>(`query SweepRuns($id: ID!, $first: Int, $after: String) {
  sweep(id: $id) {
    runs(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { ${RUN_FIELDS} } }
    }
  }
}`)

/** A run as sweep events carry it: enough to label a progress bar. */
export type SweepEventRun = Pick<
  RunView,
  | 'id'
  | 'name'
  | 'status'
  | 'epochs'
  | 'family'
  | 'learningRate'
  | 'batchSize'
  | 'hiddenLayers'
  | 'activation'
  | 'optimizer'
  | 'validationSplit'
  | 'seed'
  | 'latentDim'
  | 'beta'
  | 'likelihood'
  | 'summary'
>

const SWEEP_EVENT_RUN_FIELDS = `id name status epochs family learningRate batchSize hiddenLayers activation
  optimizer validationSplit seed latentDim beta likelihood ${SUMMARY_FIELDS}`

export type SweepEvent =
  | { __typename: 'SweepRunStarted'; sweepId: string; run: SweepEventRun }
  | {
      __typename: 'RunProgress'
      runId: string
      epoch: number
      epochs: number
      loss: number
      valLoss: number | null
      accuracy: number | null
      valAccuracy: number | null
    }
  | { __typename: 'SweepRunFinished'; sweepId: string; run: SweepEventRun }
  | {
      __typename: 'SweepStatusChanged'
      sweepId: string
      status: SweepStatus
      bestRun: { id: string; name: string } | null
    }

export const SWEEP_EVENTS = doc<{ sweepEvents: SweepEvent }, { sweepId: string }>(
  `subscription SweepEvents($sweepId: ID!) {
  sweepEvents(sweepId: $sweepId) {
    __typename
    ... on SweepRunStarted { sweepId run { ${SWEEP_EVENT_RUN_FIELDS} } }
    ... on RunProgress { runId epoch epochs loss valLoss accuracy valAccuracy }
    ... on SweepRunFinished { sweepId run { ${SWEEP_EVENT_RUN_FIELDS} } }
    ... on SweepStatusChanged { sweepId status bestRun { id name } }
  }
}`,
)

/** Sweep statuses after which nothing changes any more. */
export const isTerminalSweep = (status: SweepStatus): boolean => status !== 'RUNNING'

/** Run statuses after which nothing changes any more. */
export const isTerminalRun = (status: RunStatus): boolean =>
  status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELLED'

export const API_KEY_SCOPES = ['READ', 'WRITE', 'ADMIN'] as const
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number]

export interface ApiKeyView {
  id: string
  name: string
  scope: ApiKeyScope
  prefix: string
  createdAt: string
  lastUsedAt: string | null
  revokedAt: string | null
}

export const CREATE_API_KEY = doc<
  { createApiKey: { id: string; name: string; scope: ApiKeyScope; key: string } },
  { input: { name: string; scope: ApiKeyScope } }
>(`mutation CreateApiKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { id name scope key } }`)

export const API_KEYS = doc<{ apiKeys: ApiKeyView[] }>(
  `query ApiKeys { apiKeys { id name scope prefix createdAt lastUsedAt revokedAt } }`,
)

export const REVOKE_API_KEY = doc<{ revokeApiKey: boolean }, { id: string }>(
  `mutation RevokeApiKey($id: ID!) { revokeApiKey(id: $id) }`,
)
