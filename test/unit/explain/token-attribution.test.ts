import {
  attributeStep,
  attributeSteps,
  separateScorers,
  stepEvaluations,
  TOKEN_METHODS,
  TokenAttributionMethod as M,
  type PositionScorer,
  type StepExplanation,
  type StepScorers,
} from '../../../src/explain/token-attribution'
import type { AttributableTextModel } from '../../../src/models/family'
import { SequenceArchitecture } from '../../../src/models/family.enums'
import { explainGeneration, generationEvaluations } from '../../../src/models/sequence/explain-generation'
import { SequenceModel } from '../../../src/models/sequence/model'
import { buildSequenceModel } from '../../../src/models/sequence/network'
import { selectBackend } from '../../../src/training/backend'

/** A scorer from a function of one mask and, optionally, its gradient (else central differences). */
function scorerOf(
  n: number,
  f: (m: Float64Array) => number,
  grad?: (m: Float64Array) => Float64Array,
): PositionScorer & { calls: number } {
  const scorer = {
    positions: n,
    calls: 0,
    score: (masks: readonly Float64Array[]) => {
      scorer.calls += masks.length
      return Float64Array.from(masks, f)
    },
    gradient: (masks: readonly Float64Array[]) => {
      scorer.calls += masks.length
      return masks.map((m) => (grad ? grad(m) : numericGradient(f, m)))
    },
  }
  return scorer
}

function numericGradient(f: (m: Float64Array) => number, m: Float64Array, h = 1e-5): Float64Array {
  return m.map((_, s) => {
    const up = m.slice()
    const down = m.slice()
    up[s] = up[s]! + h
    down[s] = down[s]! - h
    return (f(up) - f(down)) / (2 * h)
  })
}

/** A seeded stream of numbers in [-1, 1), so coefficients are not chosen to suit the methods. */
function coefficients(n: number, seed: number): Float64Array {
  let x = seed
  return Float64Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31
    return (x / 2 ** 31) * 2 - 1
  })
}

const linear = (c: Float64Array, b0: number) => (m: Float64Array) =>
  m.reduce((acc, v, s) => acc + v * c[s]!, b0)

describe('known answer: a score linear in the positions', () => {
  it.each([
    ['exact Shapley', 6],
    ['sampled Shapley', 20],
  ])('every method recovers the coefficients (%s, %i positions)', (_, n) => {
    const c = coefficients(n, n)
    const step = attributeStep(
      scorerOf(n, linear(c, -2.5), () => c.slice()),
      TOKEN_METHODS,
      7,
    )
    expect(step.score - step.baselineScore).toBeCloseTo(
      c.reduce((a, b) => a + b, 0),
      10,
    )
    for (const method of TOKEN_METHODS) {
      const a = step.byMethod.get(method)!
      a.values.forEach((v, s) => expect(v).toBeCloseTo(c[s]!, 9))
      expect(a.gap).toBeLessThan(1e-9)
    }
    const shap = step.byMethod.get(M.SHAPLEY)!
    expect(shap.stdError).toBeLessThan(1e-9)
    expect(shap.steps).toBe(n <= 10 ? 0 : 32)
    expect(step.byMethod.get(M.LINEAR_SURROGATE)!.fidelityR2).toBeCloseTo(1, 9)
    expect(step.byMethod.get(M.INTEGRATED_GRADIENTS)!.steps).toBe(16)
  })
})

describe('an interaction: v(m) = m0 m1 (+ m2)', () => {
  const f = (m: Float64Array) => m[0]! * m[1]! + m[2]!
  const step = attributeStep(scorerOf(3, f), TOKEN_METHODS, 1)
  const values = (method: M) => Array.from(step.byMethod.get(method)!.values)

  it('Shapley and IG split the interaction equally; occlusion counts it twice and its gap says so', () => {
    for (const [i, expected] of [0.5, 0.5, 1].entries()) {
      expect(values(M.SHAPLEY)[i]).toBeCloseTo(expected, 12)
      expect(values(M.INTEGRATED_GRADIENTS)[i]).toBeCloseTo(expected, 8)
    }
    expect(values(M.OCCLUSION)).toEqual([1, 1, 1])
    expect(step.byMethod.get(M.OCCLUSION)!.gap).toBeCloseTo(1, 12)
    expect(step.byMethod.get(M.SHAPLEY)!.gap).toBeLessThan(1e-12)
  })

  it('the linear surrogate cannot fit the product: its held-out R^2 is below 1', () => {
    const r2 = step.byMethod.get(M.LINEAR_SURROGATE)!.fidelityR2!
    expect(r2).toBeLessThan(0.99)
    expect(r2).toBeGreaterThan(0.3)
  })
})

describe('sampled Shapley against exact enumeration', () => {
  // A smooth, non-additive score on 12 positions: pairwise interactions and a saturation.
  const n = 12
  const c = coefficients(n, 3)
  const f = (m: Float64Array) => {
    let lin = 0
    for (let s = 0; s < n; s++) lin += c[s]! * m[s]!
    let pairs = 0
    for (let s = 0; s + 1 < n; s++) pairs += 0.7 * m[s]! * m[s + 1]! * c[(s + 5) % n]!
    return Math.tanh(lin) + pairs
  }
  const exact = attributeStep(scorerOf(n, f), [M.SHAPLEY], 0, { shapleyExactMaxPositions: 12 }).byMethod.get(
    M.SHAPLEY,
  )!

  it('lies within four standard errors of the exact values, and more permutations shrink the error', () => {
    const errors: number[] = []
    for (const permutations of [16, 256]) {
      const sampled = attributeStep(scorerOf(n, f), [M.SHAPLEY], 11, {
        shapleyExactMaxPositions: 4,
        shapleyPermutations: permutations,
      }).byMethod.get(M.SHAPLEY)!
      expect(sampled.steps).toBe(permutations)
      expect(sampled.stdError).toBeGreaterThan(0)
      const worst = Math.max(...Array.from(sampled.values, (v, s) => Math.abs(v - exact.values[s]!)))
      expect(worst).toBeLessThan(4 * sampled.stdError!)
      // Each permutation is efficient, so the mean is too: the gap is rounding only.
      expect(sampled.gap).toBeLessThan(1e-9)
      errors.push(sampled.stdError!)
    }
    expect(errors[1]!).toBeLessThan(errors[0]! / 2)
  })

  it('IG doubles its rule until the completeness gap is met, and says how many points it used', () => {
    const sharp = (m: Float64Array) => Math.tanh(8 * (m[0]! - 0.6)) + m[1]! ** 9
    const adaptive = attributeStep(scorerOf(2, sharp), [M.INTEGRATED_GRADIENTS], 0, { igTolerance: 1e-6 })
    const fixed = attributeStep(scorerOf(2, sharp), [M.INTEGRATED_GRADIENTS], 0, {
      igMinSteps: 2,
      igMaxSteps: 2,
    })
    const a = adaptive.byMethod.get(M.INTEGRATED_GRADIENTS)!
    const b = fixed.byMethod.get(M.INTEGRATED_GRADIENTS)!
    expect(a.steps).toBeGreaterThan(16)
    expect(a.gap).toBeLessThan(1e-6 * Math.max(1, Math.abs(adaptive.score - adaptive.baselineScore)))
    expect(b.steps).toBe(2)
    expect(b.gap).toBeGreaterThan(1e-3)
  })

  it('counts no more evaluations than the up-front budget says', () => {
    for (const positions of [3, 12, 32]) {
      const scorer = scorerOf(positions, linear(coefficients(positions, 1), 0))
      const step = attributeStep(scorer, TOKEN_METHODS, 0)
      const counted = [...step.byMethod.values()].reduce((acc, a) => acc + a.evaluations, 2)
      expect(scorer.calls).toBe(counted)
      expect(counted).toBeLessThanOrEqual(stepEvaluations(positions, TOKEN_METHODS))
    }
  })
})

/** Every method's values, gap, error, fidelity and steps of some explained steps (not their times). */
function answersOf(steps: readonly StepExplanation[]) {
  return steps.map((step) => ({
    score: step.score,
    baselineScore: step.baselineScore,
    methods: [...step.byMethod].map(([method, a]) => ({
      method,
      values: Array.from(a.values),
      gap: a.gap,
      stdError: a.stdError,
      fidelityR2: a.fidelityR2,
      steps: a.steps,
      evaluations: a.evaluations,
    })),
  }))
}

describe('attributeSteps: many steps, each method advancing over all of them together', () => {
  // Steps of different lengths (exact and sampled Shapley), non-additive scores, IG needing more points on some.
  const lengths = [1, 3, 6, 12, 20]
  const fOf = (n: number) => {
    const c = coefficients(n, n + 1)
    // The 3-position step has a steep term that needs many more IG points than the others.
    const steep = (m: Float64Array) => (n === 3 ? Math.tanh(8 * (m[1]! - 0.6)) : 0)
    return (m: Float64Array) => Math.tanh(linear(c, 0.2)(m)) + 0.5 * m[0]! * m[n - 1]! + steep(m)
  }
  const scorers = lengths.map((n) => scorerOf(n, fOf(n)))
  const seeds = lengths.map((n) => `seed-${n}`)
  const settings = { igTolerance: 1e-6, shapleyExactMaxPositions: 6, shapleyPermutations: 8 }

  it('gives each step exactly what attributeStep gives it alone, in one call per round for all steps', () => {
    let calls = 0
    const separate = separateScorers(scorers)
    const counting: StepScorers = {
      positions: separate.positions,
      score: (requests) => {
        calls++
        return separate.score(requests)
      },
      gradient: (requests) => {
        calls++
        return separate.gradient(requests)
      },
    }
    const together = attributeSteps(counting, TOKEN_METHODS, seeds, settings)
    const alone = lengths.map((n, i) =>
      attributeStep(scorerOf(n, fOf(n)), TOKEN_METHODS, seeds[i]!, settings),
    )
    expect(answersOf(together)).toEqual(answersOf(alone))
    // The ends, then one call each for occlusion, Shapley and the surrogate, and one per IG rule tried by any
    // step (16, 32, ... points: the rounds of the step that needed most).
    const rounds = Math.max(
      ...together.map((s) => Math.log2(s.byMethod.get(M.INTEGRATED_GRADIENTS)!.steps! / 8)),
    )
    expect(rounds).toBeGreaterThan(1)
    expect(calls).toBe(1 + 3 + rounds)
  })

  it("counts each step's rows as attributeStep does, and rejects a scorer that answers short", () => {
    const together = attributeSteps(separateScorers(scorers), TOKEN_METHODS, seeds, settings)
    together.forEach((step, i) => {
      const counted = [...step.byMethod.values()].reduce((acc, a) => acc + a.evaluations, 2)
      expect(counted).toBeLessThanOrEqual(stepEvaluations(lengths[i]!, TOKEN_METHODS, settings))
    })
    const short: StepScorers = {
      ...separateScorers(scorers),
      score: (requests) => requests.map(() => new Float64Array(1)),
    }
    expect(() => attributeSteps(short, [M.OCCLUSION], seeds)).toThrow(/returned 1 values for 2 masks/)
    expect(() => attributeSteps(separateScorers(scorers), [M.OCCLUSION], seeds.slice(1))).toThrow(/seeds/)
    expect(attributeSteps(separateScorers([]), TOKEN_METHODS, [])).toEqual([])
  })
})

describe('explainGeneration on a hand-built model (no network)', () => {
  // log p(y | context) is a known linear function of the one-hot context: weight[d][symbol] at distance d.
  const vocabulary = ['a', 'b', 'c']
  const contextLength = 4
  const weight = (d: number, symbol: number) => (d === 2 ? 1.5 : 0.1 * d) * (symbol + 1)
  const model: AttributableTextModel = {
    vocabulary,
    contextLength,
    // Generation copies the character two back (else 'a'); the distribution is what step scores report.
    nextDistributions: (contexts) =>
      contexts.map((ctx) => {
        const p = new Float64Array(4).fill(0.1)
        p[ctx.length >= 2 ? ctx[ctx.length - 2]! : 0] = 0.7
        return p
      }),
    positionScorer: (context) =>
      scorerOf(context.length, (m) =>
        m.reduce((acc, v, j) => acc + v * weight(context.length - j, context[j]!), 0),
      ),
  }

  it('attributes each step to its context with the exact coefficients, sources counted over prompt + output', () => {
    const prompt = [0, 1, 2]
    const result = explainGeneration({
      model,
      prompt,
      target: null,
      maxTokens: 5,
      temperature: 0,
      seed: 3,
      methods: TOKEN_METHODS,
    })
    // Greedy copies the character two back: c b ... from "abc" -> b c b c b.
    expect(result.targetTokens.join('')).toBe('bcbcb')
    expect(result.sourceTokens).toEqual(['a', 'b', 'c'])
    expect(result.contextStarts).toEqual([0, 0, 1, 2, 3])
    const text = [...prompt, 1, 2, 1, 2, 1]
    for (const method of TOKEN_METHODS) {
      const mine = result.attributions.filter((a) => a.method === method)
      // Step t sees min(4, 3 + t) positions.
      expect(mine).toHaveLength(3 + 4 + 4 + 4 + 4)
      for (const a of mine) {
        const distance = prompt.length + a.target - a.source
        expect(distance).toBeGreaterThanOrEqual(1)
        expect(distance).toBeLessThanOrEqual(contextLength)
        expect(a.value).toBeCloseTo(weight(distance, text[a.source]!), 9)
      }
      const check = result.checks.find((c) => c.method === method)!
      expect(check.maxGap).toBeLessThan(1e-9)
    }
    result.stepScores.forEach((s) => {
      expect(s.probability).toBeCloseTo(0.7, 12)
      expect(s.entropy).toBeCloseTo(-(0.7 * Math.log(0.7) + 3 * 0.1 * Math.log(0.1)), 12)
    })
    expect(result.costs.map((c) => c.method)).toEqual([...TOKEN_METHODS])
    const total = result.costs.reduce((acc, c) => acc + c.evaluations, 0)
    expect(total).toBeLessThanOrEqual(generationEvaluations(contextLength, prompt.length, 5, TOKEN_METHODS))
  })

  it('teacher-forces a given target', () => {
    const result = explainGeneration({
      model,
      prompt: [2],
      target: [0, 0, 1],
      maxTokens: 99,
      temperature: 0,
      seed: 0,
      methods: [M.OCCLUSION],
    })
    expect(result.targetTokens).toEqual(['a', 'a', 'b'])
    expect(result.attributions).toHaveLength(1 + 2 + 3)
  })

  it('explains more steps than are attributed together (64) the same way, each with its own context', () => {
    const forced = Array.from({ length: 70 }, (_, t) => (t * 7) % 3)
    const prompt = [2, 1]
    const result = explainGeneration({
      model,
      prompt,
      target: forced,
      maxTokens: 99,
      temperature: 0,
      seed: 0,
      methods: [M.OCCLUSION, M.SHAPLEY],
    })
    const text = [...prompt, ...forced]
    expect(result.attributions).toHaveLength(2 * (2 + 3 + 4 * 68))
    for (const a of result.attributions) {
      const distance = prompt.length + a.target - a.source
      expect(a.value).toBeCloseTo(weight(distance, text[a.source]!), 9)
    }
    const last = result.attributions.filter((a) => a.target === 69)
    expect(last.map((a) => a.source)).toEqual([67, 68, 69, 70, 67, 68, 69, 70])
  })
})

/** An untrained network over 4 characters and the unknown symbol, context 6, 8 units. */
function tinyModel(architecture: SequenceArchitecture, seed: number): SequenceModel {
  const network = buildSequenceModel(
    { architecture, contextLength: 6, hiddenLayers: [8], activation: 'TANH', seed },
    5,
  )
  return new SequenceModel(network, architecture, 6, ['a', 'b', 'c', 'd'])
}

describe('SequenceModel.positionScorer (the real networks)', () => {
  beforeAll(async () => {
    const backend = await selectBackend('wasm').catch(() => selectBackend('cpu'))
    expect(['wasm', 'cpu']).toContain(backend)
  })

  it.each([SequenceArchitecture.WINDOW_MLP, SequenceArchitecture.RNN_GRU])(
    '%s: the score is the log-probability of the target, the baseline an empty context, the gradient right',
    (architecture) => {
      const model = tinyModel(architecture, 4)
      try {
        const context = [2, 0, 3, 3]
        const target = 1
        const scorer = model.positionScorer(context, target)
        expect(scorer.positions).toBe(4)
        const [full, empty] = scorer.score([new Float64Array(4).fill(1), new Float64Array(4)])
        const [pFull, pEmpty] = model.nextDistributions([context, []])
        expect(full).toBeCloseTo(Math.log(pFull![target]!), 5)
        expect(empty).toBeCloseTo(Math.log(pEmpty![target]!), 5)
        // Occluding position 1 is the context with that character replaced by "no character".
        const occluded = scorer.score([Float64Array.from([1, 0, 1, 1])])[0]!
        expect(occluded).not.toBeCloseTo(full!, 4)
        const m = Float64Array.from([0.3, 0.8, 0.5, 0.1])
        const analytic = scorer.gradient([m])[0]!
        const numeric = numericGradient((x) => scorer.score([x])[0]!, m, 1e-2)
        analytic.forEach((g, s) => expect(g).toBeCloseTo(numeric[s]!, 2))
        expect(() => model.positionScorer([], 0)).toThrow(RangeError)
        expect(() => model.positionScorer([1, 2, 3, 4, 0, 1, 2], 0)).toThrow(RangeError)
      } finally {
        model.dispose()
      }
    },
  )

  it.each([SequenceArchitecture.WINDOW_MLP, SequenceArchitecture.RNN_GRU])(
    "%s: positionScorers scores many windows in one pass, as each window's own scorer does",
    (architecture) => {
      const model = tinyModel(architecture, 5)
      try {
        // Contexts of different lengths (right-aligned differently), targets differing, the unknown symbol 4.
        const steps = [
          { context: [2, 0, 3, 3], target: 1 },
          { context: [4], target: 0 },
          { context: [1, 1, 2, 0, 3, 2], target: 4 },
        ]
        const seeds = steps.map((_, i) => i)
        const settings = { shapleyExactMaxPositions: 4, shapleyPermutations: 4, surrogateSamples: 16 }
        const together = attributeSteps(model.positionScorers(steps), TOKEN_METHODS, seeds, settings)
        const alone = steps.map(({ context, target }, i) =>
          attributeStep(model.positionScorer(context, target), TOKEN_METHODS, seeds[i]!, settings),
        )
        together.forEach((step, i) => {
          // Float32 passes of different batches: equal to rounding.
          expect(step.score).toBeCloseTo(alone[i]!.score, 5)
          expect(step.baselineScore).toBeCloseTo(alone[i]!.baselineScore, 5)
          for (const method of TOKEN_METHODS) {
            const a = step.byMethod.get(method)!
            const b = alone[i]!.byMethod.get(method)!
            expect(a.values).toHaveLength(steps[i]!.context.length)
            a.values.forEach((v, s) => expect(v).toBeCloseTo(b.values[s]!, 4))
            expect(a.evaluations).toBe(b.evaluations)
          }
        })
        // The third window's scores are its own: not those of the first window's context or target.
        expect(Math.abs(together[2]!.score - together[0]!.score)).toBeGreaterThan(1e-4)
        expect(() => model.positionScorers([{ context: [1], target: 5 }])).toThrow(RangeError)
      } finally {
        model.dispose()
      }
    },
  )
})
