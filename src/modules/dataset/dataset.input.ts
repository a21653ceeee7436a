import { Field, InputType, Int } from 'type-graphql'
import { DatasetGenerator, Task } from './dataset.type'

@InputType({ description: 'A known generative factor: one value per row, stored beside the features.' })
export class FactorInput {
  @Field(() => String)
  name!: string

  @Field(() => [Number], { description: 'One per row.' })
  values!: number[]
}

const IMAGE_SHAPE =
  '[height, width] when the features are the pixels of an image, row-major: 2 positive integers whose ' +
  'product is the number of features; every feature value must then be in [0, 1].'

@InputType()
export class CreateDatasetInput {
  @Field(() => String)
  name!: string

  @Field(() => Task)
  task!: Task

  @Field(() => [String])
  featureNames!: string[]

  @Field(() => String, { nullable: true, description: 'Default "target"; omit for UNSUPERVISED.' })
  targetName?: string | null

  @Field(() => [[Number]], { description: 'One list per example, in featureNames order.' })
  rows!: number[][]

  @Field(() => [Number], {
    nullable: true,
    description:
      'One per row; 0 or 1 for BINARY_CLASSIFICATION. Required for every task but UNSUPERVISED, which has none.',
  })
  targets?: number[] | null

  @Field(() => [FactorInput], {
    nullable: true,
    description:
      'Known generative factors (not features): names distinct from the features and the target, one ' +
      'finite value per row.',
  })
  factors?: FactorInput[] | null

  @Field(() => [Int], { nullable: true, description: IMAGE_SHAPE })
  imageShape?: number[] | null
}

@InputType()
export class ImportCsvDatasetInput {
  @Field(() => String)
  name!: string

  @Field(() => Task)
  task!: Task

  @Field(() => String, { description: 'Comma-separated, header line first, numeric cells.' })
  csv!: string

  @Field(() => String, {
    nullable: true,
    description: 'The column to predict. Required for every task but UNSUPERVISED, which has none.',
  })
  targetColumn?: string | null

  @Field(() => [String], {
    nullable: true,
    description: 'Columns holding known generative factors: stored as factors, not features.',
  })
  factorColumns?: string[] | null

  @Field(() => [Int], { nullable: true, description: IMAGE_SHAPE })
  imageShape?: number[] | null
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
    description:
      'Default 0. Regression: sd of Gaussian noise added to the target. XOR: label flip rate (at most 0.5). ' +
      'COPY_TEXT: the probability (at most 1) that a character is not a copy. ' +
      'LATENT_LINEAR: sd of Gaussian noise added to every feature. SPRITES: refused above 0 (its pixels are ' +
      'exact shape coverage).',
  })
  noise?: number | null

  @Field(() => Int, {
    nullable: true,
    description: 'Default: drawn at random; the same seed gives the same rows.',
  })
  seed?: number | null

  @Field(() => Int, {
    nullable: true,
    description: 'LATENT_LINEAR only: the number k of factors, 1 to 64 (default 2).',
  })
  latents?: number | null

  @Field(() => Int, {
    nullable: true,
    description: 'LATENT_LINEAR only: the number d of features, from latents to 1024 (default 8).',
  })
  features?: number | null

  @Field(() => Int, {
    nullable: true,
    description: 'COPY_TEXT only: the lag k, 1 to 1000 and below rows (default 5).',
  })
  lag?: number | null
}

@InputType({ description: 'A text corpus for SEQUENCE runs (next-character models).' })
export class ImportTextDatasetInput {
  @Field(() => String)
  name!: string

  @Field(() => String, {
    description:
      'The corpus: at most LAB_MAX_TEXT_BYTES bytes of UTF-8 (default 8 MiB); characters are Unicode code points.',
  })
  text!: string

  @Field(() => Int, {
    nullable: true,
    description:
      'Default 1: characters seen fewer times are not in the vocabulary and map to one unknown symbol. The ' +
      'vocabulary needs at least 2 characters.',
  })
  minCount?: number | null
}
