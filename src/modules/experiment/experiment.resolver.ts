import { createUnionType, Field, ObjectType } from 'type-graphql'
import { Arg, FieldResolver, ID, Int, Query, Resolver, Root, Subscription } from 'type-graphql'
import type { AppContext } from '../../app'
import { Run, RunStatusChanged } from '../run/run.type'
import { RunProgress } from '../sweep/sweep.type'
import type { ExperimentEventPayload } from './experiment.events'
import { isId } from '../common/ids'
import { pageArgs, toConnection } from '../common/pagination'
import { RunService } from '../run/run.service'
import { RunConnection } from '../run/run.type'
import { ExperimentRepository } from './experiment.repository'
import { Experiment } from './experiment.type'
import { ExperimentConnection } from './experiment.connection'

@ObjectType()
export class RunCreated {
  @Field(() => Run)
  run!: Run
}

export const ExperimentEvent = createUnionType({
  name: 'ExperimentEvent',
  types: () => [RunCreated, RunStatusChanged, RunProgress] as const,
  resolveType: (v) => ('kind' in v ? RunCreated : 'epoch' in v ? RunProgress : RunStatusChanged),
})

@Resolver(() => Experiment)
export class ExperimentResolver {
  constructor(
    private readonly experimentRepo: ExperimentRepository,
    private readonly runService: RunService,
  ) {}

  @Query(() => Experiment, { nullable: true, description: 'By id or by name (give one).' })
  async experiment(
    @Arg('id', () => ID, { nullable: true }) id: string | null,
    @Arg('name', () => String, { nullable: true }) name: string | null,
  ) {
    if (id != null) return isId(id) ? this.experimentRepo.findById(id) : null
    if (name != null) return this.experimentRepo.findByName(name)
    return null
  }

  @Query(() => ExperimentConnection, { description: 'Newest first.' })
  async experiments(
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ) {
    return toConnection(await this.experimentRepo.list(pageArgs(first, after)))
  }

  @FieldResolver(() => RunConnection, { description: 'Newest first.' })
  async runs(
    @Root() experiment: Experiment,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ) {
    const page = await this.runService.search({ first, after, scope: { experimentId: experiment.id } })
    return toConnection(page, page.cursorOf)
  }

  @Subscription(() => ExperimentEvent, {
    description:
      "Runs created, status changes, and each run's progress at most every 250 ms, for live tables.",
    subscribe: ({ args, context }) =>
      (context as AppContext).experimentEvents.subscribe(args['experiment'] as string),
  })
  experimentEvents(
    @Root() event: ExperimentEventPayload,
    @Arg('experiment', () => String) _experiment: string,
  ): ExperimentEventPayload {
    return event
  }
}
