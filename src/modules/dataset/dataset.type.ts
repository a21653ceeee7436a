import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql'
import { Connection } from '../common/pagination'
import { DatasetGenerator, Task } from './dataset.enums'

export { DatasetGenerator, Task } from './dataset.enums'

registerEnumType(Task, { name: 'Task' })

registerEnumType(DatasetGenerator, {
  name: 'DatasetGenerator',
  valuesConfig: {
    FRIEDMAN1: { description: 'Friedman #1 regression: 10 U[0,1] features, x6..x10 irrelevant.' },
    LINEAR: { description: 'Linear regression: y = 1 + 3 x1 - 2 x2 + x3 + 0.5 x4 + 0 x5, x ~ N(0,1).' },
    XOR: { description: 'Binary classification: 2 U[-1,1] features, target 1 when x1 x2 > 0.' },
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

@ObjectType({ description: 'One immutable version of a named dataset.' })
export class Dataset {
  @Field(() => ID)
  id!: string

  @Field(() => String)
  name!: string

  @Field(() => Int, { description: 'Starts at 1; new content under the same name makes the next version.' })
  version!: number

  @Field(() => Task)
  task!: Task

  @Field(() => [String])
  featureNames!: string[]

  @Field(() => String)
  targetName!: string

  @Field(() => Int)
  rowCount!: number

  @Field(() => String, { description: 'SHA-256 (hex) of the canonical content.' })
  contentHash!: string

  @Field(() => [FeatureStats])
  featureStats!: FeatureStats[]

  @Field(() => Date)
  createdAt!: Date
}

@ObjectType()
export class DatasetConnection extends Connection('Dataset', Dataset) {}
