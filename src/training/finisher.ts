import type { Db } from '../db/client'
import { EXPLAIN_DEFAULTS, explainModel } from '../explain/explain-model'
import { createRng, sampleIndices } from '../explain/random'
import { ExplanationMethod } from '../explain/types'
import type { Logger } from '../logger'
import type { DatasetContent } from '../modules/dataset/dataset.content'
import { Task } from '../modules/dataset/dataset.enums'
import type { StoredExplanationResult } from '../modules/explanation/explanation.repository'
import { NewExplanation, RunRecord, RunRepository, StoredModel } from '../modules/run/run.repository'
import { RunStatus } from '../modules/run/run.status'
import type { TrainResult } from './train'

/** Training rows kept with the explanation as the Shapley background of instance explanations. */
const INSTANCE_BACKGROUND_ROWS = 32

/**
 * What happens after the last epoch: the model is explained (unless the run turned explanations
 * off), then model, explanation and SUCCEEDED are stored in one transaction. The explanation is
 * announced before the status change, so subscribers get it before SUCCEEDED.
 */
export class RunFinisher {
  private readonly runs: RunRepository

  constructor(
    db: Db,
    private readonly logger: Logger,
    private readonly sizes: { maxEvalRows: number; sampleSize: number } = {
      maxEvalRows: EXPLAIN_DEFAULTS.maxEvalRows,
      sampleSize: EXPLAIN_DEFAULTS.sampleSize,
    },
  ) {
    this.runs = new RunRepository(db)
  }

  async finish(
    run: RunRecord,
    content: DatasetContent,
    result: TrainResult,
    model: StoredModel,
  ): Promise<void> {
    let explanation: NewExplanation | undefined
    const methods = run.explainMethods as ExplanationMethod[]
    if (methods.length > 0) {
      try {
        explanation = await this.explain(run, content, result, methods)
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err)
        this.logger.error({ err, runId: run.id }, 'explaining the model failed')
        await this.runs.finish(run.id, run.attempt, RunStatus.FAILED, {
          model,
          error: `training succeeded but explaining the model failed: ${message}`,
        })
        return
      }
    }
    await this.runs.finish(run.id, run.attempt, RunStatus.SUCCEEDED, {
      model,
      ...(explanation ? { explanation } : {}),
    })
  }

  private async explain(
    run: RunRecord,
    content: DatasetContent,
    result: TrainResult,
    methods: ExplanationMethod[],
  ): Promise<NewExplanation> {
    const predictor = result.predictor
    if (!predictor) throw new Error('the trainer did not keep the trained model')
    if (content.task === Task.UNSUPERVISED)
      throw new Error('an UNSUPERVISED dataset has no target to explain')
    const m = content.featureNames.length
    const row = (i: number) => content.features.subarray(i * m, (i + 1) * m)
    const trainRows = result.trainIndices.map(row)
    // Explanations use the held-out rows; a run without a validation split has none, and falls back
    // to its training rows (its explanation then says how the model fits what it has seen).
    const evalIndices = result.holdoutIndices.length > 0 ? result.holdoutIndices : result.trainIndices
    const evalRows = evalIndices.map(row)
    const evalTargets = Float64Array.from(evalIndices, (i) => content.targets[i]!)
    const started = performance.now()
    const explained = await explainModel({
      predict: (rows) => predictor.logit(rows),
      gradient: (rows) => predictor.gradient(rows),
      featureNames: content.featureNames,
      task: content.task,
      trainRows,
      evalRows,
      evalTargets,
      methods,
      seed: run.seed,
      maxEvalRows: this.sizes.maxEvalRows,
      sampleSize: this.sizes.sampleSize,
      shapleySampleSize: Math.min(EXPLAIN_DEFAULTS.shapleySampleSize, this.sizes.sampleSize),
    })
    const computeMs = performance.now() - started
    const rng = createRng(run.seed, 'instance-background')
    const background = sampleIndices(
      trainRows.length,
      Math.min(INSTANCE_BACKGROUND_ROWS, trainRows.length),
      rng,
    ).map((i) => Array.from(trainRows[i]!))
    const { cost, computeMs: _inner, ...rest } = explained
    const stored: StoredExplanationResult = {
      ...rest,
      baseline: result.normalization.mean,
      background,
      evaluationRows: Math.min(evalRows.length, this.sizes.maxEvalRows),
    }
    this.logger.info({ runId: run.id, computeMs: Math.round(computeMs) }, 'model explained')
    return { methods: explained.methods, result: stored, computeMs, cost }
  }
}
