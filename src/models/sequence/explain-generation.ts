/**
 * Why a text model wrote each character: generate after a prompt (or teacher-force a given target), then
 * attribute the log-probability of every generated character to each earlier character of its context with
 * the token attribution methods (src/explain/token-attribution.ts). A pure function of its arguments; the
 * query thread runs it for `explainGeneration`, the worker for the global explanation.
 */
import {
  attributeSteps,
  separateScorers,
  stepEvaluations,
  type StepExplanation,
  type StepScorers,
  type TokenAttributionMethod,
  type TokenAttributionSettings,
} from '../../explain/token-attribution'
import { tokenOf } from '../../modules/dataset/text'
import type { AttributableTextModel, ScoredStep } from '../family'
import { entropy, generateTokens } from './sampling'

/** Steps attributed together (see explainGeneration). */
const STEPS_TOGETHER = 64

/** Said in every result: what "at the baseline" means for a context position. */
export const TOKEN_BASELINE = 'ZERO'

export interface TokenAttribution {
  method: TokenAttributionMethod
  /** The generated character, counted from 0. */
  target: number
  /** The context character: prompt positions first, then the generated characters. */
  source: number
  value: number
}

/** Per method, over the steps. */
export interface TokenMethodCheck {
  method: TokenAttributionMethod
  /** |sum_s a_s - (log p(y_t | ctx) - log p(y_t | baseline context))|, largest and mean over the steps. */
  maxGap: number
  meanGap: number
  /** SHAPLEY: the largest standard error of one value over the steps (0 when exact). */
  maxStdError: number | null
  /** LINEAR_SURROGATE: the worst and the mean held-out R^2 over the steps. */
  minFidelityR2: number | null
  meanFidelityR2: number | null
  /** INTEGRATED_GRADIENTS: the most quadrature points a step needed; SHAPLEY: permutations (0: exact). */
  maxSteps: number | null
}

export interface TokenMethodCost {
  method: TokenAttributionMethod
  ms: number
  evaluations: number
}

export interface StepScore {
  /** p(y_t | context) under the model (temperature 1). */
  probability: number
  /** Entropy of the next-character distribution, nats. */
  entropy: number
}

/** GraphQL `GenerationExplanation`. */
export interface GenerationExplanationResult {
  sourceTokens: string[]
  targetTokens: string[]
  baseline: string
  /** Positions (of prompt + generated) each step's context starts at: earlier ones are outside the window. */
  contextStarts: number[]
  stepScores: StepScore[]
  attributions: TokenAttribution[]
  checks: TokenMethodCheck[]
  costs: TokenMethodCost[]
}

export interface ExplainGenerationOptions {
  model: AttributableTextModel
  /** Symbols of the prompt (at least one). */
  prompt: readonly number[]
  /** Teacher-forced symbols; null: generate `maxTokens` with `temperature` and `seed`. */
  target: readonly number[] | null
  maxTokens: number
  temperature: number
  seed: number
  methods: readonly TokenAttributionMethod[]
  settings?: Partial<TokenAttributionSettings>
}

/** The explained steps: the generated (or forced) symbols and the context window of each. */
export function generationSteps(options: Omit<ExplainGenerationOptions, 'methods' | 'settings'>): {
  targets: number[]
  contexts: number[][]
  starts: number[]
} {
  const { model, prompt } = options
  const targets =
    options.target !== null
      ? [...options.target]
      : Array.from(
          generateTokens(model, prompt, {
            maxTokens: options.maxTokens,
            temperature: options.temperature,
            topK: null,
            seed: options.seed,
          }),
          (t) => t.symbol,
        )
  const text = [...prompt, ...targets]
  const contexts: number[][] = []
  const starts: number[] = []
  targets.forEach((_, t) => {
    const end = prompt.length + t
    const start = Math.max(0, end - model.contextLength)
    starts.push(start)
    contexts.push(text.slice(start, end))
  })
  return { targets, contexts, starts }
}

/** Model evaluations an explanation of `steps` characters makes at most, for budgets checked up front. */
export function generationEvaluations(
  contextLength: number,
  promptLength: number,
  steps: number,
  methods: readonly TokenAttributionMethod[],
  settings: Partial<TokenAttributionSettings> = {},
): number {
  let total = 0
  for (let t = 0; t < steps; t++) {
    total += 1 + stepEvaluations(Math.min(contextLength, promptLength + t), methods, settings)
  }
  return total
}

export function explainGeneration(options: ExplainGenerationOptions): GenerationExplanationResult {
  const { model, prompt, methods } = options
  const { targets, contexts, starts } = generationSteps(options)
  const distributions = contexts.length > 0 ? model.nextDistributions(contexts) : []
  const stepScores = distributions.map((p, t) => ({ probability: p[targets[t]!]!, entropy: entropy(p) }))
  const attributions: TokenAttribution[] = []
  const perMethod = new Map(
    methods.map((m) => [
      m,
      {
        ms: 0,
        evaluations: 0,
        gaps: [] as number[],
        errors: [] as number[],
        r2: [] as number[],
        steps: [] as number[],
      },
    ]),
  )
  // Steps together: v(1) and v(0) are evaluated once for all methods, and each method's rounds score the masks
  // of up to STEPS_TOGETHER steps in one call (a bound on the masks held at once: a step's Shapley alone asks for
  // about 1,000 at the defaults).
  const explained: StepExplanation[] = []
  for (let first = 0; first < contexts.length; first += STEPS_TOGETHER) {
    const group = contexts.slice(first, first + STEPS_TOGETHER)
    explained.push(
      ...attributeSteps(
        stepScorersOf(
          model,
          group.map((context, k) => ({ context, target: targets[first + k]! })),
        ),
        methods,
        group.map((_, k) => `${options.seed}:${first + k}`),
        options.settings,
      ),
    )
  }
  explained.forEach((step, t) => {
    for (const method of methods) {
      const a = step.byMethod.get(method)!
      const acc = perMethod.get(method)!
      acc.ms += a.ms
      acc.evaluations += a.evaluations
      acc.gaps.push(a.gap)
      if (a.stdError !== null) acc.errors.push(a.stdError)
      if (a.fidelityR2 !== null) acc.r2.push(a.fidelityR2)
      if (a.steps !== null) acc.steps.push(a.steps)
      a.values.forEach((value, j) => attributions.push({ method, target: t, source: starts[t]! + j, value }))
    }
  })
  const vocabulary = model.vocabulary
  return {
    sourceTokens: prompt.map((id) => tokenOf(vocabulary, id)),
    targetTokens: targets.map((id) => tokenOf(vocabulary, id)),
    baseline: TOKEN_BASELINE,
    contextStarts: starts,
    stepScores,
    attributions,
    checks: methods.map((method) => {
      const acc = perMethod.get(method)!
      return {
        method,
        maxGap: max(acc.gaps),
        meanGap: mean(acc.gaps),
        maxStdError: acc.errors.length > 0 ? max(acc.errors) : null,
        minFidelityR2: acc.r2.length > 0 ? Math.min(...acc.r2) : null,
        meanFidelityR2: acc.r2.length > 0 ? mean(acc.r2) : null,
        maxSteps: acc.steps.length > 0 ? max(acc.steps) : null,
      }
    }),
    costs: methods.map((method) => {
      const acc = perMethod.get(method)!
      return { method, ms: acc.ms, evaluations: acc.evaluations }
    }),
  }
}

/** The model's batched scorers of some steps, or (a model without them) each step's own scorer. */
export function stepScorersOf(model: AttributableTextModel, steps: readonly ScoredStep[]): StepScorers {
  return (
    model.positionScorers?.(steps) ??
    separateScorers(steps.map(({ context, target }) => model.positionScorer(context, target)))
  )
}

function max(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => Math.max(a, b), -Infinity)
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length
}
