import { randomInt } from 'node:crypto'
import { badInput, notFound } from '../../errors'
import type { LatentCode, LatentExplanationResult } from '../../models/family'
import { isId } from '../common/ids'
import type { DatasetService } from '../dataset/dataset.service'
import { checkRows, finiteAnswer, MAX_PREDICT_ROWS, PredictionService } from '../run/prediction.service'
import type { RunRepository } from '../run/run.repository'

/** Largest |z| accepted: latents live on the scale of the N(0, I) prior; far beyond it outputs mean nothing. */
export const MAX_LATENT_MAGNITUDE = 1000
export const MAX_TEMPERATURE = 10

/** Queries of trained generative models: sample, encode, decode, reconstruct, explainLatent. */
export class GenerationService {
  constructor(
    private readonly predictions: PredictionService,
    private readonly runs: RunRepository,
    private readonly datasets: DatasetService,
  ) {}

  async sample(
    runId: string,
    n: number,
    seed: number | null | undefined,
    temperature: number | null | undefined,
  ): Promise<number[][]> {
    return this.predictions.withGenerator(runId, (model) => {
      if (!Number.isInteger(n) || n < 1 || n > MAX_PREDICT_ROWS) {
        throw badInput(`n must be between 1 and ${MAX_PREDICT_ROWS}`, { field: 'n' })
      }
      const t = temperature ?? 1
      if (!Number.isFinite(t) || t < 0 || t > MAX_TEMPERATURE) {
        throw badInput(`temperature must be between 0 and ${MAX_TEMPERATURE}`, { field: 'temperature' })
      }
      return finite(model.sample(n, seed ?? randomInt(0, 2 ** 31 - 1), t))
    })
  }

  encode(runId: string, rows: number[][]): Promise<LatentCode[]> {
    return this.predictions.withGenerator(runId, (model) => {
      checkRows(rows, model.featureCount)
      return finiteAnswer(model.encode(rows), 'rows')
    })
  }

  decode(runId: string, latents: number[][]): Promise<number[][]> {
    return this.predictions.withGenerator(runId, (model) => {
      checkLatents(latents, model.latentDim, 'latents')
      return finiteAnswer(model.decode(latents), 'latents')
    })
  }

  reconstruct(runId: string, rows: number[][]): Promise<number[][]> {
    return this.predictions.withGenerator(runId, (model) => {
      checkRows(rows, model.featureCount)
      return finiteAnswer(model.reconstruct(rows), 'rows')
    })
  }

  async explainLatent(
    runId: string,
    latent: number[],
    baseline: number[] | null | undefined,
  ): Promise<LatentExplanationResult> {
    return this.predictions.withGenerator(runId, async (model) => {
      checkLatents([latent], model.latentDim, 'latent')
      const base = baseline ?? new Array<number>(model.latentDim).fill(0)
      checkLatents([base], model.latentDim, 'baseline')
      const run = isId(runId) ? await this.runs.findById(runId) : null
      if (!run) throw notFound('run', runId)
      const dataset = await this.datasets.require(run.datasetId)
      return model.explainLatent(latent, base, dataset.featureNames)
    })
  }
}

function checkLatents(latents: number[][], latentDim: number, field: string): void {
  checkRows(latents, latentDim, field)
  latents.forEach((z, i) => {
    if (z.some((v) => Math.abs(v) > MAX_LATENT_MAGNITUDE)) {
      throw badInput(`${field} ${i} has a value beyond +-${MAX_LATENT_MAGNITUDE}`, { field, row: i })
    }
  })
}

/** Outputs are finite for any accepted input; anything else is a bug, not something to send as JSON. */
function finite(rows: number[][]): number[][] {
  if (!rows.every((r) => r.every(Number.isFinite))) throw new Error('the decoder produced a non-finite value')
  return rows
}
