import { instanceEvaluations } from '../../explain/explain-instance'
import { ExplanationMethod, InstanceExplanation } from '../../explain/types'
import { badInput, notFound } from '../../errors'
import { isId } from '../common/ids'
import type { DatasetService } from '../dataset/dataset.service'
import type { ModelQueries } from '../run/prediction.service'
import type { RunRepository } from '../run/run.repository'
import { ExplanationRecord, ExplanationRepository } from './explanation.repository'
import type { Explanation } from './explanation.type'

/** The methods `explainInstance` computes. */
export const INSTANCE_METHODS: readonly ExplanationMethod[] = [
  ExplanationMethod.LINEAR_SURROGATE,
  ExplanationMethod.INTEGRATED_GRADIENTS,
  ExplanationMethod.SHAPLEY,
]

/** Turns a stored explanation into its GraphQL shape. */
export function toExplanationView(record: ExplanationRecord): Explanation {
  const r = record.result
  return {
    methods: r.methods,
    linearSurrogate: r.linearSurrogate,
    surrogateNetwork: r.surrogateNetwork,
    featureImportance: r.featureImportance,
    partialDependence: r.partialDependence,
    checks: r.checks,
    // Explanations stored before generative families have none of these.
    latentTraversals: r.latentTraversals ?? [],
    latentSensitivity: r.latentSensitivity ?? [],
    generatorSurrogate: r.generatorSurrogate ?? [],
    generatorSurrogateR2: r.generatorSurrogateR2 ?? null,
    encoderAttribution: r.encoderAttribution ?? [],
    activeUnits: r.activeUnits ?? [],
    disentanglement: r.disentanglement ?? null,
    sampleFidelity: r.sampleFidelity ?? null,
    distanceProfile: r.distanceProfile ?? null,
    nextCharacterSurrogates: r.nextCharacterSurrogates ?? null,
    textSamples: r.textSamples ?? null,
    computeMs: record.computeMs,
    cost: Object.entries(record.cost).map(([method, c]) => ({
      method: method as ExplanationMethod,
      ms: c.ms,
      evaluations: c.evaluations,
    })),
    evaluationRows: r.evaluationRows,
    createdAt: record.createdAt,
  }
}

/** Explanations of trained models: the stored global ones, and single predictions on demand. */
export class ExplanationService {
  constructor(
    private readonly repo: ExplanationRepository,
    private readonly runs: RunRepository,
    private readonly datasets: DatasetService,
    private readonly models: ModelQueries,
    private readonly limits: { maxEvaluations: number },
  ) {}

  async forRun(runId: string): Promise<Explanation | null> {
    const record = await this.repo.findByRunId(runId)
    return record && toExplanationView(record)
  }

  async forRuns(runIds: readonly string[]): Promise<Map<string, Explanation>> {
    const records = await this.repo.findByRunIds(runIds)
    return new Map(records.map((r) => [r.runId, toExplanationView(r)]))
  }

  /**
   * Attributes one prediction of a trained run. What the store holds (the dataset, the global explanation's
   * surrogate, baseline and background) is read here, the request is checked against it and against the
   * evaluation budget, and only then does the computation go to a query thread.
   */
  async explainInstance(
    runId: string,
    row: number[],
    baseline: number[] | null | undefined,
    methods: ExplanationMethod[] | null | undefined,
  ): Promise<InstanceExplanation> {
    const run = isId(runId) ? await this.runs.findById(runId) : null
    if (!run) throw notFound('run', runId)
    const dataset = await this.datasets.require(run.datasetId)
    const wanted = methods ?? INSTANCE_METHODS
    if (wanted.length === 0) throw badInput('methods must not be empty', { field: 'methods' })
    const unsupported = wanted.filter((m) => !INSTANCE_METHODS.includes(m))
    if (unsupported.length > 0) {
      throw badInput(
        `explainInstance computes ${INSTANCE_METHODS.join(', ')}; not ${unsupported.join(', ')}`,
        {
          field: 'methods',
        },
      )
    }
    const stored = (await this.repo.findByRunId(runId))?.result
    const linearSurrogate = stored?.linearSurrogate ?? undefined
    if (wanted.includes(ExplanationMethod.LINEAR_SURROGATE) && !linearSurrogate) {
      if (methods)
        throw badInput('this run has no linear surrogate (it was turned off)', { field: 'methods' })
    }
    const chosen = wanted.filter((m) => m !== ExplanationMethod.LINEAR_SURROGATE || linearSurrogate)
    // With an explicit baseline, Shapley values are taken against it alone (as IG is).
    const background = baseline || !stored ? null : stored.background
    const evaluations = instanceEvaluations({
      methods: chosen,
      featureCount: dataset.featureNames.length,
      backgroundSize: background?.length ?? 1,
      surrogateFitted: true,
    })
    if (evaluations > this.limits.maxEvaluations) {
      throw badInput(
        `this explanation needs ${evaluations} model evaluations; the budget is ${this.limits.maxEvaluations} ` +
          '(LAB_MAX_EXPLAIN_EVALUATIONS): ask for fewer methods, or send a baseline (one Shapley background row)',
        { field: 'methods', evaluations, budget: this.limits.maxEvaluations },
      )
    }
    return this.models.answer(runId, {
      kind: 'explainInstance',
      row,
      baseline: baseline ?? null,
      defaultBaseline: stored?.baseline ?? dataset.featureStats.map((s) => s.mean),
      featureNames: dataset.featureNames,
      background,
      linearSurrogate: linearSurrogate ?? null,
      methods: chosen,
      seed: run.seed,
    })
  }
}
