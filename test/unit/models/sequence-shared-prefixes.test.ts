import * as tf from '@tensorflow/tfjs'

import { attributeSteps, TOKEN_METHODS, type StepMasks } from '../../../src/explain/token-attribution'
import { createRng, permutation } from '../../../src/explain/random'
import { SequenceArchitecture } from '../../../src/models/family.enums'
import { SequenceModel } from '../../../src/models/sequence/model'
import { buildSequenceModel } from '../../../src/models/sequence/network'
import { gruStackOf, prefixTree, treeNodes } from '../../../src/models/sequence/shared-prefixes'
import { selectBackend } from '../../../src/training/backend'

const CONTEXT = 10
const SYMBOLS = 6
const VOCABULARY = ['a', 'b', 'c', 'd', 'e']

/** A GRU network with every weight random (biases too: the untrained ones are zero), and its two scorers. */
function randomGru(hiddenLayers: number[], seed: number): { plain: SequenceModel; shared: SequenceModel } {
  const network = buildSequenceModel(
    {
      architecture: SequenceArchitecture.RNN_GRU,
      contextLength: CONTEXT,
      hiddenLayers,
      activation: 'TANH',
      seed,
    },
    SYMBOLS,
  )
  network.setWeights(
    network.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.8, 'float32', seed + i)),
  )
  const plain = new SequenceModel(network, SequenceArchitecture.RNN_GRU, CONTEXT, VOCABULARY, {
    sharedPrefixes: false,
  })
  return { plain, shared: new SequenceModel(network, SequenceArchitecture.RNN_GRU, CONTEXT, VOCABULARY) }
}

/** Masks the methods send, and some they do not: occlusion, a Shapley chain, random, fractional, duplicates. */
function masksFor(n: number, seed: number): Float64Array[] {
  const rng = createRng(seed, 'masks')
  const out: Float64Array[] = [new Float64Array(n).fill(1), new Float64Array(n)]
  for (let s = 0; s < n; s++) out.push(Float64Array.from({ length: n }, (_, j) => (j === s ? 0 : 1)))
  const order = permutation(n, rng)
  const chain = new Float64Array(n)
  for (const s of order) {
    chain[s] = 1
    out.push(chain.slice())
  }
  for (let k = 0; k < 12; k++) out.push(Float64Array.from({ length: n }, () => (rng() < 0.5 ? 0 : 1)))
  for (const a of [0.1, 0.5, 0.93]) out.push(new Float64Array(n).fill(a))
  out.push(Float64Array.from({ length: n }, () => rng()))
  out.push(out[3]!.slice(), out[out.length - 1]!.slice())
  return out
}

const relativeGap = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(a))

describe('the shared-prefix GRU pass', () => {
  beforeAll(async () => {
    const backend = await selectBackend('wasm').catch(() => selectBackend('cpu'))
    expect(['wasm', 'cpu']).toContain(backend)
  })

  it('counts each distinct prefix once: occluding each of n positions runs n(n+1)/2 + n - 1 cell steps', () => {
    const n = 7
    const symbols = Int32Array.from({ length: n }, (_, j) => j % 3)
    const rows = Array.from({ length: n }, (_, s) => ({
      symbols,
      values: Float32Array.from({ length: n }, (_, j) => (j === s ? 0 : 1)),
    }))
    const tree = prefixTree(rows, n)
    // Level t: the full prefix (rows occluding a later position) and each row occluding a position <= t.
    expect(tree.parents.map((level) => level.length)).toEqual([2, 3, 4, 5, 6, 7, 7])
    expect(treeNodes(tree)).toBe((n * (n + 1)) / 2 + n - 1)
    // Rows with the same inputs end in the same node, a zero value is the zero row whatever the symbol.
    const same = prefixTree(
      [
        { symbols: Int32Array.from([1, 2]), values: Float32Array.from([0, 1]) },
        { symbols: Int32Array.from([3, 2]), values: Float32Array.from([0, 1]) },
        { symbols: Int32Array.from([-1, 2]), values: Float32Array.from([1, 1]) },
        { symbols: Int32Array.from([1, 2]), values: Float32Array.from([0.5, 1]) },
      ],
      2,
    )
    expect(Array.from(same.leaves)).toEqual([0, 0, 0, 1])
  })

  it.each([
    ['one GRU layer', [12], 3],
    ['two stacked GRU layers', [8, 6], 11],
  ])('%s: every score equals the plain pass to 1e-5, and so does every attribution', (_, layers, seed) => {
    const { plain, shared } = randomGru(layers, seed)
    try {
      // Contexts of every length up to the window (right-aligned, zero rows before), the unknown symbol 5.
      const steps = [
        { context: [2, 0, 3, 3, 1, 4, 4, 0, 2, 5], target: 1 },
        { context: [4], target: 0 },
        { context: [1, 1, 2, 0, 3, 2], target: 5 },
        { context: [2, 0, 3, 3, 1, 4, 4, 0, 2, 5], target: 3 },
        { context: [3, 3, 3], target: 3 },
      ]
      const requests: StepMasks[] = steps.map(({ context }, step) => ({
        step,
        masks: masksFor(context.length, step),
      }))
      const before = tf.memory().numTensors
      const a = plain.positionScorers(steps).score(requests)
      const b = shared.positionScorers(steps).score(requests)
      expect(tf.memory().numTensors).toBe(before)
      let spread = 0
      a.forEach((values, k) => {
        expect(b[k]).toHaveLength(values.length)
        values.forEach((v, i) => {
          expect(Number.isFinite(v)).toBe(true)
          expect(relativeGap(v, b[k]![i]!)).toBeLessThan(1e-5)
          spread = Math.max(spread, Math.abs(v - values[0]!))
        })
      })
      // The masks matter to this network: equal scores would prove nothing.
      expect(spread).toBeGreaterThan(0.1)
      const settings = { shapleyExactMaxPositions: 4, shapleyPermutations: 6, surrogateSamples: 24 }
      const seeds = steps.map((_, i) => i)
      const slow = attributeSteps(plain.positionScorers(steps), TOKEN_METHODS, seeds, settings)
      const fast = attributeSteps(shared.positionScorers(steps), TOKEN_METHODS, seeds, settings)
      fast.forEach((step, i) => {
        expect(relativeGap(step.score, slow[i]!.score)).toBeLessThan(1e-5)
        expect(relativeGap(step.baselineScore, slow[i]!.baselineScore)).toBeLessThan(1e-5)
        for (const method of TOKEN_METHODS) {
          const x = step.byMethod.get(method)!
          const y = slow[i]!.byMethod.get(method)!
          x.values.forEach((v, s) => expect(relativeGap(v, y.values[s]!)).toBeLessThan(1e-5))
          expect(x.evaluations).toBe(y.evaluations)
        }
      })
    } finally {
      plain.network.dispose()
    }
  })

  it('takes only a stack of GRU layers and an output layer', () => {
    const mlp = buildSequenceModel(
      {
        architecture: SequenceArchitecture.WINDOW_MLP,
        contextLength: 4,
        hiddenLayers: [8],
        activation: 'RELU',
        seed: 1,
      },
      SYMBOLS,
    )
    const gru = buildSequenceModel(
      {
        architecture: SequenceArchitecture.RNN_GRU,
        contextLength: 4,
        hiddenLayers: [8, 4],
        activation: 'RELU',
        seed: 1,
      },
      SYMBOLS,
    )
    try {
      expect(gruStackOf(mlp)).toBeNull()
      expect(gruStackOf(gru)?.units).toEqual([8, 4])
    } finally {
      mlp.dispose()
      gru.dispose()
    }
  })
})
