/**
 * A trained model as plain data (JSON + one byte buffer) that can be stored in PostgreSQL, and the predictor that
 * the explanation library calls: probabilities, logits and input gradients on raw (unstandardised) rows.
 */
import * as tf from '@tensorflow/tfjs'

import type { Normalization } from '../common/normalization'
import { applyModel, deserializeLayersModel, serializeLayersModel } from '../common/tf'
import type { Predictor, Rows } from '../family'
import type { Task } from './spec'
import { TrainingError } from './spec'

export type { Normalization } from '../common/normalization'

/** Everything needed to rebuild a trained model; JSON-serialisable except `weights`, which is raw bytes. */
export interface ModelArtifacts {
  /** Bumped if the layout of this object or the meaning of the network's output ever changes. */
  formatVersion: 1
  task: Task
  featureCount: number
  /** Keras-style model topology (`model.toJSON()` as an object). The output layer is linear: it emits the logit. */
  topology: Record<string, unknown>
  weightSpecs: tf.io.WeightsManifestEntry[]
  /** Weight values laid out as `weightSpecs` says (little-endian float32). */
  weights: Buffer
  normalization: Normalization
  parameterCount: number
}

export type { Predictor, Rows } from '../family'

// Bounds the size of one forward pass; explainers may send tens of thousands of perturbed rows at once.
const CHUNK_ROWS = 4096

/** Serialises a model (weights copied out, the model itself untouched). */
export async function toArtifacts(
  model: tf.LayersModel,
  task: Task,
  normalization: Normalization,
): Promise<ModelArtifacts> {
  const { topology, weightSpecs, weights } = await serializeLayersModel(model)
  return {
    formatVersion: 1,
    task,
    featureCount: normalization.mean.length,
    topology,
    weightSpecs,
    weights,
    normalization: { mean: [...normalization.mean], std: [...normalization.std] },
    parameterCount: model.countParams(),
  }
}

/** Rebuilds the tf model from artifacts; the caller disposes it. */
export async function loadModel(artifacts: ModelArtifacts): Promise<tf.LayersModel> {
  if (artifacts.formatVersion !== 1)
    throw new Error(`unsupported artifacts format ${String(artifacts.formatVersion)}`)
  return deserializeLayersModel(artifacts)
}

/** Loads artifacts into a {@link Predictor} that owns (and disposes) the model. */
export async function createPredictor(artifacts: ModelArtifacts): Promise<Predictor> {
  const model = await loadModel(artifacts)
  return predictorForModel(model, artifacts.task, artifacts.normalization)
}

/**
 * Wraps an in-memory model (for example the one just trained) in a {@link Predictor}. The predictor takes
 * ownership: its dispose() disposes the model.
 */
export function predictorForModel(
  model: tf.LayersModel,
  task: Task,
  normalization: Normalization,
): Predictor {
  const featureCount = normalization.mean.length
  let disposed = false

  const inChunks = <T>(rows: Rows, run: (x: tf.Tensor2D, count: number) => T[]): T[] => {
    if (disposed) throw new Error('predictor used after dispose()')
    const out: T[] = []
    for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
      const chunk = rows.slice(start, start + CHUNK_ROWS)
      const x = tf.tensor2d(standardizeRows(chunk, start), [chunk.length, featureCount])
      try {
        out.push(...run(x, chunk.length))
      } finally {
        x.dispose()
      }
    }
    return out
  }

  const logitOf = (rows: Rows): Float64Array =>
    Float64Array.from(
      inChunks(rows, (x) => {
        const y = tf.tidy(() => applyModel(model, x))
        try {
          return Array.from(y.dataSync())
        } finally {
          y.dispose()
        }
      }),
    )

  // The logit of each row depends on that row only, so the gradient of the batch sum is every row's own gradient.
  const gradOfSum = tf.grad((x: tf.Tensor) => tf.sum(applyModel(model, x)))

  return {
    task,
    featureCount,
    logit: logitOf,
    predict(rows) {
      const z = logitOf(rows)
      if (task === 'BINARY_CLASSIFICATION') {
        for (let i = 0; i < z.length; i++) z[i] = sigmoid(z[i] as number)
      }
      return z
    },
    gradient(rows) {
      return inChunks(rows, (x, count) => {
        const g = tf.tidy(() => gradOfSum(x))
        let values: Float32Array | Int32Array | Uint8Array
        try {
          values = g.dataSync()
        } finally {
          g.dispose()
        }
        const grads: Float64Array[] = []
        for (let r = 0; r < count; r++) {
          const row = new Float64Array(featureCount)
          // Chain rule through x_std = (x - mean) / std.
          for (let c = 0; c < featureCount; c++) {
            row[c] = (values[r * featureCount + c] as number) / (normalization.std[c] as number)
          }
          grads.push(row)
        }
        return grads
      })
    },
    dispose() {
      if (disposed) return
      disposed = true
      model.dispose()
    },
  }

  function standardizeRows(rows: Rows, firstRowNumber: number): Float32Array {
    const { mean, std } = normalization
    const out = new Float32Array(rows.length * featureCount)
    rows.forEach((row, r) => {
      if (row.length !== featureCount) {
        const n = firstRowNumber + r
        throw new TrainingError(
          `row ${n} has ${row.length} values, the model expects ${featureCount}`,
          'INVALID_DATA',
        )
      }
      // Same float64 arithmetic as training's standardisation, so both feed the network identical float32 inputs.
      for (let c = 0; c < featureCount; c++) {
        out[r * featureCount + c] = ((row[c] as number) - (mean[c] as number)) / (std[c] as number)
      }
    })
    return out
  }
}

function sigmoid(z: number): number {
  // Split by sign so exp never overflows.
  if (z >= 0) return 1 / (1 + Math.exp(-z))
  const e = Math.exp(z)
  return e / (1 + e)
}
