import * as tf from '@tensorflow/tfjs'

import type { ModelArtifacts, Predictor } from '../../../src/models/mlp/artifacts'
import { createPredictor, loadModel } from '../../../src/models/mlp/artifacts'
import { selectBackend } from '../../../src/training/backend'
import type { TrainData, TrainSpec } from '../../../src/models/mlp/spec'
import { TrainingError } from '../../../src/models/mlp/spec'
import { train } from '../../../src/models/mlp/train'
import { linearData, rowsOf, separableData, spec } from './mlp-fixtures'

const noHooks = { onEpoch: async (): Promise<void> => undefined }

/** What a database round trip does to artifacts: JSON for the structure, a fresh Buffer for the bytes. */
function throughStorage(artifacts: ModelArtifacts): ModelArtifacts {
  const { weights, ...rest } = artifacts
  const json = JSON.parse(JSON.stringify(rest)) as Omit<ModelArtifacts, 'weights'>
  return { ...json, weights: Buffer.from(Uint8Array.prototype.slice.call(weights)) }
}

async function trained(
  data: TrainData,
  overrides: Partial<TrainSpec>,
): Promise<{ artifacts: ModelArtifacts; inMemory: Predictor; holdout: Float64Array[] }> {
  const result = await train(data, spec({ epochs: 5, ...overrides }), noHooks, { keepPredictor: true })
  if (!result.predictor) throw new Error('expected a predictor')
  return {
    artifacts: result.artifacts,
    inMemory: result.predictor,
    holdout: rowsOf(data, result.holdoutIndices),
  }
}

const leftovers: Predictor[] = []
afterAll(() => leftovers.forEach((p) => p.dispose()))

beforeAll(async () => {
  expect(await selectBackend('cpu')).toBe('cpu')
})

describe('artifacts and predictor', () => {
  it.each(['BINARY_CLASSIFICATION', 'REGRESSION'] as const)(
    '%s: a predictor loaded from stored artifacts equals the in-memory model',
    async (task) => {
      const data = task === 'REGRESSION' ? linearData() : separableData()
      const { artifacts, inMemory, holdout } = await trained(data, { task, hiddenLayers: [8, 4] })
      leftovers.push(inMemory)
      const loaded = await createPredictor(throughStorage(artifacts))
      leftovers.push(loaded)

      expect(loaded.task).toBe(task)
      expect(loaded.featureCount).toBe(data.featureCount)
      expect(loaded.predict(holdout)).toEqual(inMemory.predict(holdout))
      expect(loaded.logit(holdout)).toEqual(inMemory.logit(holdout))
      expect(loaded.gradient(holdout)).toEqual(inMemory.gradient(holdout))
      // number[][] is accepted as well as Float64Array[].
      expect(loaded.predict(holdout.map((r) => Array.from(r)))).toEqual(loaded.predict(holdout))
    },
  )

  it('stores plain data: topology, weight specs, bytes, normalisation, parameter count', async () => {
    const { artifacts, inMemory } = await trained(separableData(), {
      task: 'BINARY_CLASSIFICATION',
      epochs: 1,
    })
    inMemory.dispose()
    expect(artifacts.formatVersion).toBe(1)
    expect(artifacts.featureCount).toBe(3)
    expect(artifacts.parameterCount).toBe(3 * 8 + 8 + 8 + 1)
    // float32 weights.
    expect(artifacts.weights.byteLength).toBe(artifacts.parameterCount * 4)
    expect(artifacts.weightSpecs.map((w) => w.name)).toEqual([
      'hidden_1/kernel',
      'hidden_1/bias',
      'logit/kernel',
      'logit/bias',
    ])
    expect(artifacts.normalization.mean).toHaveLength(3)
    expect(JSON.stringify(artifacts.topology)).toContain('"activation":"linear"')
    // Loading twice in one process must not collide on variable names.
    const a = await loadModel(artifacts)
    const b = await loadModel(artifacts)
    a.dispose()
    b.dispose()
  })

  it('returns probabilities as the sigmoid of the logit for classification, the logit itself for regression', async () => {
    const cls = await trained(separableData(), { task: 'BINARY_CLASSIFICATION' })
    leftovers.push(cls.inMemory)
    const z = cls.inMemory.logit(cls.holdout)
    const p = cls.inMemory.predict(cls.holdout)
    z.forEach((zi, i) => expect(p[i]).toBeCloseTo(1 / (1 + Math.exp(-zi)), 12))
    expect(p.every((pi) => pi > 0 && pi < 1)).toBe(true)

    const reg = await trained(linearData(), { task: 'REGRESSION' })
    leftovers.push(reg.inMemory)
    expect(reg.inMemory.predict(reg.holdout)).toEqual(reg.inMemory.logit(reg.holdout))
  })

  it.each(['BINARY_CLASSIFICATION', 'REGRESSION'] as const)(
    '%s: gradient of the logit with respect to raw inputs matches finite differences',
    async (task) => {
      const data = task === 'REGRESSION' ? linearData() : separableData()
      // tanh keeps the function smooth, so central differences are exact up to O(h^2).
      const { artifacts, inMemory, holdout } = await trained(data, {
        task,
        activation: 'TANH',
        hiddenLayers: [16, 8],
      })
      inMemory.dispose()
      const predictor = await createPredictor(artifacts)
      leftovers.push(predictor)
      const rows = holdout.slice(0, 10)
      const grads = predictor.gradient(rows)
      expect(grads).toHaveLength(rows.length)
      rows.forEach((row, r) => {
        for (let c = 0; c < data.featureCount; c++) {
          // A step relative to the feature's spread, large enough to dwarf float32 rounding in the forward pass.
          const h = 1e-2 * (artifacts.normalization.std[c] as number)
          const up = Float64Array.from(row)
          const down = Float64Array.from(row)
          up[c] = (up[c] as number) + h
          down[c] = (down[c] as number) - h
          const [zUp, zDown] = predictor.logit([up, down])
          const numeric = ((zUp as number) - (zDown as number)) / (2 * h)
          const analytic = grads[r]?.[c] as number
          expect(Math.abs(analytic - numeric)).toBeLessThanOrEqual(2e-3 * Math.max(1, Math.abs(numeric)))
        }
      })
    },
  )

  it('splits large requests into chunks without changing the answers', async () => {
    const { inMemory } = await trained(linearData(), { epochs: 1 })
    leftovers.push(inMemory)
    const data = linearData(5000)
    const rows = rowsOf(
      data,
      Array.from({ length: 5000 }, (_, i) => i),
    )
    const all = inMemory.predict(rows)
    expect(all).toHaveLength(5000)
    const tail = inMemory.predict(rows.slice(4090))
    tail.forEach((v, i) => expect(all[4090 + i]).toBeCloseTo(v, 5))
    expect(inMemory.gradient(rows)).toHaveLength(5000)
  })

  it('rejects rows of the wrong width and use after dispose, and frees its tensors', async () => {
    const { artifacts, inMemory } = await trained(linearData(), { epochs: 1 })
    inMemory.dispose()
    const before = tf.memory().numTensors
    const predictor = await createPredictor(artifacts)
    expect(() => predictor.predict([[1, 2, 3]])).toThrow(TrainingError)
    expect(() => predictor.predict([[1, 2, 3]])).toThrow('row 0 has 3 values, the model expects 4')
    predictor.gradient([[1, 2, 3, 4]])
    predictor.dispose()
    predictor.dispose()
    expect(tf.memory().numTensors).toBe(before)
    expect(() => predictor.predict([[1, 2, 3, 4]])).toThrow('predictor used after dispose()')
  })
})
