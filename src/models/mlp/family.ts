import { badInput } from '../../errors'
import { ALL_METHODS } from '../../explain/types'
import { DatasetKind, Task } from '../../modules/dataset/dataset.enums'
import { denseParameters } from '../common/spec'
import type { EpochReport, Family, MetricValue } from '../family'
import { ModelFamily } from '../family.enums'
import { createPredictor } from './artifacts'
import { explainMlp } from './explain'
import { fromStoredModel, toStoredModel } from './stored'
import type { EpochMetric } from './train'
import { train } from './train'

/** Metrics of an MLP epoch; accuracies only for classification, validation values only with a holdout. */
const MLP_METRICS = ['loss', 'valLoss', 'accuracy', 'valAccuracy'] as const

/** The founding family: a supervised Dense network with one output (regression, or binary classification). */
export const mlpFamily: Family = {
  name: ModelFamily.MLP,
  datasetKind: DatasetKind.TABLE,

  prepare(args, dataset) {
    if (dataset.task === Task.UNSUPERVISED) {
      throw badInput('an MLP needs targets; this dataset is UNSUPERVISED (train a VAE on it: family: VAE)', {
        field: 'family',
      })
    }
    for (const field of ['latentDim', 'beta', 'likelihood'] as const) {
      if (args[field] != null) throw badInput(`${field} applies to VAE runs, not MLP`, { field })
    }
    return { latentDim: null, beta: null, likelihood: null }
  },

  // Dense hidden layers, then one output unit (see network.ts).
  parameterCount: (spec, featureCount) => denseParameters([featureCount, ...spec.hiddenLayers, 1]),

  metricNames: () => [...MLP_METRICS],

  explanationMethods: () => [...ALL_METHODS],

  async train({ content, spec, hooks, signal, resume }) {
    if (content.task === Task.UNSUPERVISED) throw new Error('an MLP cannot train on an UNSUPERVISED dataset')
    const result = await train(
      {
        features: content.features,
        targets: content.targets,
        rowCount: content.rowCount,
        featureCount: content.featureNames.length,
      },
      { ...spec, task: content.task },
      { onEpoch: (m, checkpoint) => hooks.onEpoch(toReport(m), checkpoint) },
      { keepPredictor: true, ...(signal ? { signal } : {}), ...(resume ? { resume } : {}) },
    )
    const predictor = result.predictor!
    const { lastState } = result
    return {
      history: result.history.map(toReport),
      cancelled: result.cancelled,
      backend: result.backend,
      samplesPerSecond: result.samplesPerSecond,
      model: toStoredModel(result.artifacts),
      checkpoint: async () => (lastState ? lastState.toCheckpoint() : null),
      explain: (methods, sizes, signal) =>
        explainMlp(predictor, content, result, methods, sizes, spec.seed, signal),
      dispose: () => {
        predictor.dispose()
        lastState?.dispose()
      },
    }
  },

  async load(stored) {
    const predictor = await createPredictor(fromStoredModel(stored))
    return { featureCount: predictor.featureCount, predictor, dispose: () => predictor.dispose() }
  },
}

function toReport(m: EpochMetric): EpochReport {
  const metrics: MetricValue[] = [{ name: 'loss', value: m.loss }]
  if (m.valLoss !== undefined) metrics.push({ name: 'valLoss', value: m.valLoss })
  if (m.accuracy !== undefined) metrics.push({ name: 'accuracy', value: m.accuracy })
  if (m.valAccuracy !== undefined) metrics.push({ name: 'valAccuracy', value: m.valAccuracy })
  return { epoch: m.epoch, durationMs: m.durationMs, metrics }
}
