import { Field, InputType, Int } from 'type-graphql'
import { DatasetGenerator, Task } from './dataset.type'

@InputType()
export class CreateDatasetInput {
  @Field(() => String)
  name!: string

  @Field(() => Task)
  task!: Task

  @Field(() => [String])
  featureNames!: string[]

  @Field(() => String, { nullable: true, description: 'Default "target".' })
  targetName?: string | null

  @Field(() => [[Number]], { description: 'One list per example, in featureNames order.' })
  rows!: number[][]

  @Field(() => [Number], { description: 'One per row; 0 or 1 for BINARY_CLASSIFICATION.' })
  targets!: number[]
}

@InputType()
export class ImportCsvDatasetInput {
  @Field(() => String)
  name!: string

  @Field(() => Task)
  task!: Task

  @Field(() => String, { description: 'Comma-separated, header line first, numeric cells.' })
  csv!: string

  @Field(() => String)
  targetColumn!: string
}

@InputType()
export class GenerateDatasetInput {
  @Field(() => String)
  name!: string

  @Field(() => DatasetGenerator)
  generator!: DatasetGenerator

  @Field(() => Int)
  rows!: number

  @Field(() => Number, {
    nullable: true,
    description: 'Regression: sd of Gaussian noise added to the target (default 0). XOR: label flip rate.',
  })
  noise?: number | null

  @Field(() => Int, {
    nullable: true,
    description: 'Default: drawn at random; the same seed gives the same rows.',
  })
  seed?: number | null
}
