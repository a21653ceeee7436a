import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql'
import { Connection } from '../common/pagination'
import { DatasetGenerator, DatasetKind, Task } from './dataset.enums'

export { DatasetGenerator, DatasetKind, Task } from './dataset.enums'

registerEnumType(DatasetKind, {
  name: 'DatasetKind',
  valuesConfig: {
    TABLE: { description: 'A numeric table: features, and a target or known factors.' },
    TEXT: {
      description:
        'A text corpus for SEQUENCE runs: no features; rowCount is its length in characters, vocabulary its ' +
        'known characters.',
    },
  },
})

registerEnumType(Task, {
  name: 'Task',
  valuesConfig: {
    UNSUPERVISED: { description: 'No target: the rows alone, for generative models.' },
  },
})

registerEnumType(DatasetGenerator, {
  name: 'DatasetGenerator',
  valuesConfig: {
    FRIEDMAN1: { description: 'Friedman #1 regression: 10 U[0,1] features, x6..x10 irrelevant.' },
    LINEAR: { description: 'Linear regression: y = 1 + 3 x1 - 2 x2 + x3 + 0.5 x4 + 0 x5, x ~ N(0,1).' },
    XOR: { description: 'Binary classification: 2 U[-1,1] features, target 1 when x1 x2 > 0.' },
    SPRITES: {
      description:
        'UNSUPERVISED 16x16 images in the spirit of dSprites: one white shape on black, 256 pixel features ' +
        'p_ROW_COL in [0, 1] (row-major, imageShape [16, 16], anti-aliased: a pixel is the share of it the ' +
        'shape covers). Factors, drawn independently and uniformly per row: shape (0 square, 1 ellipse 0.6 as ' +
        'high as wide, 2 triangle pointing up), scale (0.5, 0.6 ... 1: the bounding box is 8 * scale pixels ' +
        'wide), posX and posY (16 values i/15 moving the centre of the bounding box from 4 to 12 pixels from ' +
        'the left or top edge, so no shape is ever clipped). No orientation factor, no noise.',
    },
    COPY_TEXT: {
      description:
        'A TEXT corpus of rows characters over a-z: the first lag are uniform; after them character t equals ' +
        'character t - lag with probability 1 - noise and is otherwise one of the other 25 letters, drawn ' +
        'uniformly (so the copy rate is 1 - noise). lag defaults to 5. Seeded.',
    },
    LATENT_LINEAR: {
      description:
        'UNSUPERVISED x = A v + noise * e: k factors v1..vk, independent U[-sqrt 3, sqrt 3] (unit variance), ' +
        'mixed into d features x1..xd by a fixed seeded d x k matrix A, e ~ N(0, I). A is a unit-norm tight ' +
        "frame (rows of norm 1, A'A = (d/k) I: stacked random orthogonal k x k blocks, the last k + (d mod k) " +
        'rows a rotated harmonic frame when k does not divide d), so each feature has variance 1 + noise^2; ' +
        'k = latents, d = features. A is recorded with the dataset.',
    },
  },
})

@ObjectType()
export class FeatureStats {
  @Field(() => String)
  name!: string

  @Field(() => Number)
  mean!: number

  @Field(() => Number, { description: 'Population standard deviation.' })
  std!: number

  @Field(() => Number)
  min!: number

  @Field(() => Number)
  max!: number
}

@ObjectType({ description: 'One row of a table dataset, as stored.' })
export class DatasetRow {
  @Field(() => Int, { description: 'Position in the dataset, from 0.' })
  index!: number

  @Field(() => [Number], { description: 'In featureNames order (pixels row-major for an image dataset).' })
  features!: number[]

  @Field(() => Number, { nullable: true, description: 'Null for UNSUPERVISED datasets.' })
  target!: number | null

  @Field(() => [Number], { description: 'In factorNames order; empty when none are known.' })
  factors!: number[]
}

@ObjectType({ description: 'One immutable version of a named dataset.' })
export class Dataset {
  @Field(() => ID)
  id!: string

  @Field(() => String)
  name!: string

  @Field(() => Int, { description: 'Starts at 1; new content under the same name makes the next version.' })
  version!: number

  @Field(() => DatasetKind)
  kind!: DatasetKind

  @Field(() => Task, { description: 'UNSUPERVISED for TEXT datasets.' })
  task!: Task

  @Field(() => [String])
  featureNames!: string[]

  @Field(() => String, { nullable: true, description: 'Null for UNSUPERVISED datasets.' })
  targetName!: string | null

  @Field(() => Int)
  rowCount!: number

  @Field(() => [String], {
    description:
      'Known generative factors of each row (not features: never trained on), e.g. the shape and position ' +
      'of a sprite; empty when none are known.',
  })
  factorNames!: string[]

  @Field(() => [Int], {
    nullable: true,
    description: '[height, width] when the features are the pixels of an image (row-major, in [0, 1]).',
  })
  imageShape!: number[] | null

  @Field(() => String, { description: 'SHA-256 (hex) of the canonical content.' })
  contentHash!: string

  @Field(() => [FeatureStats])
  featureStats!: FeatureStats[]

  @Field(() => [String], {
    nullable: true,
    description:
      'TEXT: the known characters, in code point order (symbol i is vocabulary[i]); every other character of ' +
      'the corpus maps to one unknown symbol, written \uFFFD in generated text. Null for tables.',
  })
  vocabulary!: string[] | null

  @Field(() => Int, { nullable: true, description: 'TEXT: the minCount the vocabulary was built with.' })
  minCount!: number | null

  @Field(() => Date)
  createdAt!: Date
}

@ObjectType()
export class DatasetConnection extends Connection('Dataset', Dataset) {}
