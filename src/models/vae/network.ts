/**
 * The VAE's two networks and its loss. Encoder: Dense hidden layers -> one linear layer of 2k units (the
 * posterior's means, then its log-variances). Decoder: the hidden layers mirrored -> one linear layer of m units
 * (standardised means for GAUSSIAN, logits for BERNOULLI). Only Dense layers: the wasm backend cannot train
 * conv2d (ENVIRONMENT.md).
 */
import * as tf from '@tensorflow/tfjs'

import type { Normalization } from '../common/normalization'
import { deriveSeed } from '../common/random'
import { TF_ACTIVATIONS } from '../common/spec'
import { applyModel } from '../common/tf'
import { Likelihood } from '../family.enums'
import type { VaeSpec } from './spec'

/** Log-variances are clipped to this range before exp: a wild early step must not overflow float32. */
const LOG_VAR_LIMIT = 30

export interface VaeNetworks {
  encoder: tf.LayersModel
  decoder: tf.LayersModel
}

function denseStack(
  name: string,
  inputSize: number,
  hidden: readonly number[],
  outputSize: number,
  spec: Pick<VaeSpec, 'activation' | 'seed'>,
): tf.Sequential {
  const model = tf.sequential({ name })
  const saturating = spec.activation === 'TANH' || spec.activation === 'SIGMOID'
  hidden.forEach((units, i) => {
    const seed = deriveSeed(spec.seed, `${name}/kernel/${i}`)
    model.add(
      tf.layers.dense({
        name: `${name}_hidden_${i + 1}`,
        units,
        activation: TF_ACTIVATIONS[spec.activation],
        kernelInitializer: saturating
          ? tf.initializers.glorotUniform({ seed })
          : tf.initializers.heNormal({ seed }),
        biasInitializer: 'zeros',
        ...(i === 0 ? { inputShape: [inputSize] } : {}),
      }),
    )
  })
  model.add(
    tf.layers.dense({
      name: `${name}_output`,
      units: outputSize,
      activation: 'linear',
      kernelInitializer: tf.initializers.glorotUniform({
        seed: deriveSeed(spec.seed, `${name}/kernel/output`),
      }),
      biasInitializer: 'zeros',
      ...(hidden.length === 0 ? { inputShape: [inputSize] } : {}),
    }),
  )
  return model
}

/** Untrained encoder and decoder, every kernel seeded from the run seed. */
export function buildVae(spec: VaeSpec, featureCount: number): VaeNetworks {
  return {
    encoder: denseStack('encoder', featureCount, spec.hiddenLayers, 2 * spec.latentDim, spec),
    decoder: denseStack('decoder', spec.latentDim, [...spec.hiddenLayers].reverse(), featureCount, spec),
  }
}

/** Posterior parameters of network inputs (already standardised): [n, k] each. */
export function posterior(
  nets: VaeNetworks,
  x: tf.Tensor2D,
  latentDim: number,
  training = false,
): { mean: tf.Tensor2D; logVar: tf.Tensor2D } {
  const out = applyModel(nets.encoder, x, training) as tf.Tensor2D
  const [mean, rawLogVar] = tf.split(out, [latentDim, latentDim], 1) as [tf.Tensor2D, tf.Tensor2D]
  return { mean, logVar: tf.clipByValue(rawLogVar, -LOG_VAR_LIMIT, LOG_VAR_LIMIT) }
}

/** 0.5 (mu^2 + sigma^2 - log sigma^2 - 1) per row and latent: [n, k]. */
export function klPerLatent(mean: tf.Tensor2D, logVar: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(0.5, tf.sub(tf.add(tf.square(mean), tf.exp(logVar)), tf.add(logVar, 1))) as tf.Tensor2D
}

/**
 * Reconstruction term per row, [n]: BERNOULLI - binary cross-entropy on logits summed over features (stable
 * form max(o, 0) - o x + log(1 + exp(-|o|))); GAUSSIAN - 0.5 sum (x - x_hat)^2 on standardised features.
 */
export function reconstructionPerRow(likelihood: Likelihood, x: tf.Tensor2D, out: tf.Tensor2D): tf.Tensor1D {
  if (likelihood === Likelihood.BERNOULLI) {
    return tf.sum(tf.add(tf.sub(tf.relu(out), tf.mul(out, x)), tf.log1p(tf.exp(tf.neg(tf.abs(out))))), 1)
  }
  return tf.mul(0.5, tf.sum(tf.square(tf.sub(x, out)), 1)) as tf.Tensor1D
}

/** Per-row terms of one pass: encode, reparameterise with the given noise, decode. */
export function forwardTerms(
  nets: VaeNetworks,
  spec: Pick<VaeSpec, 'latentDim' | 'likelihood'>,
  x: tf.Tensor2D,
  noise: tf.Tensor2D,
  training: boolean,
): { reconstruction: tf.Tensor1D; kl: tf.Tensor2D } {
  const { mean, logVar } = posterior(nets, x, spec.latentDim, training)
  const z = tf.add(mean, tf.mul(tf.exp(tf.mul(0.5, logVar)), noise)) as tf.Tensor2D
  const out = applyModel(nets.decoder, z, training) as tf.Tensor2D
  return { reconstruction: reconstructionPerRow(spec.likelihood, x, out), kl: klPerLatent(mean, logVar) }
}

/** Network input from raw rows: standardised for GAUSSIAN, as they are (pixels) for BERNOULLI. */
export function toNetworkInput(x: tf.Tensor2D, norm: Normalization): tf.Tensor2D {
  return tf.div(tf.sub(x, tf.tensor1d(norm.mean)), tf.tensor1d(norm.std)) as tf.Tensor2D
}

/** Decoder output in the dataset's units: probabilities for BERNOULLI, de-standardised means for GAUSSIAN. */
export function toDatasetUnits(likelihood: Likelihood, out: tf.Tensor2D, norm: Normalization): tf.Tensor2D {
  if (likelihood === Likelihood.BERNOULLI) return tf.sigmoid(out)
  return tf.add(tf.mul(out, tf.tensor1d(norm.std)), tf.tensor1d(norm.mean)) as tf.Tensor2D
}
