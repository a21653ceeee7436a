/**
 * A trained VAE in the generic TrainedModel row: both networks' topologies side by side in `topology`, their
 * weight manifests in `weightSpecs`, the encoder's weights followed by the decoder's in `weights`.
 */
import * as tf from '@tensorflow/tfjs'

import type { Normalization } from '../common/normalization'
import { deserializeLayersModel, serializeLayersModel } from '../common/tf'
import type { StoredModel } from '../family'
import type { Likelihood } from '../family.enums'
import { VaeModel } from './model'

interface VaeTopology {
  formatVersion: 1
  family: 'VAE'
  latentDim: number
  likelihood: Likelihood
  featureCount: number
  encoder: Record<string, unknown>
  decoder: Record<string, unknown>
  /** Bytes of `weights` that belong to the encoder. */
  encoderBytes: number
}

export async function toStoredVae(model: VaeModel): Promise<StoredModel> {
  const encoder = await serializeLayersModel(model.nets.encoder)
  const decoder = await serializeLayersModel(model.nets.decoder)
  const topology: VaeTopology = {
    formatVersion: 1,
    family: 'VAE',
    latentDim: model.latentDim,
    likelihood: model.likelihood,
    featureCount: model.featureCount,
    encoder: encoder.topology,
    decoder: decoder.topology,
    encoderBytes: encoder.weights.byteLength,
  }
  return {
    topology,
    weightSpecs: { encoder: encoder.weightSpecs, decoder: decoder.weightSpecs },
    weights: Buffer.concat([encoder.weights, decoder.weights]),
    normalization: model.normalization,
    parameterCount: model.nets.encoder.countParams() + model.nets.decoder.countParams(),
  }
}

export async function loadVae(stored: StoredModel): Promise<VaeModel> {
  const t = stored.topology as VaeTopology
  if (t.formatVersion !== 1 || t.family !== 'VAE')
    throw new Error('the stored model is not a VAE of a known format')
  const specs = stored.weightSpecs as {
    encoder: tf.io.WeightsManifestEntry[]
    decoder: tf.io.WeightsManifestEntry[]
  }
  const bytes = Buffer.from(stored.weights.buffer, stored.weights.byteOffset, stored.weights.byteLength)
  const encoder = await deserializeLayersModel({
    topology: t.encoder,
    weightSpecs: specs.encoder,
    weights: bytes.subarray(0, t.encoderBytes),
  })
  const decoder = await deserializeLayersModel({
    topology: t.decoder,
    weightSpecs: specs.decoder,
    weights: bytes.subarray(t.encoderBytes),
  })
  return new VaeModel({ encoder, decoder }, t.latentDim, t.likelihood, stored.normalization as Normalization)
}
