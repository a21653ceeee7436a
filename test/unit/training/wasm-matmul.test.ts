import * as tf from '@tensorflow/tfjs'

import { selectBackend } from '../../../src/training/backend'
import { flagFreeWasmMatMulEnabled, setFlagFreeWasmMatMul } from '../../../src/training/wasm-matmul'
import { train } from '../../../src/models/mlp/train'
import { SequenceArchitecture } from '../../../src/models/family.enums'
import type { SequenceSpec } from '../../../src/models/sequence/spec'
import { trainSequence } from '../../../src/models/sequence/train'
import { copyText } from '../../../src/modules/dataset/generators'
import { buildTextContent, encodeCorpus } from '../../../src/modules/dataset/text'
import { linearData, spec } from '../models/mlp-fixtures'

const noHooks = { onEpoch: async (): Promise<void> => undefined }

beforeAll(async () => {
  expect(await selectBackend('wasm')).toBe('wasm')
})

afterEach(() => setFlagFreeWasmMatMul(true))

/** Runs `f` with the stock wasm BatchMatMul, then with ours, and returns both results. */
async function stockAndFlagFree<T>(f: () => Promise<T> | T): Promise<{ stock: T; flagFree: T }> {
  setFlagFreeWasmMatMul(false)
  const stock = await f()
  setFlagFreeWasmMatMul(true)
  return { stock, flagFree: await f() }
}

/** Largest |x - y| relative to the largest |y|: float32 sums in another order stay near 1e-7. */
function relativeError(x: ArrayLike<number>, y: ArrayLike<number>): number {
  expect(x.length).toBe(y.length)
  let diff = 0
  let scale = 0
  for (let i = 0; i < y.length; i++) {
    diff = Math.max(diff, Math.abs((x[i] as number) - (y[i] as number)))
    scale = Math.max(scale, Math.abs(y[i] as number))
  }
  return diff / scale
}

describe('the flag-free wasm BatchMatMul', () => {
  it('is installed by selectBackend("wasm") and can be switched off and on', () => {
    expect(flagFreeWasmMatMulEnabled()).toBe(true)
    setFlagFreeWasmMatMul(false)
    expect(flagFreeWasmMatMulEnabled()).toBe(false)
    setFlagFreeWasmMatMul(false)
    expect(flagFreeWasmMatMulEnabled()).toBe(false)
    setFlagFreeWasmMatMul(true)
    setFlagFreeWasmMatMul(true)
    expect(flagFreeWasmMatMulEnabled()).toBe(true)
  })

  // [a shape, b shape] for the flags: plain 2-D, batched 3-D, and 4-D with a size-one row (which the wasm
  // Transpose kernel squeezes away before permuting).
  const shapes: [string, (tA: boolean, tB: boolean) => [number[], number[]]][] = [
    ['2-D', (tA, tB) => [tA ? [17, 9] : [9, 17], tB ? [11, 17] : [17, 11]]],
    ['batched 3-D', (tA, tB) => [tA ? [3, 17, 9] : [3, 9, 17], tB ? [3, 11, 17] : [3, 17, 11]]],
    ['batched 4-D', (tA, tB) => [tA ? [2, 2, 17, 1] : [2, 2, 1, 17], tB ? [2, 2, 11, 17] : [2, 2, 17, 11]]],
  ]
  const flags = [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const

  describe.each(shapes)('%s', (_name, shapesFor) => {
    it.each(flags)('transposeA=%s transposeB=%s: same product and gradients as stock', async (tA, tB) => {
      const [aShape, bShape] = shapesFor(tA, tB)
      const a = tf.randomNormal(aShape, 0, 1, 'float32', 1)
      const b = tf.randomNormal(bShape, 0, 1, 'float32', 2)
      const product = (x: tf.Tensor, y: tf.Tensor): tf.Tensor => tf.matMul(x, y, tA, tB)
      const weights = tf.tidy(() => tf.randomNormal(product(a, b).shape, 0, 1, 'float32', 3))
      // Differentiating sum(w * a.b) sends a random dy through the gradient, not a constant one.
      const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(product(x, y), weights)))
      const run = (): Float32Array[] =>
        tf.tidy(() => [product(a, b), ...grads([a, b])].map((t) => t.dataSync() as Float32Array))
      const before = tf.memory().numTensors
      const { stock, flagFree } = await stockAndFlagFree(run)
      expect(tf.memory().numTensors).toBe(before)
      for (const [i, s] of stock.entries()) expect(relativeError(flagFree[i]!, s)).toBeLessThan(1e-5)
      tf.dispose([a, b, weights])
    })
  })

  it.each(flags)(
    'transposeA=%s transposeB=%s: same product for a 3-D batch times a broadcast 2-D',
    async (tA, tB) => {
      // Forward only: the stock BatchMatMul gradient does not reduce a broadcast batch either.
      const a = tf.randomNormal(tA ? [4, 17, 9] : [4, 9, 17], 0, 1, 'float32', 7)
      const b = tf.randomNormal(tB ? [11, 17] : [17, 11], 0, 1, 'float32', 8)
      const { stock, flagFree } = await stockAndFlagFree(() =>
        tf.tidy(() => tf.matMul(a, b, tA, tB).dataSync()),
      )
      expect(relativeError(flagFree, stock)).toBeLessThan(1e-5)
      tf.dispose([a, b])
    },
  )

  it('leaves no wasm memory behind when it transposes', () => {
    const a = tf.randomNormal([64, 32])
    const b = tf.randomNormal([48, 32])
    tf.tidy(() => tf.matMul(a, b, false, true).dataSync())
    const before = tf.memory().numBytes
    for (let i = 0; i < 20; i++) tf.tidy(() => tf.matMul(a, b, false, true).dataSync())
    expect(tf.memory().numBytes).toBe(before)
    tf.dispose([a, b])
  })

  it('gives the fused linear matMul the same gradients (its own customGrad makes flagged products)', async () => {
    const x = tf.randomNormal([16, 7], 0, 1, 'float32', 4)
    const w = tf.randomNormal([7, 5], 0, 1, 'float32', 5)
    const bias = tf.randomNormal([5], 0, 1, 'float32', 6)
    const grads = tf.grads((x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) =>
      tf.sum(tf.square(tf.fused.matMul({ a: x, b: w, bias, activation: 'linear' }))),
    )
    const { stock, flagFree } = await stockAndFlagFree(() =>
      tf.tidy(() => grads([x, w, bias]).map((t) => t.dataSync() as Float32Array)),
    )
    for (const [i, s] of stock.entries()) expect(relativeError(flagFree[i]!, s)).toBeLessThan(1e-5)
    tf.dispose([x, w, bias])
  })
})

describe('training with the flag-free wasm BatchMatMul', () => {
  it('trains an MLP to the stock losses within float32 rounding', async () => {
    const s = spec({ hiddenLayers: [16, 8], epochs: 4 })
    const { stock, flagFree } = await stockAndFlagFree(async () =>
      (await train(linearData(), s, noHooks)).history.flatMap((m) => [m.loss, m.valLoss ?? Number.NaN]),
    )
    expect(relativeError(flagFree, stock)).toBeLessThan(1e-4)
  })

  it.each([SequenceArchitecture.WINDOW_MLP, SequenceArchitecture.RNN_GRU])(
    'trains a %s text generator to the stock losses within float32 rounding',
    async (architecture) => {
      const content = buildTextContent(copyText(1500, 3, 0.1, 1), 1, { maxTextBytes: 1e7 })
      const data = { ids: encodeCorpus(content.text!), symbols: content.text!.vocabulary.length + 1 }
      const s: SequenceSpec = {
        architecture,
        contextLength: 6,
        hiddenLayers: [12],
        activation: 'RELU',
        epochs: 2,
        batchSize: 64,
        learningRate: 0.01,
        optimizer: 'ADAM',
        validationSplit: 0.2,
        seed: 5,
      }
      const { stock, flagFree } = await stockAndFlagFree(async () => {
        const result = await trainSequence(data, s, noHooks)
        result.model.dispose()
        return result.history.flatMap((h) =>
          h.metrics.filter((m) => m.name.endsWith('oss')).map((m) => m.value),
        )
      })
      expect(stock.length).toBe(4)
      expect(relativeError(flagFree, stock)).toBeLessThan(1e-4)
    },
  )
})
