import 'reflect-metadata'
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql'
import { DateTimeResolver } from 'graphql-scalars'
import { buildSchema, ContainerType, NonEmptyArray, PubSub } from 'type-graphql'
import { ApiKeyResolver } from '../modules/apikey/apikey.resolver'
import { DatasetResolver } from '../modules/dataset/dataset.resolver'
import { ExperimentResolver } from '../modules/experiment/experiment.resolver'
import { guardArguments } from '../modules/common/input-guard'
import { ExplanationResolver } from '../modules/explanation/explanation.resolver'
import { GenerationResolver } from '../modules/generation/generation.resolver'
import { RunResolver } from '../modules/run/run.resolver'
import { SweepResolver } from '../modules/sweep/sweep.resolver'
import { authChecker } from './auth'

/** Every resolver class of the API; src/app.ts registers one instance of each. */
export const RESOLVERS: NonEmptyArray<Function> = [
  DatasetResolver,
  RunResolver,
  ExperimentResolver,
  ExplanationResolver,
  GenerationResolver,
  SweepResolver,
  ApiKeyResolver,
]

export async function buildLabSchema(opts: {
  container: ContainerType
  pubSub: PubSub
}): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: RESOLVERS,
    container: opts.container,
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    // Inputs are validated by the services (one error vocabulary), not by class-validator.
    validate: false,
    // Subscriptions here bring their own iterators; type-graphql still wants a PubSub to exist.
    pubSub: opts.pubSub,
    // Fields that need more than their operation type's scope (see RequestGuard) say so with @Authorized.
    authChecker,
  })
  // Every argument is checked once, before any resolver runs (strings, lists, JSON: input-guard.ts).
  return guardArguments(schema)
}

/** The SDL committed as schema.graphql: sorted so it diffs well. */
export function printLabSchema(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n'
}
