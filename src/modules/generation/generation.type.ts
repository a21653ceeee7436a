import { Field, Int, ObjectType } from 'type-graphql'

@ObjectType({ description: "A row's posterior q(z|x) = N(mean, diag(exp(logVar)))." })
export class LatentCode {
  @Field(() => [Number])
  mean!: number[]

  @Field(() => [Number])
  logVar!: number[]
}

@ObjectType()
export class LatentAttribution {
  @Field(() => Int)
  latent!: number

  @Field(() => String, { description: 'The decoded output feature.' })
  feature!: string

  @Field(() => Number)
  value!: number
}

@ObjectType()
export class OutputGap {
  @Field(() => String)
  feature!: string

  @Field(() => Number, { description: '|sum over latents of IG - (output at latent - output at baseline)|.' })
  gap!: number
}

@ObjectType({
  description:
    'Integrated Gradients of every decoded output with respect to every latent, along the straight path from ' +
    'the baseline to the latent (Gauss-Legendre), with the completeness gap of each output.',
})
export class LatentExplanation {
  @Field(() => [Number])
  latent!: number[]

  @Field(() => [Number])
  baseline!: number[]

  @Field(() => [Number], { description: 'decode(latent), in the dataset units.' })
  outputs!: number[]

  @Field(() => [Number], { description: 'decode(baseline).' })
  baselineOutputs!: number[]

  @Field(() => [LatentAttribution])
  attributions!: LatentAttribution[]

  @Field(() => [OutputGap])
  gaps!: OutputGap[]

  @Field(() => Number)
  maxGap!: number

  @Field(() => Int, { description: 'Integration points used.' })
  steps!: number
}
