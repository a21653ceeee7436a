import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql'
import type { AppContext } from '../../app'
import { ExplanationMethod } from '../../explain/types'
import { Run } from '../run/run.type'
import { ExplanationService } from './explanation.service'
import { Explanation, InstanceExplanation } from './explanation.type'

@Resolver(() => Run)
export class ExplanationResolver {
  constructor(private readonly service: ExplanationService) {}

  @FieldResolver(() => Explanation, {
    nullable: true,
    description: 'Computed by the worker after training, before the run turns SUCCEEDED.',
  })
  explanation(@Root() run: Run, @Ctx() ctx: AppContext) {
    return ctx.loaders.explanation.load(run.id)
  }

  @Query(() => InstanceExplanation, {
    description:
      'Attributes one prediction of a SUCCEEDED run (INTEGRATED_GRADIENTS, SHAPLEY, LINEAR_SURROGATE). ' +
      'Values explain the logit for classification, the prediction for regression; baseline defaults to the training mean.',
  })
  explainInstance(
    @Arg('runId', () => ID) runId: string,
    @Arg('row', () => [Number]) row: number[],
    @Arg('baseline', () => [Number], { nullable: true }) baseline: number[] | null,
    @Arg('methods', () => [ExplanationMethod], { nullable: true }) methods: ExplanationMethod[] | null,
  ) {
    return this.service.explainInstance(runId, row, baseline, methods)
  }
}
