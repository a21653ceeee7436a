import { randomInt } from 'node:crypto'
import { Repeater } from '@graphql-yoga/subscription'
import { notFound } from '../../errors'
import type { TokenAttributionMethod } from '../../explain/token-attribution'
import type { GenerationExplanationResult } from '../../models/sequence/explain-generation'
import type { LatentCode, LatentExplanationResult } from '../../models/family'
import type { GeneratedToken } from '../../models/sequence/sampling'
import { isId } from '../common/ids'
import type { DatasetService } from '../dataset/dataset.service'
import type { AnswerOptions, ModelQueries } from '../run/prediction.service'
import type { RunRepository } from '../run/run.repository'

export { MAX_LATENT_MAGNITUDE, MAX_TEMPERATURE } from '../run/model-query'

/** The configured caps of generation queries. */
export interface GenerationLimits {
  /** LAB_MAX_GENERATE_TOKENS: generated (or teacher-forced) characters per call (default 1000). */
  maxGenerateTokens: number
  /** LAB_MAX_EXPLAIN_EVALUATIONS: model evaluations one explainGeneration may make (default 250,000). */
  maxExplainEvaluations: number
}

/** What `generate` and `generationEvents` take besides the run and the prompt; null means the default. */
export interface GenerateArgs {
  maxTokens?: number | null | undefined
  temperature?: number | null | undefined
  topK?: number | null | undefined
  seed?: number | null | undefined
}

/** What `explainGeneration` takes besides the run and the prompt; null means the default. */
export interface ExplainGenerationArgs {
  target?: string | null | undefined
  maxTokens?: number | null | undefined
  methods?: TokenAttributionMethod[] | null | undefined
  seed?: number | null | undefined
  temperature?: number | null | undefined
}

/**
 * Queries of trained generative models: sample, encode, decode, reconstruct, explainLatent, generate,
 * explainGeneration. The checks and the computation are {@link answerQuery}'s (src/modules/run/model-query.ts),
 * on a query thread.
 */
export class GenerationService {
  constructor(
    private readonly models: ModelQueries,
    private readonly runs: RunRepository,
    private readonly datasets: DatasetService,
    private readonly limits: GenerationLimits,
  ) {}

  /** Text after a prompt from a SEQUENCE run, all tokens at once. */
  generate(
    runId: string,
    prompt: string,
    args: GenerateArgs,
    options: AnswerOptions = {},
  ): Promise<{ text: string; tokens: GeneratedToken[] }> {
    return this.models.answer(
      runId,
      {
        kind: 'generate',
        prompt,
        maxTokens: args.maxTokens ?? null,
        maxGenerateTokens: this.limits.maxGenerateTokens,
        temperature: args.temperature ?? 1,
        topK: args.topK ?? null,
        seed: args.seed ?? randomInt(0, 2 ** 31 - 1),
      },
      options,
    )
  }

  /**
   * Generates greedily (temperature 0 unless asked otherwise, so the same request explains the same text) or
   * teacher-forces `target`, and attributes each character's log-probability to its context. Seed 0 unless
   * given: it drives sampling at a positive temperature, the Shapley permutations and the surrogate's masks.
   */
  explainGeneration(
    runId: string,
    prompt: string,
    args: ExplainGenerationArgs,
  ): Promise<GenerationExplanationResult> {
    return this.models.answer(runId, {
      kind: 'explainGeneration',
      prompt,
      target: args.target ?? null,
      maxTokens: args.maxTokens ?? null,
      maxGenerateTokens: this.limits.maxGenerateTokens,
      maxEvaluations: this.limits.maxExplainEvaluations,
      methods: args.methods ?? null,
      temperature: args.temperature ?? 0,
      seed: args.seed ?? 0,
    })
  }

  /**
   * The same tokens as {@link generate} with the same arguments, one event each as the query thread chooses
   * them, then complete. Bad input is refused before the stream starts: the stream is returned once the first
   * token exists (or the generation ended), so a refusal is the subscription's error, not a stream's. A
   * subscriber that leaves ends the generation at its next token.
   */
  async generateStream(
    runId: string,
    prompt: string,
    args: GenerateArgs,
  ): Promise<AsyncIterable<GeneratedToken>> {
    const controller = new AbortController()
    const tokens: GeneratedToken[] = []
    let wake = (): void => undefined
    const changed = () => new Promise<void>((resolve) => (wake = resolve))
    let next = changed()
    const signalled = () => {
      wake()
      next = changed()
    }
    const generation = this.generate(runId, prompt, args, {
      onToken: (token) => {
        tokens.push(token)
        signalled()
      },
      signal: controller.signal,
    })
    let ended = false
    let failure: { error: unknown } | null = null
    generation.then(
      () => {
        ended = true
        signalled()
      },
      (error: unknown) => {
        ended = true
        failure = { error }
        signalled()
      },
    )
    while (tokens.length === 0 && !ended) await next
    const refused = failure as { error: unknown } | null
    if (refused && tokens.length === 0) throw refused.error
    return new Repeater<GeneratedToken>(async (push, stop) => {
      void stop.then(() => controller.abort())
      let sent = 0
      for (;;) {
        while (sent < tokens.length) await push(tokens[sent++]!)
        if (ended) break
        const stopped = await Promise.race([next.then(() => false), stop.then(() => true)])
        if (stopped) return
      }
      const failed = failure as { error: unknown } | null
      if (failed) throw failed.error
      stop()
    })
  }

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
