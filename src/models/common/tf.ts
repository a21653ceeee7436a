/** TensorFlow.js helpers every family uses: optimizers, eager application, (de)serialising Layers models. */
import * as tf from '@tensorflow/tfjs'

import type { OptimizerName } from './spec'

/** A fresh optimizer; the caller disposes it (Adam and RMSProp hold slot variables). */
export function createOptimizer(name: OptimizerName, learningRate: number): tf.Optimizer {
  switch (name) {
    case 'ADAM':
      return tf.train.adam(learningRate)
    case 'SGD':
      return tf.train.sgd(learningRate)
    case 'RMSPROP':
      return tf.train.rmsprop(learningRate)
    default:
      return unreachable(name)
  }
}

/** Runs the model eagerly on a concrete tensor; usable inside tf.grad and optimizer.minimize, unlike predict(). */
export function applyModel(model: tf.LayersModel, x: tf.Tensor, training = false): tf.Tensor {
  const out = model.apply(x, { training })
  if (!(out instanceof tf.Tensor)) throw new Error('expected a single-output model')
  return out
}

/** The model's trainable variables, for optimizer.minimize (which otherwise differentiates every variable alive). */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => {
    const v = w.read()
    if (!(v instanceof tf.Variable)) throw new Error(`weight ${w.name} is not backed by a tf.Variable`)
    return v
  })
}

/** A Layers model as plain data: Keras topology, weight manifest, little-endian float32 weights. */
export interface SerializedLayersModel {
  topology: Record<string, unknown>
  weightSpecs: tf.io.WeightsManifestEntry[]
  weights: Buffer
}

/** Serialises a model (weights copied out, the model itself untouched). */
export async function serializeLayersModel(model: tf.LayersModel): Promise<SerializedLayersModel> {
  let saved: tf.io.ModelArtifacts | undefined
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
    }),
  )
  if (
    saved?.modelTopology === undefined ||
    saved.weightSpecs === undefined ||
    saved.weightData === undefined
  ) {
    throw new Error('model.save produced no topology or weights')
  }
  return {
    topology: saved.modelTopology as Record<string, unknown>,
    weightSpecs: saved.weightSpecs,
    weights: Buffer.from(tf.io.CompositeArrayBuffer.join(saved.weightData)),
  }
}

/**
 * Running sums of an epoch's batch terms, kept on the backend: one read at the end of the epoch instead of a
 * sync per batch.
 */
export class RunningSums {
  private sums: tf.Tensor[]

  /** Sums of these shapes, starting at zero. */
  constructor(shapes: readonly number[][]) {
    this.sums = shapes.map((shape) => tf.zeros(shape))
  }

  /** Adds one batch's terms, in the constructor's order; takes ownership of them (they are disposed). */
  add(terms: readonly tf.Tensor[]): void {
    const next = tf.tidy(() => this.sums.map((sum, i) => tf.add(sum, terms[i] as tf.Tensor)))
    tf.dispose([...this.sums, ...terms])
    this.sums = next
  }

  read(): Promise<Float32Array[]> {
    return Promise.all(this.sums.map((sum) => sum.data() as Promise<Float32Array>))
  }

  dispose(): void {
    tf.dispose(this.sums)
  }
}

/** Rebuilds a tf model from its serialised form; the caller disposes it. */
export async function deserializeLayersModel(s: SerializedLayersModel): Promise<tf.LayersModel> {
  const { weights } = s
  // A Buffer may be a view into a larger pooled ArrayBuffer: copy out exactly its bytes.
  const weightData = weights.buffer.slice(
    weights.byteOffset,
    weights.byteOffset + weights.byteLength,
  ) as ArrayBuffer
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: s.topology, weightSpecs: s.weightSpecs, weightData }),
  )
}

export function unreachable(value: never): never {
  throw new Error(`unhandled case ${String(value)}`)
}
