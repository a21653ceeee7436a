import { ModelFamily } from '../family.enums'
import type { Family } from '../family'
import { explainVae, VAE_METHODS } from './explain'
import { denseParameters } from '../common/spec'
import { prepareVae, VAE_DEFAULTS, vaeMetricNames, type VaeSpec } from './spec'
import { loadVae, toStoredVae } from './stored'
import { trainVae } from './train'
import { ExplanationMethod } from '../../explain/types'
import { DatasetKind } from '../../modules/dataset/dataset.enums'

/** A variational autoencoder for tables and small images: Dense encoder and mirrored decoder. */
export const vaeFamily: Family = {
  name: ModelFamily.VAE,
  datasetKind: DatasetKind.TABLE,

  prepare: prepareVae,

  // Encoder to 2k units (means, log-variances), decoder mirrored back to the features (see network.ts).
  parameterCount: (spec, featureCount) => {
    const k = spec.latentDim ?? VAE_DEFAULTS.latentDim
    return (
      denseParameters([featureCount, ...spec.hiddenLayers, 2 * k]) +
      denseParameters([k, ...[...spec.hiddenLayers].reverse(), featureCount])
    )
  },

  metricNames: vaeMetricNames,

  explanationMethods: (dataset) =>
    VAE_METHODS.filter((m) => m !== ExplanationMethod.DISENTANGLEMENT || dataset.factorNames.length > 0),

  async train({ content, spec, hooks, signal, resume }) {
    if (spec.latentDim === null || spec.beta === null || spec.likelihood === null) {
      throw new Error('a VAE run needs latentDim, beta and likelihood')
    }
    const vaeSpec: VaeSpec = {
      ...spec,
      latentDim: spec.latentDim,
      beta: spec.beta,
      likelihood: spec.likelihood,
    }
    const result = await trainVae(
      { features: content.features, rowCount: content.rowCount, featureCount: content.featureNames.length },
      vaeSpec,
      hooks,
      { keepState: true, ...(signal ? { signal } : {}), ...(resume ? { resume } : {}) },
    )
    const { lastState } = result
    const dispose = () => {
      result.model.dispose()
      lastState?.dispose()
    }
    try {
      const model = await toStoredVae(result.model)
      return {
        history: result.history,
        cancelled: result.cancelled,
        backend: result.backend,
        samplesPerSecond: result.samplesPerSecond,
        model,
        checkpoint: async () => (lastState ? lastState.toCheckpoint() : null),
        explain: (methods, sizes, signal) =>
          explainVae({
            ...(signal ? { signal } : {}),
            model: result.model,
            content,
            trainIndices: result.trainIndices,
            holdoutIndices: result.holdoutIndices,
            methods,
            sizes,
            seed: spec.seed,
          }),
        dispose,
      }
    } catch (err) {
      dispose()
      throw err
    }
  },

  async load(stored) {
    const generator = await loadVae(stored)
    return { featureCount: generator.featureCount, generator, dispose: () => generator.dispose() }
  },
}
