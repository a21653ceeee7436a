/**
 * Builds the network a {@link TrainSpec} describes, and the loss and accuracy the training loop minimises.
 *
 * The output layer is always linear: for classification it emits the logit, and the sigmoid lives in the loss
 * (a numerically stable cross-entropy on logits) and in the predictor. Explanations need d(logit)/dx, and a
 * logit recovered from a saturated sigmoid output (log(p / (1 - p)) at p = 1 - 1e-8 in float32) is useless.
 */
import * as tf from '@tensorflow/tfjs'
import seedrandom from 'seedrandom'

import type { Activation, OptimizerName, Task, TrainSpec } from './spec'

/** Name of the output layer; its single unit is the logit (classification) or the prediction (regression). */
export const OUTPUT_LAYER_NAME = 'logit'

/** A uniform [0, 1) generator fully determined by `seed` and `purpose`. */
export function seededRandom(seed: number, purpose: string): () => number {
  // Mixing in the purpose keeps the streams independent: seed 2's split is not seed 1's shuffle shifted by one.
  return seedrandom.alea(`${seed}/${purpose}`)
}

/**
 * A seed for a tfjs random op, derived from the run seed. Never 0: tfjs's truncated-normal generator treats a
 * falsy seed as "no seed" and silently falls back to Math.random (seen in tfjs-core 4.22 `MPRandGauss`).
 */
export function deriveSeed(seed: number, purpose: string): number {
  return 1 + Math.floor(seededRandom(seed, purpose)() * 2147483646)
}

const ACTIVATIONS: Record<Activation, 'relu' | 'tanh' | 'sigmoid' | 'elu'> = {
  RELU: 'relu',
  TANH: 'tanh',
  SIGMOID: 'sigmoid',
  ELU: 'elu',
}

/**
 * An untrained tf.Sequential: Dense hidden layers (He-normal initialised for ReLU/ELU, Glorot-uniform for
 * tanh/sigmoid, zero biases) and one linear output unit. Every kernel has its own seed derived from `spec.seed`
 * and the layer index, so the same spec always starts from the same weights.
 */
export function buildModel(spec: TrainSpec, featureCount: number): tf.Sequential {
  const model = tf.sequential({ name: 'lab_mlp' })
  const inputShape = [featureCount]
  spec.hiddenLayers.forEach((units, i) => {
    const seed = deriveSeed(spec.seed, `kernel/${i}`)
    const saturating = spec.activation === 'TANH' || spec.activation === 'SIGMOID'
    model.add(
      tf.layers.dense({
        name: `hidden_${i + 1}`,
        units,
        activation: ACTIVATIONS[spec.activation],
        kernelInitializer: saturating
          ? tf.initializers.glorotUniform({ seed })
          : tf.initializers.heNormal({ seed }),
        biasInitializer: 'zeros',
        ...(i === 0 ? { inputShape } : {}),
      }),
    )
  })
  model.add(
    tf.layers.dense({
      name: OUTPUT_LAYER_NAME,
      units: 1,
      activation: 'linear',
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(spec.seed, 'kernel/output') }),
      biasInitializer: 'zeros',
      ...(spec.hiddenLayers.length === 0 ? { inputShape } : {}),
    }),
  )
  return model
}

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

/**
 * Loss per row, shape [batch], from targets [batch, 1] and raw outputs [batch, 1]: sigmoid cross-entropy on the
 * logit for classification (the same value as binaryCrossentropy on sigmoid(logit), without its 1e-7 clipping),
 * squared error for regression.
 */
export function perRowLoss(task: Task, targets: tf.Tensor, outputs: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    switch (task) {
      case 'BINARY_CLASSIFICATION':
        // max(x, 0) - x * z + log(1 + exp(-|x|)): finite for any finite logit.
        return tf.mean(
          tf.add(
            tf.sub(tf.relu(outputs), tf.mul(outputs, targets)),
            tf.log1p(tf.exp(tf.neg(tf.abs(outputs)))),
          ),
          -1,
        )
      case 'REGRESSION':
        return tf.mean(tf.square(tf.sub(outputs, targets)), -1)
      default:
        return unreachable(task)
    }
  }) as tf.Tensor1D
}

/** 1 where the logit is on the side of 0 its 0/1 target says, else 0; shape [batch]. */
export function perRowCorrect(targets: tf.Tensor, logits: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() =>
    tf.mean(tf.cast(tf.equal(tf.cast(tf.greater(logits, 0), 'float32'), targets), 'float32'), -1),
  ) as tf.Tensor1D
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

function unreachable(value: never): never {
  throw new Error(`unhandled case ${String(value)}`)
}
