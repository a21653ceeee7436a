import { Field, ID, InputType, Int } from 'type-graphql'
import { ExplanationMethod } from '../../explain/types'
import { Likelihood, ModelFamily, SequenceArchitecture } from '../../models/family.enums'
import { Activation, Optimizer } from './run.spec'

@InputType()
export class StartRunInput {
  @Field(() => ID)
  datasetId!: string

  @Field(() => String, {
    nullable: true,
    description: 'Experiment name, created on first use; default "default".',
  })
  experiment?: string | null

  @Field(() => String, { nullable: true })
  name?: string | null

  @Field(() => ModelFamily, {
    nullable: true,
    description:
      'Default MLP. A VAE trains on the features of any table (targets ignored); SEQUENCE on a TEXT dataset ' +
      '(and only there).',
  })
  family?: ModelFamily | null

  @Field(() => Int, { nullable: true, description: 'VAE only: latent dimensions, default 4, 1 to 64.' })
  latentDim?: number | null

  @Field(() => Number, {
    nullable: true,
    description: 'VAE only: weight of the KL term, default 1, above 0.',
  })
  beta?: number | null

  @Field(() => Likelihood, {
    nullable: true,
    description:
      'VAE only: default BERNOULLI for image datasets, GAUSSIAN (standardised features) otherwise.',
  })
  likelihood?: Likelihood | null

  @Field(() => SequenceArchitecture, { nullable: true, description: 'SEQUENCE only: default WINDOW_MLP.' })
  architecture?: SequenceArchitecture | null

  @Field(() => Int, {
    nullable: true,
    description: 'SEQUENCE only: characters of context the next one is predicted from, default 32, 1 to 256.',
  })
  contextLength?: number | null

  @Field(() => [Int], {
    nullable: true,
    description:
      "Default [128, 64, 32, 16]; SEQUENCE: WINDOW_MLP's Dense layers (default [128]) or RNN_GRU's GRU " +
      'layers, one per entry (default [64]).',
  })
  hiddenLayers?: number[] | null

  @Field(() => Activation, { nullable: true, description: 'Default RELU.' })
  activation?: Activation | null

  @Field(() => Int, { nullable: true, description: 'Default 10; 1 to 10000.' })
  epochs?: number | null

  @Field(() => Int, { nullable: true, description: 'Default 32; 1 to the number of rows.' })
  batchSize?: number | null

  @Field(() => Number, { nullable: true, description: 'Default 0.001.' })
  learningRate?: number | null

  @Field(() => Optimizer, { nullable: true, description: 'Default ADAM.' })
  optimizer?: Optimizer | null

  @Field(() => Number, {
    nullable: true,
    description: 'Default 0.2, in [0, 0.9); the held-out rows also serve the explanations.',
  })
  validationSplit?: number | null

  @Field(() => Int, { nullable: true, description: 'Default: drawn, then stored.' })
  seed?: number | null

  @Field(() => [String], { nullable: true })
  tags?: string[] | null

  @Field(() => String, { nullable: true, description: 'A key seen before returns the run it made.' })
  idempotencyKey?: string | null

  @Field(() => [ExplanationMethod], {
    nullable: true,
    description:
      "Explanations computed after training; default every method that applies to the run's family and dataset, [] turns them off.",
  })
  explain?: ExplanationMethod[] | null
}
