/**
 * A trained SEQUENCE model in the generic TrainedModel row: the Keras topology with the architecture, context
 * length and vocabulary beside it, so a model can be rebuilt and asked from its row alone.
 */
import type * as tf from '@tensorflow/tfjs'

import { deserializeLayersModel, serializeLayersModel } from '../common/tf'
import type { StoredModel } from '../family'
import type { SequenceArchitecture } from '../family.enums'
import { SequenceModel } from './model'

interface SequenceTopology {
  formatVersion: 1
  family: 'SEQUENCE'
  architecture: SequenceArchitecture
  contextLength: number
  vocabulary: string[]
  model: Record<string, unknown>
}

export async function toStoredSequence(model: SequenceModel): Promise<StoredModel> {
  const s = await serializeLayersModel(model.network)
  const topology: SequenceTopology = {
    formatVersion: 1,
    family: 'SEQUENCE',
    architecture: model.architecture,
    contextLength: model.contextLength,
    vocabulary: [...model.vocabulary],
    model: s.topology,
  }
  return {
    topology,
    weightSpecs: s.weightSpecs,
    weights: s.weights,
    // One-hot inputs need no normalisation.
    normalization: {},
    parameterCount: model.network.countParams(),
  }
}

export async function loadSequence(stored: StoredModel): Promise<SequenceModel> {
  const t = stored.topology as SequenceTopology
  if (t.formatVersion !== 1 || t.family !== 'SEQUENCE')
    throw new Error('the stored model is not a SEQUENCE model of a known format')
  const network = await deserializeLayersModel({
    topology: t.model,
    weightSpecs: stored.weightSpecs as tf.io.WeightsManifestEntry[],
    weights: Buffer.from(stored.weights.buffer, stored.weights.byteOffset, stored.weights.byteLength),
  })
  return new SequenceModel(network, t.architecture, t.contextLength, t.vocabulary)
}
