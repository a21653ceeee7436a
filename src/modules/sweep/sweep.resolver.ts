import { GraphQLJSON } from 'graphql-scalars'
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql'
import type { AppContext } from '../../app'
import { pageArgs, toConnection } from '../common/pagination'
import { RunOrderField, SortDirection } from '../run/run.filter'
import { RunService } from '../run/run.service'
import { Run, RunConnection } from '../run/run.type'
import type { SweepEventPayload } from './sweep.events'
import type { SweepRecord } from './sweep.repository'
import { SweepService } from './sweep.service'
import { Sweep, SweepConnection, SweepEvent, SweepInput } from './sweep.type'

@Resolver(() => Sweep)
export class SweepResolver {
  constructor(
    private readonly service: SweepService,
    private readonly runService: RunService,
  ) {}

  @Query(() => Sweep, { nullable: true })
  sweep(@Arg('id', () => ID) id: string) {
    return this.service.get(id)
  }

  @Query(() => SweepConnection, { description: 'Newest first.' })
  async sweeps(
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ) {
    return toConnection(await this.service.list(pageArgs(first, after)))
  }

  @Mutation(() => Sweep, {
    description: 'Validates every run the sweep can start, then starts it; the server drives it to the end.',
  })
  startSweep(@Arg('input', () => SweepInput) input: SweepInput) {
    return this.service.start({ ...input, parameters: input.parameters })
  }

  @Mutation(() => Sweep, { description: 'Cancels the sweep and its unfinished runs.' })
  cancelSweep(@Arg('id', () => ID) id: string) {
    return this.service.cancel(id)
  }

  @FieldResolver(() => String, { description: 'Experiment name.' })
  experiment(@Root() sweep: Sweep & { experiment?: string }) {
    return sweep.experiment ?? ''
  }

  @FieldResolver(() => GraphQLJSON, { description: 'The parameters as validated.' })
  parameters(@Root() sweep: Sweep & Pick<SweepRecord, 'config'>) {
    return sweep.config.parameters
  }

  @FieldResolver(() => ID)
  datasetId(@Root() sweep: Sweep) {
    return sweep.datasetId
  }

  @FieldResolver(() => RunConnection, { description: 'In the order they were started.' })
  async runs(
    @Root() sweep: Sweep,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ) {
    const page = await this.runService.search({
      first,
      after,
      scope: { sweepId: sweep.id },
      orderBy: [{ field: RunOrderField.CREATED_AT, direction: SortDirection.ASC }],
    })
    return toConnection(page, page.cursorOf)
  }

  @FieldResolver(() => Run, { nullable: true, description: 'The SUCCEEDED run with the best final metric.' })
  bestRun(@Root() sweep: Sweep) {
    return sweep.bestRunId ? this.runService.get(sweep.bestRunId) : null
  }

  @FieldResolver(() => Int)
  async runCount(@Root() sweep: Sweep, @Ctx() ctx: AppContext) {
    return (await ctx.loaders.sweepCounts.load(sweep.id)).runs
  }

  @FieldResolver(() => Int)
  async finishedCount(@Root() sweep: Sweep, @Ctx() ctx: AppContext) {
    return (await ctx.loaders.sweepCounts.load(sweep.id)).finished
  }

  @Subscription(() => SweepEvent, {
    description:
      'Runs already going, then runs started and finished, throttled progress, and the status; ' +
      'completes after a terminal status.',
    subscribe: ({ args, context }) =>
      (context as AppContext).sweepEvents.subscribe(args['sweepId'] as string),
  })
  sweepEvents(
    @Root() event: SweepEventPayload,
    @Arg('sweepId', () => ID) _sweepId: string,
  ): SweepEventPayload {
    return event
  }
}
