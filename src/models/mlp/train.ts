/**
 * The training loop: pure computation, no database or queue. The worker process calls {@link train} and turns
 * its hook calls into events; everything random is derived from `spec.seed`, so a run can be reproduced exactly
 * on the same backend.
 */
import * as tf from '@tensorflow/tfjs'

import type { ModelArtifacts, Normalization, Predictor } from './artifacts'
import { predictorForModel, toArtifacts } from './artifacts'
import { computeNormalization, standardizeRows } from '../common/normalization'
import { forEachBatch } from '../common/batches'
import type { TrainingParts, TrainingState } from '../common/checkpoint'
import { runEpochLoop } from '../common/epoch-loop'
import { epochOrder, splitRows } from '../common/random'
import { applyModel, createOptimizer, RunningSums, trainableVariables } from '../common/tf'
import type { Checkpoint, TakeCheckpoint } from '../family'
import { buildModel, perRowCorrect, perRowLoss } from './network'
import type { TrainData, TrainSpec } from './spec'
import { TrainingError, validateData, validateSpec } from './spec'

export { TrainingError } from './spec'

/** Metrics of one finished epoch. Accuracies only for classification, validation values only with a holdout. */
export interface EpochMetric {
  /** From 1. */
  epoch: number
  /** Mean training loss over the epoch's batches, weighted by batch size (what Keras/tfjs `fit` reports). */
  loss: number
  valLoss?: number
  accuracy?: number
  valAccuracy?: number
  /** Wall time of the epoch's training and validation, excluding the onEpoch hook. */
  durationMs: number
}

/** Called by {@link train}; the next epoch starts only once onEpoch has settled. */
export interface TrainHooks {
  /**
   * Return 'stop' to end training after this epoch; the result then says `cancelled: true`. `checkpoint`
   * serialises the state as of this epoch's end (see Family's TrainHooks).
   */
  onEpoch(metric: EpochMetric, checkpoint: TakeCheckpoint): Promise<void | 'stop'> | void | 'stop'
}

/** Optional knobs of {@link train}. */
export interface TrainOptions {
  /**
   * Aborting stops training at the next batch, without waiting for the epoch to end; the unfinished epoch is not
   * reported and the artifacts hold the weights as they were when it stopped. Use it for cancel requests arriving
   * over IPC; use the onEpoch hook's 'stop' to end on an epoch boundary.
   */
  signal?: AbortSignal
  /**
   * How often, in milliseconds of training, to give the event loop a turn inside an epoch (IPC messages,
   * heartbeats, the abort signal). Default 50. Training also yields after every epoch.
   */
  yieldEveryMs?: number
  /**
   * Return the trained model as `result.predictor`, and the state of the last completed epoch as
   * `result.lastState`, instead of disposing them; the caller must dispose both.
   */
  keepPredictor?: boolean
  /** Continue from this checkpoint of an earlier call with the same data and spec (epochs after it only). */
  resume?: Checkpoint
}

/** What a run produced. */
export interface TrainResult {
  artifacts: ModelArtifacts
  /** One entry per completed epoch, in order. */
  history: EpochMetric[]
  /**
   * Rows (indices into the input table) held out for validation, in seeded random order: any prefix is a random
   * sample, which is what explanations draw from. Disjoint from `trainIndices`.
   */
  holdoutIndices: number[]
  /** Rows the network was trained on, in the order their tensor was built. */
  trainIndices: number[]
  /** Mean/std of the training rows, also inside `artifacts`. */
  normalization: Normalization
  /** True when onEpoch returned 'stop' (even after the last epoch) or the signal aborted. */
  cancelled: boolean
  /** The TensorFlow.js backend that ran the computation. */
  backend: string
  /** Training rows processed per second of batch updates (validation and hooks excluded). */
  samplesPerSecond: number
  /** Present only with `options.keepPredictor`. */
  predictor?: Predictor
  /** With `options.keepPredictor`: the state at the end of the last epoch this call completed, if any. */
  lastState?: TrainingState
}

// Bounds one validation forward pass on large holdouts.
const EVAL_CHUNK_ROWS = 8192

/**
 * Trains a network for `spec` on `data`, awaiting `hooks.onEpoch` after every epoch.
 *
 * The rows are split with a seeded shuffle (the last `validationSplit` fraction is held out), standardised with
 * the training rows' mean and std, and reshuffled every epoch with a generator seeded by (seed, epoch); batches are
 * then applied with optimizer.minimize on contiguous slices, so tfjs's own Math.random shuffling is never involved.
 * With `options.resume` the weights and optimizer state come from the checkpoint and training continues at the
 * epoch after it, exactly as the uninterrupted run would have on the same backend.
 *
 * @throws TrainingError `INVALID_SPEC` / `INVALID_DATA` before training, `NON_FINITE_LOSS` when an epoch's
 * training or validation loss is NaN or infinite (that epoch is not reported); CheckpointError when
 * `options.resume` does not fit this spec.
 */
export async function train(
  data: TrainData,
  spec: TrainSpec,
  hooks: TrainHooks,
  options: TrainOptions = {},
): Promise<TrainResult> {
  validateSpec(spec)
  validateData(data, spec.task)
  await tf.ready()

  const { trainIndices, holdoutIndices } = splitRows(data.rowCount, spec.validationSplit, spec.seed)
  const normalization = computeNormalization(data.features, data.featureCount, trainIndices)
  const classification = spec.task === 'BINARY_CLASSIFICATION'
  const { signal } = options
  const f = data.featureCount
  const nTrain = trainIndices.length

  const xTrain = tf.tensor2d(standardizeRows(data.features, f, trainIndices, normalization), [nTrain, f])
  const yTrain = tf.tensor2d(pickTargets(data, trainIndices), [nTrain, 1])
  const xVal =
    holdoutIndices.length > 0
      ? tf.tensor2d(standardizeRows(data.features, f, holdoutIndices, normalization), [
          holdoutIndices.length,
          f,
        ])
      : undefined
  const yVal =
    holdoutIndices.length > 0
      ? tf.tensor2d(pickTargets(data, holdoutIndices), [holdoutIndices.length, 1])
      : undefined
  const model = buildModel(spec, f)
  const optimizer = createOptimizer(spec.optimizer, spec.learningRate)
  const variables = trainableVariables(model)
  const parts: TrainingParts = {
    networks: { mlp: model },
    optimizer,
    optimizerName: spec.optimizer,
    variables,
  }

  let keepModel = false
  let lastState: TrainingState | undefined
  try {
    const loop = await runEpochLoop<EpochMetric>({
      parts,
      epochs: spec.epochs,
      rows: nTrain,
      control: options,
      hooks,
      trainEpoch: async (epoch, pacer) => {
        const order = tf.tensor1d(epochOrder(spec.seed, epoch, nTrain), 'int32')
        const xs = tf.gather(xTrain, order)
        const ys = tf.gather(yTrain, order)
        order.dispose()
        // Loss x rows and correct rows.
        const sums = new RunningSums([[], []])
        try {
          const completed = await forEachBatch(nTrain, spec.batchSize, signal, pacer, (start, size) => {
            const terms = tf.tidy(() => {
              const xb = xs.slice([start, 0], [size, f])
              const yb = ys.slice([start, 0], [size, 1])
              // Accuracy comes from the same forward pass as the loss (before the update), as in tfjs's fit.
              const kept: { correct?: tf.Tensor } = {}
              const cost = optimizer.minimize(
                () => {
                  const out = applyModel(model, xb, true)
                  if (classification) kept.correct = tf.keep(tf.sum(perRowCorrect(yb, out)))
                  return tf.mean(perRowLoss(spec.task, yb, out)) as tf.Scalar
                },
                true,
                variables,
              )
              if (cost === null) throw new Error('optimizer.minimize returned no cost')
              return [tf.mul(cost, size), kept.correct ?? tf.scalar(0)]
            })
            sums.add(terms)
          })
          if (!completed) return undefined
          const [lossTotal, correctTotal] = (await sums.read()) as [Float32Array, Float32Array]
          return () => {
            const metric: EpochMetric = { epoch, loss: (lossTotal[0] as number) / nTrain, durationMs: 0 }
            if (classification) metric.accuracy = (correctTotal[0] as number) / nTrain
            if (xVal && yVal) {
              const val = evaluate(model, spec.task, xVal, yVal)
              metric.valLoss = val.loss
              if (classification) metric.valAccuracy = val.accuracy
            }
            assertFinite(metric)
            return metric
          }
        } finally {
          tf.dispose([xs, ys])
          sums.dispose()
        }
      },
    })
    lastState = loop.lastState
    const { history, cancelled } = loop

    const artifacts = await toArtifacts(model, spec.task, normalization)
    const result: TrainResult = {
      artifacts,
      history,
      holdoutIndices,
      trainIndices,
      normalization,
      cancelled,
      backend: tf.getBackend(),
      samplesPerSecond: loop.samplesPerSecond,
    }
    if (options.keepPredictor) {
      result.predictor = predictorForModel(model, spec.task, normalization)
      keepModel = true
      if (lastState) result.lastState = lastState
    }
    return result
  } finally {
    if (!keepModel) lastState?.dispose()
    tf.dispose([xTrain, yTrain])
    if (xVal) xVal.dispose()
    if (yVal) yVal.dispose()
    optimizer.dispose()
    if (!keepModel) model.dispose()
  }
}

function pickTargets(data: TrainData, rows: readonly number[]): Float32Array {
  return Float32Array.from(rows, (r) => data.targets[r] as number)
}

function evaluate(
  model: tf.LayersModel,
  task: TrainSpec['task'],
  x: tf.Tensor2D,
  y: tf.Tensor2D,
): { loss: number; accuracy: number } {
  const n = x.shape[0]
  const sums = tf.tidy(() => {
    let loss: tf.Tensor = tf.scalar(0)
    let correct: tf.Tensor = tf.scalar(0)
    for (let start = 0; start < n; start += EVAL_CHUNK_ROWS) {
      const size = Math.min(EVAL_CHUNK_ROWS, n - start)
      const yb = y.slice([start, 0], [size, 1])
      const out = applyModel(model, x.slice([start, 0], [size, x.shape[1]]))
      loss = tf.add(loss, tf.sum(perRowLoss(task, yb, out)))
      if (task === 'BINARY_CLASSIFICATION') correct = tf.add(correct, tf.sum(perRowCorrect(yb, out)))
    }
    return tf.stack([loss, correct])
  })
  const [loss, correct] = sums.dataSync()
  sums.dispose()
  return { loss: (loss as number) / n, accuracy: (correct as number) / n }
}

function assertFinite(metric: EpochMetric): void {
  const check = (label: string, value: number | undefined): void => {
    if (value !== undefined && !Number.isFinite(value)) {
      throw new TrainingError(
        `${label} became ${value} at epoch ${metric.epoch}`,
        'NON_FINITE_LOSS',
        metric.epoch,
      )
    }
  }
  check('loss', metric.loss)
  check('validation loss', metric.valLoss)
}
