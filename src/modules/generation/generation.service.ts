import { randomInt } from 'node:crypto'
import { notFound } from '../../errors'
import type { LatentCode, LatentExplanationResult } from '../../models/family'
import { isId } from '../common/ids'
import type { DatasetService } from '../dataset/dataset.service'
import type { ModelQueries } from '../run/prediction.service'
import type { RunRepository } from '../run/run.repository'

export { MAX_LATENT_MAGNITUDE, MAX_TEMPERATURE } from '../run/model-query'

/**
 * Queries of trained generative models: sample, encode, decode, reconstruct, explainLatent. The checks and
 * the computation are {@link answerQuery}'s (src/modules/run/model-query.ts), on a query thread.
 */
export class GenerationService {
  constructor(
    private readonly models: ModelQueries,
    private readonly runs: RunRepository,
    private readonly datasets: DatasetService,
  ) {}

  sample(
    runId: string,
    n: number,
    seed: number | null | undefined,
    temperature: number | null | undefined,
  ): Promise<number[][]> {
    const chosenSeed = seed ?? randomInt(0, 2 ** 31 - 1)
    return this.models.answer(runId, { kind: 'sample', n, seed: chosenSeed, temperature: temperature ?? 1 })
  }

  encode(runId: string, rows: number[][]): Promise<LatentCode[]> {
    return this.models.answer(runId, { kind: 'encode', rows })
  }

  decode(runId: string, latents: number[][]): Promise<number[][]> {
    return this.models.answer(runId, { kind: 'decode', latents })
  }

  reconstruct(runId: string, rows: number[][]): Promise<number[][]> {
    return this.models.answer(runId, { kind: 'reconstruct', rows })
  }

  async explainLatent(
    runId: string,
    latent: number[],
    baseline: number[] | null | undefined,
  ): Promise<LatentExplanationResult> {
    const run = isId(runId) ? await this.runs.findById(runId) : null
    if (!run) throw notFound('run', runId)
    const dataset = await this.datasets.require(run.datasetId)
    return this.models.answer(runId, {
      kind: 'explainLatent',
      latent,
      baseline: baseline ?? null,
      featureNames: dataset.featureNames,
    })
  }
}
