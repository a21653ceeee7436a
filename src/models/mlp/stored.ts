import type { StoredModel } from '../family'
import type { ModelArtifacts } from './artifacts'

/**
 * Between the trainer's artifacts and the TrainedModel row: the row keeps the Keras topology with
 * the format version, task and feature count beside it, so a model can be rebuilt from its row alone.
 */
export function toStoredModel(a: ModelArtifacts): StoredModel {
  return {
    topology: {
      formatVersion: a.formatVersion,
      task: a.task,
      featureCount: a.featureCount,
      model: a.topology,
    },
    weightSpecs: a.weightSpecs,
    weights: a.weights,
    normalization: a.normalization,
    parameterCount: a.parameterCount,
  }
}

export function fromStoredModel(s: StoredModel): ModelArtifacts {
  const meta = s.topology as {
    formatVersion: 1
    task: ModelArtifacts['task']
    featureCount: number
    model: Record<string, unknown>
  }
  return {
    formatVersion: meta.formatVersion,
    task: meta.task,
    featureCount: meta.featureCount,
    topology: meta.model,
    weightSpecs: s.weightSpecs as ModelArtifacts['weightSpecs'],
    weights: Buffer.from(s.weights.buffer, s.weights.byteOffset, s.weights.byteLength),
    normalization: s.normalization as ModelArtifacts['normalization'],
    parameterCount: s.parameterCount,
  }
}
