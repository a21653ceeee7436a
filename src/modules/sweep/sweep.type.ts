import { GraphQLJSON } from 'graphql-scalars'
import { createUnionType, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql'
import { Connection } from '../common/pagination'
import { StartRunInput } from '../run/run.input'
import { Run } from '../run/run.type'
import { Distribution, EarlyTerminateType, Goal, SweepMethod, SweepStatus } from './sweep.enums'

registerEnumType(SweepMethod, { name: 'SweepMethod' })
registerEnumType(Goal, { name: 'Goal' })
registerEnumType(Distribution, { name: 'Distribution' })
registerEnumType(SweepStatus, { name: 'SweepStatus' })
registerEnumType(EarlyTerminateType, { name: 'EarlyTerminateType' })

@InputType({
  description: 'One swept StartRunInput field: a list of values, or min/max with a distribution.',
})
export class SweepParameterInput {
  @Field(() => String, {
    description: 'learningRate, batchSize, hiddenLayers, epochs, activation, optimizer, ...',
  })
  name!: string

  @Field(() => [GraphQLJSON], { nullable: true })
  values?: unknown[] | null

  @Field(() => Number, { nullable: true })
  min?: number | null

  @Field(() => Number, { nullable: true })
  max?: number | null

  @Field(() => Distribution, {
    nullable: true,
    description: 'Default INT_UNIFORM for integers, else UNIFORM.',
  })
  distribution?: Distribution | null
}

@InputType()
export class EarlyTerminateInput {
  @Field(() => EarlyTerminateType)
  type!: EarlyTerminateType

  @Field(() => Int, { nullable: true, description: 'No run is stopped before this epoch; default 3.' })
  minEpochs?: number | null
}

@InputType()
export class SweepInput {
  @Field(() => String)
  experiment!: string

  @Field(() => ID)
  datasetId!: string

  @Field(() => SweepMethod)
  method!: SweepMethod

  @Field(() => [SweepParameterInput])
  parameters!: SweepParameterInput[]

  @Field(() => StartRunInput, {
    nullable: true,
    description: 'Defaults for every run (its datasetId is ignored).',
  })
  base?: StartRunInput | null

  @Field(() => String, {
    description:
      'Any named metric the runs report (Run.summary.metrics), e.g. valLoss, valReconstruction, kl.',
  })
  metric!: string

  @Field(() => Goal)
  goal!: Goal

  @Field(() => Int, { nullable: true, description: 'Most runs; default the grid size, or 20 for RANDOM.' })
  runCap?: number | null

  @Field(() => Int, { nullable: true, description: 'Runs going at once; default 1.' })
  maxConcurrent?: number | null

  @Field(() => Int, { nullable: true, description: 'Seeds RANDOM draws; default drawn, then stored.' })
  seed?: number | null

  @Field(() => EarlyTerminateInput, { nullable: true })
  earlyTerminate?: EarlyTerminateInput | null
}

@ObjectType({ description: 'A hyperparameter search driven by the server.' })
export class Sweep {
  @Field(() => ID)
  id!: string

  @Field(() => SweepStatus)
  status!: SweepStatus

  @Field(() => SweepMethod)
  method!: SweepMethod

  @Field(() => String)
  metric!: string

  @Field(() => Goal)
  goal!: Goal

  @Field(() => Int, { description: 'Runs the sweep will make at most.' })
  runCap!: number

  @Field(() => Int)
  maxConcurrent!: number

  @Field(() => Int)
  seed!: number

  @Field(() => GraphQLJSON, { description: 'The parameters as validated.' })
  parameters!: unknown

  @Field(() => String, { nullable: true })
  error!: string | null

  @Field(() => Date)
  createdAt!: Date

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null

  experimentId!: string
  datasetId!: string
  bestRunId!: string | null
}

@ObjectType()
export class SweepConnection extends Connection('Sweep', Sweep) {}

@ObjectType({ description: "A run's latest epoch, throttled for dashboards." })
export class RunProgress {
  @Field(() => ID)
  runId!: string

  @Field(() => Int)
  epoch!: number

  @Field(() => Int)
  epochs!: number

  @Field(() => Number)
  loss!: number

  @Field(() => Number, { nullable: true })
  valLoss!: number | null

  @Field(() => Number, { nullable: true })
  accuracy!: number | null

  @Field(() => Number, { nullable: true })
  valAccuracy!: number | null
}

@ObjectType()
export class SweepRunStarted {
  @Field(() => ID)
  sweepId!: string

  @Field(() => Run)
  run!: Run
}

@ObjectType()
export class SweepRunFinished {
  @Field(() => ID)
  sweepId!: string

  @Field(() => Run)
  run!: Run
}

@ObjectType()
export class SweepStatusChanged {
  @Field(() => ID)
  sweepId!: string

  @Field(() => SweepStatus)
  status!: SweepStatus

  @Field(() => Run, { nullable: true })
  bestRun!: Run | null
}

export const SweepEvent = createUnionType({
  name: 'SweepEvent',
  types: () => [SweepRunStarted, RunProgress, SweepRunFinished, SweepStatusChanged] as const,
  resolveType: (v) =>
    'kind' in v && v.kind === 'started'
      ? SweepRunStarted
      : 'kind' in v && v.kind === 'finished'
        ? SweepRunFinished
        : 'epoch' in v
          ? RunProgress
          : SweepStatusChanged,
})
