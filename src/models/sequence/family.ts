import { DatasetKind } from '../../modules/dataset/dataset.enums'
import { encodeCorpus } from '../../modules/dataset/text'
import type { Family } from '../family'
import { ModelFamily, SequenceArchitecture } from '../family.enums'
import { explainSequence, SEQUENCE_METHODS } from './explain'
import { SequenceModel } from './model'
import {
  prepareSequence,
  SEQUENCE_DEFAULTS,
  sequenceMetricNames,
  sequenceParameters,
  sequenceWork,
  type SequenceSpec,
} from './spec'
import { loadSequence, toStoredSequence } from './stored'
import { trainSequence } from './train'

/**
 * Next-character models of a TEXT corpus: a GRU over the one-hot context, or Dense layers over the concatenated
 * one-hot window; explained by how far back they look, by simple surrogates and by samples (./explain.ts).
 */
export const sequenceFamily: Family = {
  name: ModelFamily.SEQUENCE,
  datasetKind: DatasetKind.TEXT,

  prepare: (args) => prepareSequence(args),

  defaultHiddenLayers: (args) => [
    ...SEQUENCE_DEFAULTS.hiddenLayers[args.architecture ?? SEQUENCE_DEFAULTS.architecture],
  ],

  parameterCount: (spec, symbols) =>
    sequenceParameters(
      {
        hiddenLayers: spec.hiddenLayers,
        architecture: spec.architecture ?? SEQUENCE_DEFAULTS.architecture,
        contextLength: spec.contextLength ?? SEQUENCE_DEFAULTS.contextLength,
      },
      symbols,
    ),

  trainingWork: (spec, dataset) =>
    sequenceWork(
      {
        validationSplit: spec.validationSplit,
        seed: spec.seed,
        architecture: spec.architecture ?? SEQUENCE_DEFAULTS.architecture,
        contextLength: spec.contextLength ?? SEQUENCE_DEFAULTS.contextLength,
      },
      dataset,
    ),

  metricNames: sequenceMetricNames,

  explanationMethods: () => [...SEQUENCE_METHODS],

  async train({ content, spec, hooks, signal, resume }) {
    if (!content.text) throw new Error('a SEQUENCE run needs a TEXT dataset')
    const sequenceSpec: SequenceSpec = {
      ...spec,
      architecture: spec.architecture ?? SequenceArchitecture.WINDOW_MLP,
      contextLength: spec.contextLength ?? SEQUENCE_DEFAULTS.contextLength,
    }
    const vocabulary = content.text.vocabulary
    const ids = encodeCorpus(content.text)
    const result = await trainSequence({ ids, symbols: vocabulary.length + 1 }, sequenceSpec, hooks, {
      ...(signal ? { signal } : {}),
      ...(resume ? { resume } : {}),
    })
    const { lastState } = result
    const model = new SequenceModel(
      result.model,
      sequenceSpec.architecture,
      sequenceSpec.contextLength,
      vocabulary,
    )
    try {
      return {
        history: result.history,
        cancelled: result.cancelled,
        backend: result.backend,
        samplesPerSecond: result.samplesPerSecond,
        model: await toStoredSequence(model),
        checkpoint: async () => (lastState ? lastState.toCheckpoint() : null),
        explain: (methods, sizes, signal) =>
          explainSequence({
            ...(signal ? { signal } : {}),
            model,
            ids,
            train: result.train,
            holdout: result.holdout,
            methods,
            sizes,
            seed: spec.seed,
          }),
        dispose: () => {
          model.dispose()
          lastState?.dispose()
        },
      }
    } catch (err) {
      model.dispose()
      lastState?.dispose()
      throw err
    }
  },

  async load(stored) {
    const model = await loadSequence(stored)
    return { featureCount: model.symbols, text: model, dispose: () => model.dispose() }
  },
}
