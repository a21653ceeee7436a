import type { Db } from '../db/client'
import { EXPLAIN_DEFAULTS } from '../explain/explain-model'
import type { ExplanationMethod } from '../explain/types'
import type { Logger } from '../logger'
import type { ExplainSizes, TrainedRun } from '../models/family'
import { NewExplanation, RunRecord, RunRepository } from '../modules/run/run.repository'
import { RunStatus } from '../modules/run/run.status'
import { storedError } from '../modules/common/stored-error'

/**
 * What happens after the last epoch: the family explains its model (unless the run turned explanations
 * off), then model, explanation and SUCCEEDED are stored in one transaction. The explanation is
 * announced before the status change, so subscribers get it before SUCCEEDED.
 */
export class RunFinisher {
  private readonly runs: RunRepository

  constructor(
    db: Db,
    private readonly logger: Logger,
    private readonly sizes: ExplainSizes = {
      maxEvalRows: EXPLAIN_DEFAULTS.maxEvalRows,
      sampleSize: EXPLAIN_DEFAULTS.sampleSize,
    },
  ) {
    this.runs = new RunRepository(db)
  }

  /**
   * Returns 'aborted' without writing anything when `signal` stopped the explanation (a shutdown or a cancel:
   * the caller decides what the run becomes).
   */
  async finish(run: RunRecord, trained: TrainedRun, signal?: AbortSignal): Promise<'done' | 'aborted'> {
    let explanation: NewExplanation | undefined
    const methods = run.explainMethods as ExplanationMethod[]
    if (methods.length > 0) {
      try {
        const started = performance.now()
        explanation = await trained.explain(methods, this.sizes, signal)
        this.logger.info(
          { runId: run.id, computeMs: Math.round(performance.now() - started) },
          'model explained',
        )
      } catch (err) {
        if (signal?.aborted) return 'aborted'
        this.logger.error({ err, runId: run.id }, 'explaining the model failed')
        await this.runs.finish(run.id, run.attempt, RunStatus.FAILED, {
          model: trained.model,
          error: `training succeeded but explaining the model failed: ${storedError(err, this.logger, { runId: run.id })}`,
        })
        return 'done'
      }
    }
    if (signal?.aborted) return 'aborted'
    await this.runs.finish(run.id, run.attempt, RunStatus.SUCCEEDED, {
      model: trained.model,
      ...(explanation ? { explanation } : {}),
    })
    return 'done'
  }
}
