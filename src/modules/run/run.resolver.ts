import type { GraphQLResolveInfo } from 'graphql'
import {
  Arg,
  Ctx,
  FieldResolver,
  ID,
  Info,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql'
import type { AppContext } from '../../app'
import { packedArgument } from '../common/packed-rows'
import { SPLICE_MIN_ITEMS } from '../common/spliced-lists'
import { toConnection } from '../common/pagination'
import { RunFilter, RunOrder } from './run.filter'
import { Dataset } from '../dataset/dataset.type'
import { Experiment } from '../experiment/experiment.type'
import type { RunEventPayload } from './run.events'
import { StartRunInput } from './run.input'
import type { ModelQueries } from './prediction.service'
import { RunService } from './run.service'
import { EpochMetric, MetricPoint, Run, RunConnection, RunEvent, RunSummary } from './run.type'
import { orderedMetrics } from './run.summary'
import { keyIdOf } from '../apikey/apikey.scope'

@Resolver(() => Run)
export class RunResolver {
  constructor(
    private readonly service: RunService,
    private readonly models: ModelQueries,
  ) {}

  @Query(() => Run, { nullable: true })
  run(@Arg('id', () => ID) id: string) {
    return this.service.get(id)
  }

  @Query(() => RunConnection, {
    description: 'Filtered and ordered (default: newest first); at most 100 per page.',
  })
  async runs(
    @Arg('filter', () => RunFilter, { nullable: true }) filter: RunFilter | null,
    @Arg('orderBy', () => [RunOrder], { nullable: true }) orderBy: RunOrder[] | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ) {
    const page = await this.service.search({ filter, orderBy, first, after })
    return toConnection(page, page.cursorOf)
  }

  @Query(() => [Number], {
    description: "The trained model's output per row: probability of class 1, or the regression value.",
  })
  predict(
    @Arg('runId', () => ID) runId: string,
    @Arg('rows', () => [[Number]]) rows: number[][],
    @Ctx() ctx: AppContext,
    @Info() info: GraphQLResolveInfo,
  ) {
    // A large body's rows arrive packed (src/modules/common/packed-rows.ts); `rows` is then an empty list.
    const given = packedArgument(ctx.packedVariables, info, 'rows') ?? rows
    const count = Array.isArray(given) ? given.length : given.values.length / given.columns
    // A long answer over HTTP is serialised where it is computed and spliced into the response
    // (src/modules/common/spliced-lists.ts): GraphQL completes a one-item stand-in.
    const spliced = ctx.splicedLists
    if (spliced && count >= SPLICE_MIN_ITEMS) {
      return this.models
        .answer(runId, { kind: 'predict', rows: given, as: 'json' })
        .then((prebuilt) => spliced.add(prebuilt))
    }
    return this.models.answer(runId, { kind: 'predict', rows: given })
  }

  @Mutation(() => Run, { description: 'Returns at once with a QUEUED run; a worker trains it.' })
  startRun(@Arg('input', () => StartRunInput) input: StartRunInput, @Ctx() ctx: AppContext) {
    return this.service.start(input, keyIdOf(ctx.principal))
  }

  @Mutation(() => Run, { description: 'QUEUED runs are cancelled at once, RUNNING ones within one epoch.' })
  cancelRun(@Arg('id', () => ID) id: string) {
    return this.service.cancel(id)
  }

  @FieldResolver(() => Experiment)
  async experiment(@Root() run: Run, @Ctx() ctx: AppContext) {
    return ctx.loaders.experiment.load(run.experimentId)
  }

  @FieldResolver(() => Dataset)
  async dataset(@Root() run: Run, @Ctx() ctx: AppContext) {
    return ctx.loaders.dataset.load(run.datasetId)
  }

  @FieldResolver(() => RunSummary, {
    description: 'Final and best values of the history, kept by the worker.',
  })
  summary(@Root() run: Run): RunSummary {
    // Only the summary's own columns, and `metrics` ordered only when selected: a page of runs resolves this
    // once per run, and copying every column of the run (a spread) cost more than the rest of the field.
    return {
      finalLoss: run.finalLoss,
      finalValLoss: run.finalValLoss,
      bestValLoss: run.bestValLoss,
      bestEpoch: run.bestEpoch,
      finalAccuracy: run.finalAccuracy,
      finalValAccuracy: run.finalValAccuracy,
      get metrics() {
        return orderedMetrics(run)
      },
    }
  }

  @FieldResolver(() => [MetricPoint], {
    description:
      "One metric of the run's history for charts - any name it stores (Run.summary.metrics, e.g. loss, " +
      'valLoss, reconstruction, kl_0) or durationMs: at most maxPoints points ' +
      '(default 1000), keeping the first, the last and the extremes; the whole history when it is shorter.',
  })
  metricHistory(
    @Root() run: Run,
    @Arg('metric', () => String) metric: string,
    @Arg('maxPoints', () => Int, { nullable: true }) maxPoints: number | null,
  ) {
    return this.service.metricHistory(run, metric, maxPoints)
  }

  @FieldResolver(() => [EpochMetric], { description: 'Every stored epoch, in order.' })
  history(@Root() run: Run, @Ctx() ctx: AppContext) {
    return ctx.loaders.history.load(run.id)
  }

  @Subscription(() => RunEvent, {
    description:
      'Stored epochs after afterEpoch (default 0) first, then live ones, each once and in order; ' +
      'RunStatusChanged on every transition; completes after the terminal one.',
    subscribe: ({ args, context }) =>
      (context as AppContext).runEvents.subscribe(
        args['runId'] as string,
        args['afterEpoch'] as number | null,
      ),
  })
  runEvents(
    @Root() event: RunEventPayload,
    @Arg('runId', () => ID) _runId: string,
    @Arg('afterEpoch', () => Int, { nullable: true }) _afterEpoch: number | null,
  ): RunEventPayload {
    return event
  }
}
