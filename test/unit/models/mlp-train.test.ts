import * as tf from '@tensorflow/tfjs'

import { selectBackend } from '../../../src/training/backend'
import { TrainingError } from '../../../src/models/mlp/spec'
import type { EpochMetric } from '../../../src/models/mlp/train'
import { computeNormalization } from '../../../src/models/common/normalization'
import { splitRows } from '../../../src/models/common/random'
import { train } from '../../../src/models/mlp/train'
import { linearData, recorder, separableData, spec, table } from './mlp-fixtures'

const noHooks = { onEpoch: async (): Promise<void> => undefined }

beforeAll(async () => {
  // The pure-JS backend: deterministic and available everywhere.
  expect(await selectBackend('cpu')).toBe('cpu')
})

describe('train', () => {
  it('gives bit-identical metrics and weights for the same seed, data and backend', async () => {
    const data = separableData()
    const s = spec({ task: 'BINARY_CLASSIFICATION', epochs: 4 })
    const a = await train(data, s, noHooks)
    const b = await train(data, s, noHooks)
    const strip = (h: EpochMetric[]): Omit<EpochMetric, 'durationMs'>[] =>
      h.map(({ durationMs: _, ...m }) => m)
    expect(strip(b.history)).toEqual(strip(a.history))
    expect(b.artifacts.weights.equals(a.artifacts.weights)).toBe(true)
    expect(b.holdoutIndices).toEqual(a.holdoutIndices)
  })

  it('is deterministic for seed 0 too (tfjs treats a 0 initializer seed as unseeded)', async () => {
    const s = spec({ seed: 0, epochs: 2 })
    const a = await train(linearData(), s, noHooks)
    const b = await train(linearData(), s, noHooks)
    expect(b.history.map((m) => m.loss)).toEqual(a.history.map((m) => m.loss))
    expect(b.artifacts.weights.equals(a.artifacts.weights)).toBe(true)
  })

  it('gives different losses for a different seed', async () => {
    const a = await train(linearData(), spec({ seed: 1 }), noHooks)
    const b = await train(linearData(), spec({ seed: 2 }), noHooks)
    expect(b.history.map((m) => m.loss)).not.toEqual(a.history.map((m) => m.loss))
  })

  it('reports every epoch from 1 with finite metrics and a duration', async () => {
    const rec = recorder()
    const result = await train(linearData(), spec({ epochs: 5 }), rec)
    expect(rec.metrics.map((m) => m.epoch)).toEqual([1, 2, 3, 4, 5])
    expect(result.history).toEqual(rec.metrics)
    expect(result.cancelled).toBe(false)
    expect(result.backend).toBe('cpu')
    expect(result.samplesPerSecond).toBeGreaterThan(0)
    for (const m of rec.metrics) {
      expect(Number.isFinite(m.loss)).toBe(true)
      expect(Number.isFinite(m.valLoss)).toBe(true)
      expect(m.durationMs).toBeGreaterThanOrEqual(0)
      // Regression has no accuracy.
      expect(m.accuracy).toBeUndefined()
      expect(m.valAccuracy).toBeUndefined()
    }
  })

  it('fits a linear function to a low loss', async () => {
    const data = linearData()
    const variance = (() => {
      const t = Array.from(data.targets)
      const mean = t.reduce((a, b) => a + b, 0) / t.length
      return t.reduce((a, b) => a + (b - mean) ** 2, 0) / t.length
    })()
    const result = await train(data, spec({ epochs: 40, hiddenLayers: [16] }), noHooks)
    const last = result.history.at(-1)
    expect(last?.valLoss).toBeLessThan(0.01 * variance)
    expect(last?.loss).toBeLessThan(result.history[0]?.loss ?? 0)
  })

  it('separates a separable set with high accuracy', async () => {
    const result = await train(
      separableData(),
      spec({ task: 'BINARY_CLASSIFICATION', epochs: 15, learningRate: 0.05 }),
      noHooks,
    )
    const last = result.history.at(-1)
    expect(last?.accuracy).toBeGreaterThanOrEqual(0.97)
    expect(last?.valAccuracy).toBeGreaterThanOrEqual(0.95)
    expect(last?.valLoss).toBeLessThan(0.2)
  })

  it('holds out a deterministic, disjoint validation set and standardises with the training rows only', async () => {
    const data = linearData(101)
    const split = splitRows(101, 0.2, 7)
    expect(splitRows(101, 0.2, 7)).toEqual(split)
    expect(splitRows(101, 0.2, 8)).not.toEqual(split)
    expect(split.holdoutIndices).toHaveLength(101 - Math.floor(101 * 0.8))
    expect([...split.trainIndices, ...split.holdoutIndices].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 101 }, (_, i) => i),
    )

    const result = await train(data, spec({ epochs: 1, seed: 7, validationSplit: 0.2 }), noHooks)
    expect(result.holdoutIndices).toEqual(split.holdoutIndices)
    expect(result.trainIndices).toEqual(split.trainIndices)
    expect(result.normalization).toEqual(
      computeNormalization(data.features, data.featureCount, split.trainIndices),
    )
    expect(result.artifacts.normalization).toEqual(result.normalization)
  })

  it('trains without validation when validationSplit is 0', async () => {
    const result = await train(
      separableData(50),
      spec({ task: 'BINARY_CLASSIFICATION', validationSplit: 0 }),
      noHooks,
    )
    expect(result.holdoutIndices).toEqual([])
    expect(result.trainIndices).toHaveLength(50)
    expect(result.history[0]?.valLoss).toBeUndefined()
    expect(result.history[0]?.valAccuracy).toBeUndefined()
    expect(result.history[0]?.accuracy).toBeDefined()
  })

  it('gives constant features std 1 instead of dividing by zero', () => {
    const data = table(10, 2, () => 0)
    for (let r = 0; r < 10; r++) data.features[r * 2 + 1] = 42
    const norm = computeNormalization(
      data.features,
      data.featureCount,
      Array.from({ length: 10 }, (_, i) => i),
    )
    expect(norm.mean[1]).toBe(42)
    expect(norm.std[1]).toBe(1)
  })

  it('awaits onEpoch before starting the next epoch', async () => {
    const events: string[] = []
    await train(linearData(), spec({ epochs: 3 }), {
      onEpoch: async (m) => {
        events.push(`start ${m.epoch}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
        events.push(`end ${m.epoch}`)
      },
    })
    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3'])
  })

  it('stops after the epoch whose hook returns stop', async () => {
    const seen: number[] = []
    const result = await train(linearData(), spec({ epochs: 10 }), {
      onEpoch: async (m) => {
        seen.push(m.epoch)
        return m.epoch === 2 ? 'stop' : undefined
      },
    })
    expect(seen).toEqual([1, 2])
    expect(result.cancelled).toBe(true)
    expect(result.history).toHaveLength(2)
    expect(result.artifacts.weights.byteLength).toBeGreaterThan(0)
  })

  it('stops within an epoch when the signal aborts', async () => {
    const controller = new AbortController()
    const rec = recorder()
    const result = await train(
      linearData(2000),
      spec({ epochs: 50, batchSize: 4 }),
      {
        onEpoch: async (m) => {
          await rec.onEpoch(m)
          // Fires while epoch 2 runs: training yields to the event loop between batches.
          if (m.epoch === 1) setTimeout(() => controller.abort(), 5)
        },
      },
      { signal: controller.signal, yieldEveryMs: 0 },
    )
    expect(result.cancelled).toBe(true)
    // Epoch 2 (400 batches) outlasts the 5 ms timer, so it is cut short and never reported.
    expect(rec.metrics.map((m) => m.epoch)).toEqual([1])
    expect(result.history).toEqual(rec.metrics)

    const before = await train(linearData(), spec(), noHooks, { signal: AbortSignal.abort() })
    expect(before.cancelled).toBe(true)
    expect(before.history).toEqual([])
  })

  it('throws a TrainingError when the loss becomes NaN', async () => {
    const rec = recorder()
    const run = train(
      separableData(),
      spec({ task: 'BINARY_CLASSIFICATION', optimizer: 'SGD', learningRate: 1e3 }),
      rec,
    )
    await expect(run).rejects.toThrow(TrainingError)
    await expect(run).rejects.toMatchObject({
      code: 'NON_FINITE_LOSS',
      epoch: 1,
      message: 'loss became NaN at epoch 1',
    })
    // The bad epoch is never handed to the hook (GraphQL cannot even serialise NaN).
    expect(rec.metrics).toEqual([])
  })

  it('throws a TrainingError when the loss overflows to Infinity', async () => {
    const data = table(100, 2, (x) => 1e20 * (x[0] as number))
    await expect(train(data, spec(), noHooks)).rejects.toMatchObject({
      name: 'TrainingError',
      code: 'NON_FINITE_LOSS',
      message: 'loss became Infinity at epoch 1',
    })
  })

  it('rejects invalid specs and data before training', async () => {
    await expect(train(linearData(), spec({ batchSize: 0 }), noHooks)).rejects.toMatchObject({
      code: 'INVALID_SPEC',
    })
    await expect(train(linearData(), spec({ validationSplit: 1 }), noHooks)).rejects.toMatchObject({
      code: 'INVALID_SPEC',
    })
    await expect(train(linearData(), spec({ task: 'BINARY_CLASSIFICATION' }), noHooks)).rejects.toMatchObject(
      {
        code: 'INVALID_DATA',
      },
    )
    const withNaN = linearData(20)
    withNaN.features[5] = Number.NaN
    await expect(train(withNaN, spec(), noHooks)).rejects.toThrow('feature 1 of row 1 is NaN')
  })

  it('leaks no tensors across runs, whether they finish, stop or fail', async () => {
    // Warm-up: the first run creates tfjs's process-wide cached constants.
    await train(separableData(60), spec({ task: 'BINARY_CLASSIFICATION', epochs: 1 }), noHooks)
    const before = tf.memory().numTensors
    for (let i = 0; i < 3; i++) {
      await train(
        separableData(60),
        spec({ task: 'BINARY_CLASSIFICATION', optimizer: 'RMSPROP', seed: i }),
        noHooks,
      )
      await train(linearData(60), spec({ epochs: 5, optimizer: 'SGD' }), {
        onEpoch: async () => 'stop' as const,
      })
      await expect(
        train(
          separableData(60),
          spec({ task: 'BINARY_CLASSIFICATION', optimizer: 'SGD', learningRate: 1e3 }),
          noHooks,
        ),
      ).rejects.toThrow(TrainingError)
      expect(tf.memory().numTensors).toBe(before)
    }
  })

  it('builds every activation and a network without hidden layers', async () => {
    for (const activation of ['RELU', 'TANH', 'SIGMOID', 'ELU'] as const) {
      const result = await train(
        linearData(60),
        spec({ activation, hiddenLayers: [4, 3], epochs: 1 }),
        noHooks,
      )
      expect(result.artifacts.parameterCount).toBe(4 * 4 + 4 + (4 * 3 + 3) + (3 + 1))
    }
    const linear = await train(linearData(60), spec({ hiddenLayers: [], epochs: 1 }), noHooks)
    expect(linear.artifacts.parameterCount).toBe(4 + 1)
  })
})
