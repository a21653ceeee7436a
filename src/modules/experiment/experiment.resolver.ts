import { Arg, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql'
import { isId } from '../common/ids'
import { pageArgs, toConnection } from '../common/pagination'
import { RunService } from '../run/run.service'
import { RunConnection } from '../run/run.type'
import { ExperimentRepository } from './experiment.repository'
import { Experiment } from './experiment.type'
import { ExperimentConnection } from './experiment.connection'

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
}
