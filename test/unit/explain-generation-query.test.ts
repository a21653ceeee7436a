import { AppError } from '../../src/errors'
import { TOKEN_METHODS, TokenAttributionMethod } from '../../src/explain/token-attribution'
import type { AttributableTextModel, LoadedModel } from '../../src/models/family'
import { generationEvaluations } from '../../src/models/sequence/explain-generation'
import {
  answerQuery,
  checkExplainGeneration,
  DEFAULT_EXPLAIN_TOKENS,
  type ExplainGenerationQuery,
} from '../../src/modules/run/model-query'

const LAG = 2
const STRENGTH = 3
const VOCABULARY = ['a', 'b', 'c']
const SYMBOLS = VOCABULARY.length + 1

/**
 * A next-character model without a network: logits z_y = STRENGTH [ctx at distance LAG is y], so it copies the
 * character LAG back, and log p(target) as a function of the position mask has a closed-form gradient.
 */
function copyModel(contextLength = 5): AttributableTextModel {
  const logProbs = (context: readonly number[], mask: ArrayLike<number>) => {
    const j = context.length - LAG
    const z = new Float64Array(SYMBOLS)
    if (j >= 0) z[context[j]!] = STRENGTH * mask[j]!
    const norm = Math.log(z.reduce((acc, v) => acc + Math.exp(v), 0))
    return { j, logP: Array.from(z, (v) => v - norm) }
  }
  return {
    vocabulary: VOCABULARY,
    contextLength,
    nextDistributions: (contexts) =>
      contexts.map((c) => Float64Array.from(logProbs(c, new Float64Array(c.length).fill(1)).logP, Math.exp)),
    positionScorer: (context, target) => ({
      positions: context.length,
      score: (masks) => Float64Array.from(masks, (m) => logProbs(context, m).logP[target]!),
      gradient: (masks) =>
        masks.map((m) => {
          const { j, logP } = logProbs(context, m)
          const g = new Float64Array(context.length)
          if (j >= 0) {
            const c = context[j]!
            g[j] = STRENGTH * ((c === target ? 1 : 0) - Math.exp(logP[c]!))
          }
          return g
        }),
    }),
  }
}

function query(overrides: Partial<ExplainGenerationQuery> = {}): ExplainGenerationQuery {
  return {
    kind: 'explainGeneration',
    prompt: 'abc',
    target: null,
    maxTokens: null,
    maxGenerateTokens: 50,
    maxEvaluations: 1_000_000,
    methods: null,
    temperature: 0,
    seed: 0,
    ...overrides,
  }
}

function refusal(run: () => unknown): { code: string; field: unknown } {
  try {
    run()
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, field: err.details['field'] }
    throw err
  }
  throw new Error('not refused')
}

describe('checkExplainGeneration', () => {
  const model = copyModel()

  it('fills the defaults: every method, DEFAULT_EXPLAIN_TOKENS characters (at most the cap), greedy', () => {
    const options = checkExplainGeneration(model, query())
    expect(options).toMatchObject({ prompt: [0, 1, 2], target: null, temperature: 0, seed: 0 })
    expect(options.methods).toEqual(TOKEN_METHODS)
    expect(options.maxTokens).toBe(DEFAULT_EXPLAIN_TOKENS)
    expect(checkExplainGeneration(model, query({ maxGenerateTokens: 7 })).maxTokens).toBe(7)
    const forced = checkExplainGeneration(model, query({ target: 'cab' }))
    expect(forced).toMatchObject({ target: [2, 0, 1], maxTokens: 3 })
  })

  it.each<[string, Partial<ExplainGenerationQuery>, string]>([
    ['an empty prompt', { prompt: '' }, 'prompt'],
    ['a prompt character outside the vocabulary', { prompt: 'abd' }, 'prompt'],
    ['a NUL in the prompt', { prompt: 'a\u0000b' }, 'prompt'],
    ['an empty target', { target: '' }, 'target'],
    ['a target character outside the vocabulary', { target: 'aXb' }, 'target'],
    ['a target longer than the cap', { target: 'ab'.repeat(26) }, 'target'],
    ['target and maxTokens together', { target: 'ab', maxTokens: 2 }, 'maxTokens'],
    ['maxTokens 0', { maxTokens: 0 }, 'maxTokens'],
    ['maxTokens above the cap', { maxTokens: 51 }, 'maxTokens'],
    ['a fractional maxTokens', { maxTokens: 1.5 }, 'maxTokens'],
    ['a negative temperature', { temperature: -0.1 }, 'temperature'],
    ['a temperature above the maximum', { temperature: 11 }, 'temperature'],
    ['a NaN temperature', { temperature: Number.NaN }, 'temperature'],
    ['no methods', { methods: [] }, 'methods'],
    [
      'a method twice',
      {
        methods: [
          TokenAttributionMethod.OCCLUSION,
          TokenAttributionMethod.SHAPLEY,
          TokenAttributionMethod.OCCLUSION,
        ],
      },
      'methods',
    ],
  ])('refuses %s with BAD_USER_INPUT naming the field', (_, overrides, field) => {
    expect(refusal(() => checkExplainGeneration(model, query(overrides)))).toEqual({
      code: 'BAD_USER_INPUT',
      field,
    })
  })

  it('refuses an explanation above the evaluation budget, and takes one at the budget', () => {
    const methods = [TokenAttributionMethod.OCCLUSION, TokenAttributionMethod.INTEGRATED_GRADIENTS]
    const needed = generationEvaluations(model.contextLength, 3, 10, methods)
    const at = query({ maxTokens: 10, methods, maxEvaluations: needed })
    expect(checkExplainGeneration(model, at).maxTokens).toBe(10)
    const over = { ...at, maxEvaluations: needed - 1 }
    expect(refusal(() => checkExplainGeneration(model, over))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'maxTokens',
    })
    expect(() => checkExplainGeneration(model, over)).toThrow(/LAB_MAX_EXPLAIN_EVALUATIONS/)
    const forced = { ...over, maxTokens: null, target: 'abcabcabca' }
    expect(refusal(() => checkExplainGeneration(model, forced)).field).toBe('target')
  })
})

describe("answerQuery('explainGeneration')", () => {
  const text = copyModel()
  const loaded: LoadedModel = { featureCount: SYMBOLS, text, dispose: () => undefined }

  it('explains greedy generation: each character copies the one LAG back, and every method says so', () => {
    const answer = answerQuery(loaded, 'run', query({ prompt: 'abca', maxTokens: 6 }))
    expect(answer.sourceTokens).toEqual(['a', 'b', 'c', 'a'])
    expect(answer.targetTokens.join('')).toBe('cacaca')
    expect(answer.baseline).toBe('ZERO')
    // The window is the last 5 characters of prompt + generated text.
    expect(answer.contextStarts).toEqual([0, 0, 1, 2, 3, 4])
    for (const method of TOKEN_METHODS) {
      for (let t = 0; t < 6; t++) {
        const rows = answer.attributions.filter((a) => a.method === method && a.target === t)
        expect(rows.map((a) => a.source)).toEqual(
          Array.from({ length: 4 + t - answer.contextStarts[t]! }, (_, j) => answer.contextStarts[t]! + j),
        )
        const top = rows.reduce((best, a) => (Math.abs(a.value) > Math.abs(best.value) ? a : best))
        expect([method, t, 4 + t - top.source]).toEqual([method, t, LAG])
      }
    }
    expect(answer.checks.map((c) => c.method)).toEqual(TOKEN_METHODS)
    expect(answer.costs.every((c) => c.evaluations > 0)).toBe(true)
  })

  it('teacher-forces a target: its characters are explained, with their probabilities under the model', () => {
    const answer = answerQuery(loaded, 'run', query({ prompt: 'ab', target: 'abb' }))
    expect(answer.targetTokens).toEqual(['a', 'b', 'b'])
    const copied = Math.exp(STRENGTH) / (Math.exp(STRENGTH) + SYMBOLS - 1)
    // 'a' and 'b' copy the character LAG back; the last 'b' does not ('a' was expected).
    expect(answer.stepScores.map((s) => s.probability)).toEqual([
      expect.closeTo(copied, 12),
      expect.closeTo(copied, 12),
      expect.closeTo((1 - copied) / (SYMBOLS - 1), 12),
    ])
  })

  it('refuses a model that is not a text model with BAD_USER_INPUT', () => {
    const table: LoadedModel = { featureCount: 2, dispose: () => undefined }
    expect(refusal(() => answerQuery(table, 'run', query()))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'runId',
    })
  })
})
