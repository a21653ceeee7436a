import { createUnionType, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql'
import { Connection } from '../common/pagination'
import { Dataset } from '../dataset/dataset.type'
import { Experiment } from '../experiment/experiment.type'
import { ExplanationReady } from '../explanation/explanation.type'
import { Activation, Optimizer } from './run.spec'
import { RunStatus } from './run.status'

registerEnumType(RunStatus, { name: 'RunStatus' })
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

  @Field(() => [Int])
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
