import { createUnionType, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql'
import { Connection } from '../common/pagination'
import { Dataset } from '../dataset/dataset.type'
import { Experiment } from '../experiment/experiment.type'
import { ExplanationReady } from '../explanation/explanation.type'
import { Likelihood, ModelFamily, SequenceArchitecture } from '../../models/family.enums'
import { Activation, Optimizer } from './run.spec'
import { RunStatus } from './run.status'

registerEnumType(RunStatus, { name: 'RunStatus' })
registerEnumType(ModelFamily, {
  name: 'ModelFamily',
  valuesConfig: {
    MLP: { description: 'A supervised Dense network with one output (regression or binary classification).' },
    VAE: {
      description: 'A variational autoencoder for tables and small images (Dense encoder and decoder).',
    },
    SEQUENCE: {
      description:
        'Next-character prediction on a TEXT dataset from a context of contextLength characters (one-hot).',
    },
  },
})
registerEnumType(SequenceArchitecture, {
  name: 'SequenceArchitecture',
  valuesConfig: {
    RNN_GRU: { description: 'GRU layers over the one-hot characters of the context, then a Dense output.' },
    WINDOW_MLP: { description: 'Dense layers over the concatenated one-hot window (the fast one).' },
  },
})
registerEnumType(Likelihood, {
  name: 'Likelihood',
  valuesConfig: {
    GAUSSIAN: { description: '0.5 * sum (x - x_hat)^2 on standardised features (unit variance).' },
    BERNOULLI: { description: 'Binary cross-entropy summed over features in [0, 1] (pixels).' },
  },
})

@ObjectType({ description: 'One named value, e.g. of one epoch.' })
export class MetricValue {
  @Field(() => String)
  name!: string

  @Field(() => Number)
  value!: number
}
registerEnumType(Activation, { name: 'Activation' })
registerEnumType(Optimizer, { name: 'Optimizer' })

@ObjectType({ description: "One epoch's losses; epochs are numbered from 1." })
export class EpochMetric {
  @Field(() => Int)
  epoch!: number

  @Field(() => Number)
  loss!: number

  @Field(() => Number, { nullable: true })
  valLoss!: number | null

  @Field(() => Number, { nullable: true })
  accuracy!: number | null

  @Field(() => Number, { nullable: true })
  valAccuracy!: number | null

  @Field(() => Number)
  durationMs!: number

  @Field(() => [MetricValue], {
    description: "Every metric of this epoch in the family's order, loss and valLoss included.",
  })
  values!: MetricValue[]
}

@ObjectType()
export class RunSummary {
  @Field(() => Number, { nullable: true })
  finalLoss!: number | null

  @Field(() => Number, { nullable: true })
  finalValLoss!: number | null

  @Field(() => Number, { nullable: true })
  bestValLoss!: number | null

  @Field(() => Int, { nullable: true, description: 'Epoch of bestValLoss.' })
  bestEpoch!: number | null

  @Field(() => Number, { nullable: true })
  finalAccuracy!: number | null

  @Field(() => Number, { nullable: true })
  finalValAccuracy!: number | null

  @Field(() => [MetricValue], { description: "Every named metric's final value, in the family's order." })
  metrics!: MetricValue[]
}

@ObjectType()
export class MetricPoint {
  @Field(() => Int)
  epoch!: number

  @Field(() => Number)
  value!: number
}

@ObjectType()
export class Run {
  @Field(() => ID)
  id!: string

  @Field(() => String)
  name!: string

  @Field(() => RunStatus)
  status!: RunStatus

  // Resolved by RunResolver through per-request loaders.
  experiment?: Experiment
  dataset?: Dataset
  experimentId!: string
  datasetId!: string

  @Field(() => ModelFamily)
  family!: ModelFamily

  @Field(() => [Int], { description: "Hidden Dense layers (a VAE's encoder; its decoder mirrors them)." })
  hiddenLayers!: number[]

  @Field(() => Activation)
  activation!: Activation

  @Field(() => Int)
  epochs!: number

  @Field(() => Int)
  batchSize!: number

  @Field(() => Number)
  learningRate!: number

  @Field(() => Optimizer)
  optimizer!: Optimizer

  @Field(() => Number)
  validationSplit!: number

  @Field(() => Int)
  seed!: number

  @Field(() => Int, { nullable: true, description: 'VAE: latent dimensions.' })
  latentDim!: number | null

  @Field(() => Number, { nullable: true, description: 'VAE: weight of the KL term (beta-VAE).' })
  beta!: number | null

  @Field(() => Likelihood, { nullable: true, description: "VAE: the decoder's observation model." })
  likelihood!: Likelihood | null

  @Field(() => SequenceArchitecture, { nullable: true, description: 'SEQUENCE: the network.' })
  architecture!: SequenceArchitecture | null

  @Field(() => Int, { nullable: true, description: 'SEQUENCE: characters of context.' })
  contextLength!: number | null

  @Field(() => [String])
  tags!: string[]

  @Field(() => String, {
    nullable: true,
    description: '"tensorflow", "wasm" or "cpu", once training started.',
  })
  backend!: string | null

  @Field(() => String, { nullable: true, description: 'Why the run FAILED (or was CANCELLED).' })
  error!: string | null

  @Field(() => Int, { description: 'How many times a worker has taken this run (retries add one).' })
  attempt!: number

  @Field(() => Int, { description: 'The last stored epoch (0 before the first).' })
  lastEpoch!: number

  @Field(() => Date)
  createdAt!: Date

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null

  explainMethods!: string[]
  sweepId!: string | null
  finalLoss!: number | null
  finalValLoss!: number | null
  bestValLoss!: number | null
  bestEpoch!: number | null
  finalAccuracy!: number | null
  finalValAccuracy!: number | null
  finalMetrics!: Record<string, number>
}

@ObjectType()
export class RunConnection extends Connection('Run', Run) {}

@ObjectType()
export class EpochCompleted {
  @Field(() => ID)
  runId!: string

  @Field(() => EpochMetric)
  metric!: EpochMetric
}

@ObjectType()
export class RunStatusChanged {
  @Field(() => ID)
  runId!: string

  @Field(() => RunStatus)
  status!: RunStatus

  @Field(() => String, { nullable: true })
  error!: string | null
}

export const RunEvent = createUnionType({
  name: 'RunEvent',
  types: () => [EpochCompleted, RunStatusChanged, ExplanationReady] as const,
  resolveType: (value) =>
    'metric' in value ? EpochCompleted : 'explanation' in value ? ExplanationReady : RunStatusChanged,
})
