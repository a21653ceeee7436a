import { TOKEN_METHODS, type PositionScorer } from '../../../src/explain/token-attribution'
import type { AttributableTextModel } from '../../../src/models/family'
import { ExplanationMethod, NextCharacterSurrogateKind } from '../../../src/explain/types'
import { familyOf } from '../../../src/models/registry'
import { ModelFamily, SequenceArchitecture } from '../../../src/models/family.enums'
import {
  distanceProfiles,
  explainSequence,
  SEQUENCE_EXPLAIN_DEFAULTS,
  SEQUENCE_METHODS,
  type DistanceProfile,
  type TextSample,
} from '../../../src/models/sequence/explain'
import { SequenceModel } from '../../../src/models/sequence/model'
import type { NextCharacterSurrogate } from '../../../src/models/sequence/surrogate'
import { trainSequence, type SequenceTrainResult } from '../../../src/models/sequence/train'
import { copyText } from '../../../src/modules/dataset/generators'
import { buildTextContent, encodeCorpus } from '../../../src/modules/dataset/text'
import { selectBackend } from '../../../src/training/backend'

const LAG = 4
const CONTEXT = 8
const noHooks = { onEpoch: async (): Promise<void> => undefined }

let ids: Int32Array
let vocabulary: string[]
let trained: SequenceTrainResult
let model: SequenceModel
let trainMs: number

beforeAll(async () => {
  const backend = await selectBackend('wasm').catch(() => selectBackend('cpu'))
  expect(['wasm', 'cpu']).toContain(backend)
  const content = buildTextContent(copyText(8000, LAG, 0.1, 3), 1, { maxTextBytes: 1e7 })
  ids = encodeCorpus(content.text!)
  vocabulary = content.text!.vocabulary
  const started = performance.now()
  trained = await trainSequence(
    { ids, symbols: vocabulary.length + 1 },
    {
      architecture: SequenceArchitecture.WINDOW_MLP,
      contextLength: CONTEXT,
      hiddenLayers: [32],
      activation: 'RELU',
      epochs: 4,
      batchSize: 64,
      learningRate: 0.01,
      optimizer: 'ADAM',
      validationSplit: 0.2,
      seed: 5,
    },
    noHooks,
  )
  trainMs = performance.now() - started
  model = new SequenceModel(trained.model, SequenceArchitecture.WINDOW_MLP, CONTEXT, vocabulary)
}, 120_000)

afterAll(() => {
  model?.dispose()
})

const explain = (methods: readonly ExplanationMethod[], signal?: AbortSignal) =>
  explainSequence({
    model,
    ids,
    train: trained.train,
    holdout: trained.holdout,
    methods,
    sizes: { maxEvalRows: 1000, sampleSize: 200 },
    seed: 7,
    ...(signal ? { signal } : {}),
  })

describe('the SEQUENCE global explanation', () => {
  it('is what the family offers, and only those methods', () => {
    const family = familyOf(ModelFamily.SEQUENCE)
    expect(family.explanationMethods({ factorNames: [] })).toEqual(SEQUENCE_METHODS)
    for (const other of [ModelFamily.MLP, ModelFamily.VAE]) {
      const methods = familyOf(other).explanationMethods({ factorNames: [] })
      for (const m of SEQUENCE_METHODS) expect(methods).not.toContain(m)
    }
  })

  it('on COPY_TEXT at lag 4: every distance profile peaks at 4, the linear surrogate is faithful, short n-grams are not', async () => {
    const explained = await explain(SEQUENCE_METHODS)
    const r = explained.result as {
      distanceProfile: DistanceProfile[]
      nextCharacterSurrogates: NextCharacterSurrogate[]
      textSamples: TextSample[]
      evaluationRows: number
    }
    console.log(
      `trained in ${trainMs.toFixed(0)} ms, explained in ${explained.computeMs.toFixed(0)} ms`,
      JSON.stringify(explained.cost),
      JSON.stringify(
        r.distanceProfile.map((p) => [
          p.method,
          Math.round(p.ms),
          p.evaluations,
          p.peakShare,
          p.meanAbsAttribution.map((v) => +v.toFixed(3)),
        ]),
      ),
      JSON.stringify(r.nextCharacterSurrogates),
    )
    expect(explained.methods).toEqual(SEQUENCE_METHODS)
    expect(Object.keys(explained.cost).sort()).toEqual([...SEQUENCE_METHODS].sort())

    expect(r.distanceProfile.map((p) => p.method)).toEqual(TOKEN_METHODS)
    for (const p of r.distanceProfile) {
      expect(p.distances).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
      expect(p.peakDistance).toBe(LAG)
      // The peak dominates: the next largest distance has at most half its mean |a|.
      const others = p.meanAbsAttribution.filter((_, k) => k + 1 !== LAG)
      expect(Math.max(...others)).toBeLessThan(p.meanAbsAttribution[LAG - 1]! / 2)
      expect(p.peakShare).toBeGreaterThan(0.8)
      // So clear a peak needs one round of windows: it stands 3 standard errors above the next distance.
      expect(p.windows).toBe(24)
      expect(p.peakSeparation).toBeGreaterThanOrEqual(3)
      expect(p.evaluations).toBeGreaterThan(0)
    }

    const linear = r.nextCharacterSurrogates.find(
      (s) => s.kind === NextCharacterSurrogateKind.SOFTMAX_LINEAR,
    )!
    expect(linear.top1Agreement).toBeGreaterThan(0.9)
    expect(linear.meanKl).toBeLessThan(0.25)
    expect(linear.evaluationWindows).toBe(r.evaluationRows)
    const weights = linear.weightByDistance!
    expect(weights.indexOf(Math.max(...weights))).toBe(LAG - 1)
    const ngrams = r.nextCharacterSurrogates.filter((s) => s.kind === NextCharacterSurrogateKind.NGRAM)
    expect(ngrams.map((s) => s.order)).toEqual([1, 2, 3])
    // An order-3 n-gram reads 2 characters; the one that decides is 4 back.
    for (const ngram of ngrams) {
      expect(ngram.top1Agreement).toBeLessThan(linear.top1Agreement - 0.4)
      expect(ngram.meanKl).toBeGreaterThan(linear.meanKl + 0.5)
    }

    expect(r.textSamples).toHaveLength(6)
    for (const s of r.textSamples) {
      expect(s.prompt).toHaveLength(CONTEXT)
      expect(s.text).toHaveLength(32)
      expect(s.reference).toHaveLength(32)
      expect(s.meanProbability).toBeGreaterThan(0)
      expect(s.meanProbability).toBeLessThanOrEqual(1)
    }
    // Greedy continues the period of the prompt: lag 4 back.
    const greedy = r.textSamples.filter((s) => s.temperature === 0)
    for (const s of greedy) {
      const whole = s.prompt + s.text
      const copied = [...s.text].filter((c, i) => c === whole[CONTEXT + i - LAG]).length
      expect(copied / s.text.length).toBeGreaterThan(0.9)
    }
  }, 120_000)

  it('stops when its signal aborts', async () => {
    const controller = new AbortController()
    controller.abort(new Error('shutting down'))
    await expect(explain(SEQUENCE_METHODS, controller.signal)).rejects.toThrow('shutting down')
  })

  it('computes only the methods asked for', async () => {
    const explained = await explain([ExplanationMethod.GENERATED_SAMPLES])
    expect(explained.methods).toEqual([ExplanationMethod.GENERATED_SAMPLES])
    expect(explained.result['distanceProfile']).toBeNull()
    expect(explained.result['nextCharacterSurrogates']).toBeNull()
    expect(explained.result['textSamples']).toHaveLength(6)
  })
})

describe('the distance profile adds windows until its peak is clear', () => {
  // A model whose log p(target | masked context) is linear in the masks: weight[d] x (1 + symbol % 3) at
  // distance d, so every method's attribution at d is that product and its spread over windows is known.
  const fakeModel = (weight: number[]): AttributableTextModel => {
    const L = weight.length
    const scorer = (context: readonly number[]): PositionScorer => {
      const c = context.map((sym, j) => weight[context.length - j - 1]! * (1 + (sym % 3)))
      return {
        positions: context.length,
        score: (masks) => Float64Array.from(masks, (m) => m.reduce((acc, v, s) => acc + v * c[s]!, 0)),
        gradient: (masks) => masks.map(() => Float64Array.from(c)),
      }
    }
    return { contextLength: L, positionScorer: scorer } as unknown as AttributableTextModel
  }
  const windows = (n: number, L: number) => {
    let x = 11
    return Array.from({ length: n }, () =>
      Array.from({ length: L }, () => {
        x = (x * 1103515245 + 12345) % 2 ** 31
        return x % 26
      }),
    )
  }
  const D = SEQUENCE_EXPLAIN_DEFAULTS

  it('one round when one distance dominates', async () => {
    const contexts = windows(D.profileWindows, 4)
    const profiles = await distanceProfiles(
      fakeModel([0.1, 0.1, 2, 0.1]),
      contexts,
      contexts.map(() => 0),
      1,
    )
    for (const p of profiles) {
      expect(p.peakDistance).toBe(3)
      expect(p.windows).toBe(D.profileRound)
      expect(p.peakSeparation).toBeGreaterThanOrEqual(D.profileSeparation)
    }
  })

  it('every window, and a separation below 3 said as such, when two distances tie', async () => {
    const contexts = windows(D.profileWindows, 4)
    const profiles = await distanceProfiles(
      fakeModel([1, 1, 0.1, 0.1]),
      contexts,
      contexts.map(() => 0),
      1,
    )
    for (const p of profiles) {
      expect([1, 2]).toContain(p.peakDistance)
      expect(p.windows).toBe(D.profileWindows)
      expect(p.peakSeparation).not.toBeNull()
      expect(p.peakSeparation!).toBeLessThan(D.profileSeparation)
    }
  })
})
