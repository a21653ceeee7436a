import { Field, ID, ObjectType } from 'type-graphql'

@ObjectType({ description: 'A named group of runs; created on first use by startRun.' })
export class Experiment {
  @Field(() => ID)
  id!: string

  @Field(() => String)
  name!: string

  @Field(() => Date)
  createdAt!: Date
}
