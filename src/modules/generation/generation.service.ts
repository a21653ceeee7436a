import { randomInt } from 'node:crypto'
import { Repeater } from '@graphql-yoga/subscription'
import { badInput, notFound } from '../../errors'
import { yieldToEventLoop } from '../../models/common/random'
import type { LatentCode, LatentExplanationResult, LoadedModel, TextModel } from '../../models/family'
import { generateTokens, type GeneratedToken, type SamplingOptions } from '../../models/sequence/sampling'
import { characters } from '../dataset/text'
import { isId } from '../common/ids'
import type { DatasetService } from '../dataset/dataset.service'
import { checkRows, finiteAnswer, MAX_PREDICT_ROWS, PredictionService } from '../run/prediction.service'
import type { RunRepository } from '../run/run.repository'

/** Largest |z| accepted: latents live on the scale of the N(0, I) prior; far beyond it outputs mean nothing. */
export const MAX_LATENT_MAGNITUDE = 1000
export const MAX_TEMPERATURE = 10
/** Default of LAB_MAX_GENERATE_TOKENS: the most tokens one generate call may ask for. */
export const DEFAULT_MAX_GENERATE_TOKENS = 1000
/** Tokens generated when maxTokens is not given (at most the cap). */
export const DEFAULT_GENERATE_TOKENS = 100

/** What `generate` and `generationEvents` take besides the run and the prompt; null means the default. */
export interface GenerateArgs {
  maxTokens?: number | null | undefined
  temperature?: number | null | undefined
  topK?: number | null | undefined
  seed?: number | null | undefined
}

/** Queries of trained generative models: sample, encode, decode, reconstruct, explainLatent, generate. */
export class GenerationService {
  constructor(
    private readonly predictions: PredictionService,
    private readonly runs: RunRepository,
    private readonly datasets: DatasetService,
    private readonly maxGenerateTokens = DEFAULT_MAX_GENERATE_TOKENS,
  ) {}

  /** Text after a prompt from a SEQUENCE run, all tokens at once. */
  generate(
    runId: string,
    prompt: string,
    args: GenerateArgs,
  ): Promise<{ text: string; tokens: GeneratedToken[] }> {
    return this.predictions.withModel(runId, (model) => {
      const text = textModelOf(runId, model)
      const { symbols, options } = this.checkGenerate(text, prompt, args)
      const tokens = [...generateTokens(text, symbols, options)]
      return { text: tokens.map((t) => t.token).join(''), tokens }
    })
  }

  /**
   * The same tokens as {@link generate} with the same arguments, pushed one by one as they are produced (the
   * event loop gets a turn between tokens); completes after the last. Bad input is refused before the stream
   * starts. The model stays leased until the stream ends or the subscriber leaves.
   */
  async generateStream(
    runId: string,
    prompt: string,
    args: GenerateArgs,
  ): Promise<AsyncIterable<GeneratedToken>> {
    const { symbols, options } = await this.predictions.withModel(runId, (model) =>
      this.checkGenerate(textModelOf(runId, model), prompt, args),
    )
    return new Repeater<GeneratedToken>(async (push, stop) => {
      let stopped = false
      void stop.then(() => {
        stopped = true
      })
      try {
        await this.predictions.withModel(runId, async (model) => {
          for (const token of generateTokens(textModelOf(runId, model), symbols, options)) {
            if (stopped) return
            await push(token)
            await yieldToEventLoop()
          }
        })
        stop()
      } catch (err) {
        stop(err)
      }
    })
  }

  private checkGenerate(
    model: TextModel,
    prompt: string,
    args: GenerateArgs,
  ): { symbols: number[]; options: SamplingOptions } {
    if (prompt.length === 0) throw badInput('prompt must not be empty', { field: 'prompt' })
    const index = new Map(model.vocabulary.map((c, i) => [c, i]))
    const chars = characters(prompt)
    const unknown = [...new Set(chars.filter((c) => !index.has(c)))]
    if (unknown.length > 0) {
      const shown = unknown
        .slice(0, 10)
        .map((c) => JSON.stringify(c))
        .join(', ')
      throw badInput(`prompt has characters outside the model's vocabulary: ${shown}`, { field: 'prompt' })
    }
    const maxTokens = args.maxTokens ?? Math.min(DEFAULT_GENERATE_TOKENS, this.maxGenerateTokens)
    if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > this.maxGenerateTokens) {
      throw badInput(
        `maxTokens is ${maxTokens}; it must be from 1 to ${this.maxGenerateTokens} (LAB_MAX_GENERATE_TOKENS)`,
        {
          field: 'maxTokens',
        },
      )
    }
    const temperature = args.temperature ?? 1
    if (!Number.isFinite(temperature) || temperature < 0 || temperature > MAX_TEMPERATURE) {
      throw badInput(`temperature must be between 0 and ${MAX_TEMPERATURE}`, { field: 'temperature' })
    }
    const symbolCount = model.vocabulary.length + 1
    const topK = args.topK ?? null
    if (topK !== null && (!Number.isInteger(topK) || topK < 1 || topK > symbolCount)) {
      throw badInput(`topK must be from 1 to the model's ${symbolCount} symbols`, { field: 'topK' })
    }
    const seed = args.seed ?? randomInt(0, 2 ** 31 - 1)
    return {
      symbols: chars.map((c) => index.get(c)!),
      options: { maxTokens, temperature, topK, seed },
    }
  }

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

function textModelOf(runId: string, model: LoadedModel): TextModel {
  if (!model.text) {
    throw badInput(`run ${runId} is not a text model (train family: SEQUENCE on a TEXT dataset)`, {
      field: 'runId',
    })
  }
  return model.text
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
