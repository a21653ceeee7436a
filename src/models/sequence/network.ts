/**
 * The SEQUENCE family's networks and loss. Both take a context as one-hot characters, [batch, contextLength,
 * symbols] (a position before the start of the text is all zeros), and emit one logit per symbol for the next
 * character. One-hot inputs rather than an Embedding layer: the wasm backend cannot train an Embedding
 * (no gradient kernel for gather).
 */
import * as tf from '@tensorflow/tfjs'

import { deriveSeed } from '../common/random'
import { TF_ACTIVATIONS } from '../common/spec'
import { SequenceArchitecture } from '../family.enums'
import type { SequenceSpec } from './spec'

/**
 * An untrained network. WINDOW_MLP: the window flattened, Dense hidden layers with the run's activation, a
 * linear output. RNN_GRU: one GRU layer per hiddenLayers entry (the last returns its final state only), a
 * linear output. Every kernel is seeded from the run seed and its layer.
 */
export function buildSequenceModel(
  spec: Pick<SequenceSpec, 'architecture' | 'contextLength' | 'hiddenLayers' | 'activation' | 'seed'>,
  symbols: number,
): tf.Sequential {
  const model = tf.sequential({ name: 'lab_sequence' })
  const inputShape = [spec.contextLength, symbols]
  const seed = (purpose: string) => deriveSeed(spec.seed, purpose)
  if (spec.architecture === SequenceArchitecture.WINDOW_MLP) {
    model.add(tf.layers.flatten({ name: 'window', inputShape }))
    const saturating = spec.activation === 'TANH' || spec.activation === 'SIGMOID'
    spec.hiddenLayers.forEach((units, i) => {
      model.add(
        tf.layers.dense({
          name: `hidden_${i + 1}`,
          units,
          activation: TF_ACTIVATIONS[spec.activation],
          kernelInitializer: saturating
            ? tf.initializers.glorotUniform({ seed: seed(`kernel/${i}`) })
            : tf.initializers.heNormal({ seed: seed(`kernel/${i}`) }),
          biasInitializer: 'zeros',
        }),
      )
    })
  } else {
    spec.hiddenLayers.forEach((units, i) => {
      model.add(
        tf.layers.gru({
          name: `gru_${i + 1}`,
          units,
          returnSequences: i < spec.hiddenLayers.length - 1,
          kernelInitializer: tf.initializers.glorotUniform({ seed: seed(`gru/${i}/kernel`) }),
          recurrentInitializer: tf.initializers.orthogonal({ gain: 1, seed: seed(`gru/${i}/recurrent`) }),
          biasInitializer: 'zeros',
          ...(i === 0 ? { inputShape } : {}),
        }),
      )
    })
  }
  model.add(
    tf.layers.dense({
      name: 'next_symbol',
      units: symbols,
      activation: 'linear',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed('kernel/output') }),
      biasInitializer: 'zeros',
    }),
  )
  return model
}

/**
 * One-hot contexts, [n, contextLength, symbols] row-major: the context of target position `targets[i]` is the
 * `contextLength` symbols before it, none before `starts[i]` (those positions stay zero).
 */
export function encodeWindows(
  ids: Int32Array,
  targets: ArrayLike<number>,
  starts: ArrayLike<number>,
  contextLength: number,
  symbols: number,
): Float32Array {
  const n = targets.length
  const out = new Float32Array(n * contextLength * symbols)
  for (let i = 0; i < n; i++) {
    const t = targets[i]!
    const first = Math.max(starts[i]!, t - contextLength)
    for (let pos = first; pos < t; pos++) {
      const slot = contextLength - (t - pos)
      out[(i * contextLength + slot) * symbols + ids[pos]!] = 1
    }
  }
  return out
}

/** One-hot contexts of explicit symbol lists (the last contextLength of each, left-padded with zeros). */
export function encodeContexts(
  contexts: readonly (readonly number[])[],
  contextLength: number,
  symbols: number,
): Float32Array {
  const out = new Float32Array(contexts.length * contextLength * symbols)
  contexts.forEach((context, i) => {
    const used = context.slice(-contextLength)
    const offset = contextLength - used.length
    used.forEach((id, j) => {
      if (!Number.isInteger(id) || id < 0 || id >= symbols)
        throw new RangeError(`symbol ${id} is out of range`)
      out[(i * contextLength + offset + j) * symbols + id] = 1
    })
  })
  return out
}

/** Cross-entropy in nats per row, [n], from logits [n, symbols] and one-hot targets [n, symbols]. */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1)) as tf.Tensor1D
}

/** 1 where the most likely symbol is the target, else 0; [n]. */
export function top1Correct(logits: tf.Tensor2D, targetIds: tf.Tensor1D): tf.Tensor1D {
  return tf.cast(tf.equal(tf.argMax(logits, 1), targetIds), 'float32') as tf.Tensor1D
}
