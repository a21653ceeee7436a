/**
 * Builds the network a {@link TrainSpec} describes, and the loss and accuracy the training loop minimises.
 *
 * The output layer is always linear: for classification it emits the logit, and the sigmoid lives in the loss
 * (a numerically stable cross-entropy on logits) and in the predictor. Explanations need d(logit)/dx, and a
 * logit recovered from a saturated sigmoid output (log(p / (1 - p)) at p = 1 - 1e-8 in float32) is useless.
 */
import * as tf from '@tensorflow/tfjs'

import { deriveSeed } from '../common/random'
import { TF_ACTIVATIONS } from '../common/spec'
import { unreachable } from '../common/tf'
import type { Task, TrainSpec } from './spec'

/** Name of the output layer; its single unit is the logit (classification) or the prediction (regression). */
export const OUTPUT_LAYER_NAME = 'logit'

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
        activation: TF_ACTIVATIONS[spec.activation],
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
