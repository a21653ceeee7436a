/**
 * The SEQUENCE training loop: pure computation, no database or queue, shaped like the MLP's and the VAE's
 * (seeded split, seeded shuffles, one optimizer.minimize per batch through the shared batch driver, one
 * EpochReport per epoch through the hooks). One-hot batches are built in JavaScript from the symbol ids,
 * so memory holds the corpus once, not once per window.
 */
import * as tf from '@tensorflow/tfjs'

import { forEachBatch } from '../common/batches'
import type { TrainingParts, TrainingState } from '../common/checkpoint'
import { assertFiniteMetrics, runEpochLoop } from '../common/epoch-loop'
import { epochOrder } from '../common/random'
import { TrainingError } from '../common/spec'
import { applyModel, createOptimizer, RunningSums, trainableVariables } from '../common/tf'
import type { Checkpoint, EpochReport, MetricValue, TrainHooks } from '../family'
import { buildSequenceModel, crossEntropy, encodeWindows, top1Correct } from './network'
import type { Segment, SequenceSpec } from './spec'
import { splitText, validateSequenceSpec } from './spec'

const EVAL_CHUNK = 1024

export interface SequenceData {
  /** The corpus as symbol ids, 0 .. symbols - 1. */
  ids: Int32Array
  /** Vocabulary size plus the unknown symbol. */
  symbols: number
}

export interface SequenceTrainResult {
  model: tf.LayersModel
  history: EpochReport[]
  /** Training segments of the corpus, [start, end) in characters. */
  train: Segment[]
  /** Held-out segments of the corpus, [start, end) in characters. */
  holdout: Segment[]
  cancelled: boolean
  backend: string
  samplesPerSecond: number
  /** The state at the end of the last epoch this call completed (the caller disposes it), if any. */
  lastState?: TrainingState
}

/** Every target of some segments with the start of its segment (the context never reaches before it). */
export function examplesOf(segments: readonly Segment[]): { targets: Int32Array; starts: Int32Array } {
  const n = segments.reduce((s, g) => s + Math.max(0, g.end - g.start - 1), 0)
  const targets = new Int32Array(n)
  const starts = new Int32Array(n)
  let i = 0
  for (const g of segments) {
    for (let t = g.start + 1; t < g.end; t++, i++) {
      targets[i] = t
      starts[i] = g.start
    }
  }
  return { targets, starts }
}

function oneHotTargets(ids: Int32Array, targets: ArrayLike<number>, symbols: number): Float32Array {
  const out = new Float32Array(targets.length * symbols)
  for (let i = 0; i < targets.length; i++) out[i * symbols + ids[targets[i]!]!] = 1
  return out
}

/**
 * Trains a next-symbol model on a corpus, awaiting `hooks.onEpoch` after every epoch. Reported per epoch:
 * `loss` (mean cross-entropy in nats per character over the epoch's batches, as the batches saw it),
 * `perplexity` = exp(loss), `accuracy` (top-1), and their `val*` twins on the held-out segments.
 *
 * With `options.resume` the weights and optimizer state come from the checkpoint and training continues at the
 * epoch after it, exactly as the uninterrupted run would have on the same backend (each epoch's shuffle is
 * seeded by (seed, epoch)).
 *
 * @throws TrainingError `INVALID_SPEC` / `INVALID_DATA` before training, `NON_FINITE_LOSS` for a NaN epoch;
 * CheckpointError when `options.resume` does not fit this spec.
 */
export async function trainSequence(
  data: SequenceData,
  spec: SequenceSpec,
  hooks: TrainHooks,
  options: { signal?: AbortSignal; yieldEveryMs?: number; resume?: Checkpoint } = {},
): Promise<SequenceTrainResult> {
  validateSequenceSpec(spec)
  const { ids, symbols } = data
  if (!Number.isInteger(symbols) || symbols < 2)
    throw new TrainingError(`invalid training data: need at least 2 symbols, got ${symbols}`, 'INVALID_DATA')
  if (ids.some((id) => id < 0 || id >= symbols))
    throw new TrainingError('invalid training data: a symbol id is outside the vocabulary', 'INVALID_DATA')
  const split = splitText(ids.length, spec.contextLength, spec.validationSplit, spec.seed)
  const train = examplesOf(split.train)
  const val = examplesOf(split.holdout)
  const nTrain = train.targets.length
  if (nTrain < 1) throw new TrainingError('invalid training data: no training target', 'INVALID_DATA')
  await tf.ready()

  const ctx = spec.contextLength
  const model = buildSequenceModel(spec, symbols)
  const optimizer = createOptimizer(spec.optimizer, spec.learningRate)
  const variables = trainableVariables(model)
  const parts: TrainingParts = {
    networks: { sequence: model },
    optimizer,
    optimizerName: spec.optimizer,
    variables,
  }
  const { signal } = options
  let keep = false
  let lastState: TrainingState | undefined
  try {
    const loop = await runEpochLoop<EpochReport>({
      parts,
      epochs: spec.epochs,
      rows: nTrain,
      control: options,
      hooks,
      trainEpoch: async (epoch, pacer) => {
        const order = epochOrder(spec.seed, epoch, nTrain)
        // Loss x windows and correct windows.
        const sums = new RunningSums([[], []])
        try {
          const completed = await forEachBatch(nTrain, spec.batchSize, signal, pacer, (start, size) => {
            const picked = order.subarray(start, start + size)
            const targets = Int32Array.from(picked, (i) => train.targets[i]!)
            const starts = Int32Array.from(picked, (i) => train.starts[i]!)
            const terms = tf.tidy(() => {
              const x = tf.tensor3d(encodeWindows(ids, targets, starts, ctx, symbols), [size, ctx, symbols])
              const y = tf.tensor2d(oneHotTargets(ids, targets, symbols), [size, symbols])
              const yIds = tf.tensor1d(
                Int32Array.from(targets, (t) => ids[t]!),
                'int32',
              )
              const kept: { correct?: tf.Tensor } = {}
              const cost = optimizer.minimize(
                () => {
                  const logits = applyModel(model, x, true) as tf.Tensor2D
                  kept.correct = tf.keep(tf.sum(top1Correct(logits, yIds)))
                  return tf.mean(crossEntropy(logits, y)) as tf.Scalar
                },
                true,
                variables,
              )
              if (cost === null) throw new Error('optimizer.minimize returned no cost')
              return [tf.mul(cost, size), kept.correct!]
            })
            sums.add(terms)
          })
          if (!completed) return undefined
          const [lossTotal, correctTotal] = (await sums.read()) as [Float32Array, Float32Array]
          return () => {
            const loss = lossTotal[0]! / nTrain
            const accuracy = correctTotal[0]! / nTrain
            const evaluated = val.targets.length > 0 ? evaluate(model, data, val, ctx) : undefined
            const metrics: MetricValue[] = [{ name: 'loss', value: loss }]
            if (evaluated) metrics.push({ name: 'valLoss', value: evaluated.loss })
            metrics.push({ name: 'perplexity', value: Math.exp(loss) })
            if (evaluated) metrics.push({ name: 'valPerplexity', value: Math.exp(evaluated.loss) })
            metrics.push({ name: 'accuracy', value: accuracy })
            if (evaluated) metrics.push({ name: 'valAccuracy', value: evaluated.accuracy })
            assertFiniteMetrics(metrics, epoch)
            return { epoch, durationMs: 0, metrics }
          }
        } finally {
          sums.dispose()
        }
      },
    })
    lastState = loop.lastState
    const { history, cancelled } = loop
    keep = true
    return {
      model,
      history,
      train: split.train,
      holdout: split.holdout,
      cancelled,
      backend: tf.getBackend(),
      samplesPerSecond: loop.samplesPerSecond,
      ...(lastState ? { lastState } : {}),
    }
  } finally {
    optimizer.dispose()
    if (!keep) {
      model.dispose()
      lastState?.dispose()
    }
  }
}

function evaluate(
  model: tf.LayersModel,
  data: SequenceData,
  examples: { targets: Int32Array; starts: Int32Array },
  ctx: number,
): { loss: number; accuracy: number } {
  const { ids, symbols } = data
  const n = examples.targets.length
  let loss = 0
  let correct = 0
  for (let start = 0; start < n; start += EVAL_CHUNK) {
    const size = Math.min(EVAL_CHUNK, n - start)
    const targets = examples.targets.subarray(start, start + size)
    const starts = examples.starts.subarray(start, start + size)
    const sums = tf.tidy(() => {
      const x = tf.tensor3d(encodeWindows(ids, targets, starts, ctx, symbols), [size, ctx, symbols])
      const y = tf.tensor2d(oneHotTargets(ids, targets, symbols), [size, symbols])
      const yIds = tf.tensor1d(
        Int32Array.from(targets, (t) => ids[t]!),
        'int32',
      )
      const logits = applyModel(model, x) as tf.Tensor2D
      return tf.stack([tf.sum(crossEntropy(logits, y)), tf.sum(top1Correct(logits, yIds))])
    })
    const [l, c] = sums.dataSync()
    sums.dispose()
    loss += l!
    correct += c!
  }
  return { loss: loss / n, accuracy: correct / n }
}
