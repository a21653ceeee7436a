import type { Db } from '../db/client'
import type { Logger } from '../logger'
import type { DatasetContent } from '../modules/dataset/dataset.content'
import { RunRecord, RunRepository, StoredModel } from '../modules/run/run.repository'
import { RunStatus } from '../modules/run/run.status'
import type { TrainResult } from './train'

/**
 * What happens after the last epoch: the model is stored and the run turns SUCCEEDED. (The
 * explanations step slots in here, before SUCCEEDED, so subscribers get it first.)
 */
export class RunFinisher {
  private readonly runs: RunRepository

  constructor(db: Db, _logger: Logger) {
    this.runs = new RunRepository(db)
  }

  async finish(
    run: RunRecord,
    _content: DatasetContent,
    _result: TrainResult,
    model: StoredModel,
  ): Promise<void> {
    await this.runs.finish(run.id, run.attempt, RunStatus.SUCCEEDED, { model })
  }
}
