import { Field, ID, InputType, Int, registerEnumType } from 'type-graphql'
import { ModelFamily } from '../../models/family.enums'
import { Activation, Optimizer } from './run.spec'
import { RunStatus } from './run.status'

export enum SortDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}
registerEnumType(SortDirection, { name: 'SortDirection' })

/** Sortable run fields, each mapped to its column in run.query.ts. */
export enum RunOrderField {
  CREATED_AT = 'CREATED_AT',
  STARTED_AT = 'STARTED_AT',
  FINISHED_AT = 'FINISHED_AT',
  NAME = 'NAME',
  STATUS = 'STATUS',
  FINAL_LOSS = 'FINAL_LOSS',
  FINAL_VAL_LOSS = 'FINAL_VAL_LOSS',
  BEST_VAL_LOSS = 'BEST_VAL_LOSS',
  BEST_EPOCH = 'BEST_EPOCH',
  FINAL_ACCURACY = 'FINAL_ACCURACY',
  FINAL_VAL_ACCURACY = 'FINAL_VAL_ACCURACY',
  LAST_EPOCH = 'LAST_EPOCH',
  LEARNING_RATE = 'LEARNING_RATE',
  BATCH_SIZE = 'BATCH_SIZE',
  EPOCHS = 'EPOCHS',
  VALIDATION_SPLIT = 'VALIDATION_SPLIT',
  SEED = 'SEED',
}
registerEnumType(RunOrderField, { name: 'RunOrderField' })

@InputType({ description: 'Inclusive bounds; either may be left out.' })
export class FloatRange {
  @Field(() => Number, { nullable: true })
  min?: number | null

  @Field(() => Number, { nullable: true })
  max?: number | null
}

@InputType({ description: 'Inclusive bounds; either may be left out.' })
export class IntRange {
  @Field(() => Int, { nullable: true })
  min?: number | null

  @Field(() => Int, { nullable: true })
  max?: number | null
}

@InputType({ description: 'from inclusive, to exclusive; either may be left out.' })
export class DateRange {
  @Field(() => Date, { nullable: true })
  from?: Date | null

  @Field(() => Date, { nullable: true })
  to?: Date | null
}

@InputType({
  description:
    'Bounds on the final value of a named metric (Run.summary.metrics); inclusive, either may be left out.',
})
export class MetricRange {
  @Field(() => String, { description: 'A metric name, e.g. valLoss, reconstruction or kl_0.' })
  name!: string

  @Field(() => Number, { nullable: true })
  min?: number | null

  @Field(() => Number, { nullable: true })
  max?: number | null
}

@InputType({ description: 'All given conditions must hold; combine filters with and / or / not.' })
export class RunFilter {
  @Field(() => String, { nullable: true, description: 'Experiment name.' })
  experiment?: string | null

  @Field(() => [RunStatus], { nullable: true, description: 'Any of these statuses.' })
  status?: RunStatus[] | null

  @Field(() => ID, { nullable: true })
  datasetId?: string | null

  @Field(() => ID, { nullable: true })
  sweepId?: string | null

  @Field(() => [String], { nullable: true, description: 'Runs carrying every one of these tags.' })
  tags?: string[] | null

  @Field(() => String, { nullable: true, description: 'Case-insensitive substring of the run name.' })
  nameContains?: string | null

  @Field(() => [ModelFamily], { nullable: true, description: 'Any of these families.' })
  family?: ModelFamily[] | null

  @Field(() => MetricRange, {
    nullable: true,
    description: 'Runs whose final value of the named metric is in range (runs without it are left out).',
  })
  metric?: MetricRange | null

  @Field(() => IntRange, { nullable: true })
  latentDim?: IntRange | null

  @Field(() => FloatRange, { nullable: true })
  beta?: FloatRange | null

  @Field(() => [Activation], { nullable: true })
  activation?: Activation[] | null

  @Field(() => [Optimizer], { nullable: true })
  optimizer?: Optimizer[] | null

  @Field(() => FloatRange, { nullable: true })
  learningRate?: FloatRange | null

  @Field(() => IntRange, { nullable: true })
  batchSize?: IntRange | null

  @Field(() => IntRange, { nullable: true })
  epochs?: IntRange | null

  @Field(() => FloatRange, { nullable: true })
  validationSplit?: FloatRange | null

  @Field(() => IntRange, { nullable: true })
  seed?: IntRange | null

  @Field(() => FloatRange, { nullable: true })
  finalLoss?: FloatRange | null

  @Field(() => FloatRange, { nullable: true })
  finalValLoss?: FloatRange | null

  @Field(() => FloatRange, { nullable: true })
  bestValLoss?: FloatRange | null

  @Field(() => IntRange, { nullable: true })
  bestEpoch?: IntRange | null

  @Field(() => FloatRange, { nullable: true })
  finalAccuracy?: FloatRange | null

  @Field(() => FloatRange, { nullable: true })
  finalValAccuracy?: FloatRange | null

  @Field(() => DateRange, { nullable: true })
  createdAt?: DateRange | null

  @Field(() => [RunFilter], { nullable: true })
  and?: RunFilter[] | null

  @Field(() => [RunFilter], { nullable: true })
  or?: RunFilter[] | null

  @Field(() => RunFilter, { nullable: true })
  not?: RunFilter | null
}

@InputType({ description: 'Order by a field or by the final value of a named metric: exactly one of them.' })
export class RunOrder {
  @Field(() => RunOrderField, { nullable: true })
  field?: RunOrderField | null

  @Field(() => String, {
    nullable: true,
    description: 'A metric name (e.g. reconstruction, kl_0); runs without it sort last.',
  })
  metric?: string | null

  @Field(() => SortDirection)
  direction!: SortDirection
}
