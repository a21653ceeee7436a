import { selectBackend } from '../../../src/training/backend'
import type { EpochReport, TextModel } from '../../../src/models/family'
import { SequenceArchitecture } from '../../../src/models/family.enums'
import { familyOf } from '../../../src/models/registry'
import { ModelFamily } from '../../../src/models/family.enums'
import { SequenceModel } from '../../../src/models/sequence/model'
import { buildSequenceModel, encodeContexts, encodeWindows } from '../../../src/models/sequence/network'
import {
  drawSymbol,
  entropy,
  generateTokens,
  rankSymbols,
  samplingDistribution,
} from '../../../src/models/sequence/sampling'
import { sequenceParameters, sequenceWork, type SequenceSpec } from '../../../src/models/sequence/spec'
import { AppError } from '../../../src/errors'
import { loadSequence, toStoredSequence } from '../../../src/models/sequence/stored'
import { trainSequence } from '../../../src/models/sequence/train'
import { copyText } from '../../../src/modules/dataset/generators'
import { buildTextContent, encodeCorpus } from '../../../src/modules/dataset/text'

const noHooks = { onEpoch: async (): Promise<void> => undefined }

beforeAll(async () => {
  // wasm when it loads (the trainer's backend here), the pure-JS one otherwise; both train these layers.
  const backend = await selectBackend('wasm').catch(() => selectBackend('cpu'))
  expect(['wasm', 'cpu']).toContain(backend)
})

function spec(overrides: Partial<SequenceSpec> = {}): SequenceSpec {
  return {
    architecture: SequenceArchitecture.WINDOW_MLP,
    contextLength: 8,
    hiddenLayers: [32],
    activation: 'RELU',
    epochs: 3,
    batchSize: 64,
    learningRate: 0.01,
    optimizer: 'ADAM',
    validationSplit: 0.2,
    seed: 5,
    ...overrides,
  }
}

function copyCorpus(length: number, lag: number, noise: number, seed = 1) {
  const content = buildTextContent(copyText(length, lag, noise, seed), 1, { maxTextBytes: 1e7 })
  return { ids: encodeCorpus(content.text!), symbols: content.text!.vocabulary.length + 1, content }
}

const metric = (r: EpochReport, name: string) => r.metrics.find((m) => m.name === name)?.value

describe('the SEQUENCE networks', () => {
  it.each([
    [SequenceArchitecture.WINDOW_MLP, [24, 12]],
    [SequenceArchitecture.WINDOW_MLP, []],
    [SequenceArchitecture.RNN_GRU, [10]],
    [SequenceArchitecture.RNN_GRU, [6, 5]],
  ])('%s %j has the parameter count the API checks before queueing', (architecture, hiddenLayers) => {
    const s = spec({ architecture, hiddenLayers })
    const model = buildSequenceModel(s, 27)
    try {
      expect(sequenceParameters(s, 27)).toBe(model.countParams())
      expect(familyOf(ModelFamily.SEQUENCE).parameterCount({ ...s, latentDim: null }, 27)).toBe(
        model.countParams(),
      )
    } finally {
      model.dispose()
    }
  })

  it('counts the work of an epoch: training targets, and contextLength steps per GRU batch', () => {
    const base = { validationSplit: 0, seed: 1, contextLength: 16 }
    expect(
      sequenceWork({ ...base, architecture: SequenceArchitecture.WINDOW_MLP }, { rowCount: 1000 }),
    ).toEqual({
      examples: 999,
      stepsPerBatch: 1,
    })
    expect(sequenceWork({ ...base, architecture: SequenceArchitecture.RNN_GRU }, { rowCount: 1000 })).toEqual(
      {
        examples: 999,
        stepsPerBatch: 16,
      },
    )
    // One block: nothing can be held out.
    expect(() =>
      sequenceWork(
        { ...base, validationSplit: 0.2, architecture: SequenceArchitecture.RNN_GRU },
        { rowCount: 200 },
      ),
    ).toThrow(AppError)
    expect(() =>
      sequenceWork({ ...base, architecture: SequenceArchitecture.RNN_GRU }, { rowCount: 1 }),
    ).toThrow(AppError)
  })

  it('one-hot encodes windows right-aligned, zero before the segment start', () => {
    const ids = Int32Array.of(0, 1, 2, 1, 0)
    // Target 3, segment from 1, context 3: positions 0 (before the segment, zero), 1, 2.
    const x = encodeWindows(ids, [3], [1], 3, 3)
    expect(Array.from(x)).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 1])
    expect(Array.from(encodeContexts([[2, 1]], 3, 3))).toEqual([0, 0, 0, 0, 0, 1, 0, 1, 0])
    expect(Array.from(encodeContexts([[0, 2, 1, 1]], 2, 3))).toEqual([0, 1, 0, 0, 1, 0])
  })
})

describe('trainSequence', () => {
  it('learns COPY_TEXT at lag 3 with a WINDOW_MLP: validation accuracy far above chance', async () => {
    const { ids, symbols } = copyCorpus(8000, 3, 0.1)
    const reports: EpochReport[] = []
    const result = await trainSequence({ ids, symbols }, spec({ epochs: 4 }), {
      onEpoch: (r) => {
        reports.push(r)
      },
    })
    try {
      expect(reports).toHaveLength(4)
      expect(reports.map((r) => r.metrics.map((m) => m.name))).toEqual(
        Array(4).fill(['loss', 'valLoss', 'perplexity', 'valPerplexity', 'accuracy', 'valAccuracy']),
      )
      const last = reports[3]!
      // Chance is 1/26; copying gives 0.9 (noise 0.1). A model that found the lag is far above 0.5.
      expect(metric(last, 'valAccuracy')).toBeGreaterThan(0.6)
      expect(metric(last, 'valPerplexity')).toBeCloseTo(Math.exp(metric(last, 'valLoss')!), 6)
      expect(metric(last, 'perplexity')).toBeCloseTo(Math.exp(metric(last, 'loss')!), 6)
      // Uniform guessing costs ln 27 nats; the model is well below it.
      expect(metric(last, 'valLoss')).toBeLessThan(Math.log(27) / 2)
      expect(metric(last, 'loss')!).toBeLessThan(metric(reports[0]!, 'loss')!)
    } finally {
      result.model.dispose()
    }
  })

  it('is reproducible: the same seed gives identical metrics, another seed different ones', async () => {
    const { ids, symbols } = copyCorpus(3000, 3, 0.1)
    const run = async (seed: number) => {
      const r = await trainSequence({ ids, symbols }, spec({ seed, epochs: 2 }), noHooks)
      r.model.dispose()
      return r.history.map((h) => h.metrics)
    }
    const a = await run(5)
    expect(await run(5)).toEqual(a)
    expect(await run(6)).not.toEqual(a)
  })

  it('trains a small RNN_GRU, reproducibly', async () => {
    const { ids, symbols } = copyCorpus(1200, 2, 0)
    const s = spec({
      architecture: SequenceArchitecture.RNN_GRU,
      hiddenLayers: [8],
      contextLength: 4,
      epochs: 2,
    })
    const a = await trainSequence({ ids, symbols }, s, noHooks)
    const b = await trainSequence({ ids, symbols }, s, noHooks)
    try {
      expect(b.history.map((h) => h.metrics)).toEqual(a.history.map((h) => h.metrics))
      expect(a.history).toHaveLength(2)
      for (const h of a.history) for (const m of h.metrics) expect(Number.isFinite(m.value)).toBe(true)
    } finally {
      a.model.dispose()
      b.model.dispose()
    }
  })

  it('stops after the epoch whose hook says stop', async () => {
    const { ids, symbols } = copyCorpus(2000, 3, 0.1)
    const result = await trainSequence({ ids, symbols }, spec({ epochs: 5 }), { onEpoch: () => 'stop' })
    result.model.dispose()
    expect(result.history).toHaveLength(1)
    expect(result.cancelled).toBe(true)
  })
})

/** A fixed next-symbol table: the distribution depends on the last symbol only. */
function tableModel(vocabulary: string[], rows: number[][], contextLength = 4): TextModel {
  return {
    vocabulary,
    contextLength,
    nextDistributions: (contexts) => contexts.map((c) => Float64Array.from(rows[c[c.length - 1]!]!)),
  }
}

describe('sampling', () => {
  const probabilities = [0.1, 0.5, 0.15, 0.2, 0.05]

  it('temperature 0 is greedy: the argmax, the lower symbol on a tie', () => {
    expect(Array.from(samplingDistribution(probabilities, 0, null))).toEqual([0, 1, 0, 0, 0])
    expect(Array.from(samplingDistribution([0.4, 0.4, 0.2], 0, null))).toEqual([1, 0, 0])
    expect(rankSymbols(probabilities)).toEqual([1, 3, 2, 0, 4])
  })

  it('temperature 1 keeps the distribution, topK restricts it to the k most likely', () => {
    const same = samplingDistribution(probabilities, 1, null)
    same.forEach((p, i) => expect(p).toBeCloseTo(probabilities[i]!, 12))
    const top2 = samplingDistribution(probabilities, 1, 2)
    expect(top2[1]).toBeCloseTo(0.5 / 0.7, 12)
    expect(top2[3]).toBeCloseTo(0.2 / 0.7, 12)
    expect(top2[0]! + top2[2]! + top2[4]!).toBe(0)
    // A lower temperature sharpens: the favourite gains.
    expect(samplingDistribution(probabilities, 0.5, null)[1]).toBeGreaterThan(0.5)
    expect(entropy([0.5, 0.5])).toBeCloseTo(Math.log(2), 12)
    expect(drawSymbol([0.2, 0.8], 0.1)).toBe(0)
    expect(drawSymbol([0.2, 0.8], 0.3)).toBe(1)
  })

  it('greedy generation follows the argmax chain; seeded sampling is reproducible; topK 1 is greedy', () => {
    // a -> b (0.6), b -> c (0.7), c -> a (0.5): greedy from "a" is b c a b ...
    const model = tableModel(
      ['a', 'b', 'c'],
      [
        [0.1, 0.6, 0.2, 0.1],
        [0.1, 0.1, 0.7, 0.1],
        [0.5, 0.2, 0.2, 0.1],
        [0.25, 0.25, 0.25, 0.25],
      ],
    )
    const text = (temperature: number, topK: number | null, seed: number) =>
      [...generateTokens(model, [0], { maxTokens: 30, temperature, topK, seed })].map((t) => t.token).join('')
    expect(text(0, null, 1)).toBe('bca'.repeat(10))
    expect(text(0, null, 1)).toBe(text(0, null, 2))
    expect(text(2, 1, 3)).toBe('bca'.repeat(10))
    const sampled = text(1, null, 42)
    expect(text(1, null, 42)).toBe(sampled)
    expect(text(1, null, 43)).not.toBe(sampled)
    expect(sampled).not.toBe('bca'.repeat(10))
    // Symbol 3 is the unknown symbol: with topK 3 it is never drawn.
    for (let seed = 0; seed < 20; seed++) expect(text(1.5, 3, seed)).not.toContain('\uFFFD')
    const [first] = generateTokens(model, [0], { maxTokens: 1, temperature: 0, topK: null, seed: 0 })
    expect(first!.probability).toBeCloseTo(0.6, 12)
    expect(first!.entropy).toBeCloseTo(entropy([0.1, 0.6, 0.2, 0.1]), 12)
    expect(first!.alternatives.map((a) => a.token)).toEqual(['b', 'c', 'a', '\uFFFD'])
  })

  it('a trained model stores, loads and generates the same text greedily as before storing', async () => {
    const { ids, symbols, content } = copyCorpus(3000, 3, 0)
    const s = spec({ epochs: 3 })
    const result = await trainSequence({ ids, symbols }, s, noHooks)
    const model = new SequenceModel(result.model, s.architecture, s.contextLength, content.text!.vocabulary)
    const loaded = await loadSequence(await toStoredSequence(model))
    try {
      const prompt = Array.from(ids.subarray(100, 108))
      const options = { maxTokens: 20, temperature: 0, topK: null, seed: 1 }
      const before = [...generateTokens(model, prompt, options)]
      const after = [...generateTokens(loaded, prompt, options)]
      expect(after).toEqual(before)
      // Greedy: every token is the most likely one of its step.
      for (const t of before) expect(t.token).toBe(t.alternatives[0]!.token)
      // Noise 0 and lag 3: the text repeats with period 3, and a trained model continues it.
      const text = before.map((t) => t.token).join('')
      let copies = 0
      const all = content.text!.vocabulary
      const history = [...prompt.map((i) => all[i]!), ...text]
      for (let i = prompt.length; i < history.length; i++) if (history[i] === history[i - 3]) copies++
      expect(copies / text.length).toBeGreaterThan(0.8)
    } finally {
      model.dispose()
      loaded.dispose()
    }
  })
})
