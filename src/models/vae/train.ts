/**
 * The VAE training loop: pure computation, no database or queue. Everything random - the split, the shuffles,
 * the weights and the reparameterisation noise of every batch - is derived from `spec.seed` and the epoch, so a run
 * is reproducible on the same backend, and one resumed from a checkpoint continues exactly as it would have.
 */
import * as tf from '@tensorflow/tfjs'

import type { Normalization } from '../common/normalization'
import { computeNormalization, identityNormalization, standardizeRows } from '../common/normalization'
import { forEachBatch } from '../common/batches'
import type { TrainingParts, TrainingState } from '../common/checkpoint'
import { assertFiniteMetrics, runEpochLoop } from '../common/epoch-loop'
import { deriveSeed, epochOrder, splitRows } from '../common/random'
import { TrainingError, validateCommonSpec } from '../common/spec'
import { createOptimizer, RunningSums, trainableVariables } from '../common/tf'
import type { Checkpoint, EpochReport, MetricValue, TrainHooks } from '../family'
import { Likelihood } from '../family.enums'
import { VaeModel } from './model'
import { buildVae, forwardTerms } from './network'
import type { VaeSpec } from './spec'
import { VAE_LIMITS } from './spec'

const EVAL_CHUNK_ROWS = 4096

export interface VaeData {
  /** Row-major rowCount x featureCount, raw units. */
  features: Float64Array
  rowCount: number
  featureCount: number
}

export interface VaeTrainResult {
  model: VaeModel
  history: EpochReport[]
  trainIndices: number[]
  /** Held-out rows in seeded random order (any prefix is a random sample). */
  holdoutIndices: number[]
  normalization: Normalization
  cancelled: boolean
  backend: string
  samplesPerSecond: number
  /** With `options.keepState`: the state at the end of the last epoch this call completed, if any. */
  lastState?: TrainingState
}

/** Throws INVALID_SPEC / INVALID_DATA before any tensor is made. */
export function validateVae(data: VaeData, spec: VaeSpec): void {
  validateCommonSpec(spec)
  const fail = (message: string): never => {
    throw new TrainingError(`invalid training spec: ${message}`, 'INVALID_SPEC')
  }
  if (!Number.isInteger(spec.latentDim) || spec.latentDim < 1 || spec.latentDim > VAE_LIMITS.maxLatentDim)
    fail(`latentDim must be an integer from 1 to ${VAE_LIMITS.maxLatentDim}, got ${spec.latentDim}`)
  if (!Number.isFinite(spec.beta) || spec.beta <= 0) fail(`beta must be above 0, got ${spec.beta}`)
  if (!Object.values(Likelihood).includes(spec.likelihood))
    fail(`unknown likelihood ${String(spec.likelihood)}`)
  const { features, rowCount, featureCount } = data
  const bad = (message: string): never => {
    throw new TrainingError(`invalid training data: ${message}`, 'INVALID_DATA')
  }
  if (!Number.isInteger(rowCount) || rowCount < 2) bad(`need at least 2 rows, got ${rowCount}`)
  if (features.length !== rowCount * featureCount)
    bad(`features has ${features.length} values, expected ${rowCount * featureCount}`)
  for (let i = 0; i < features.length; i++) {
    const v = features[i]!
    if (!Number.isFinite(v)) bad(`feature ${i % featureCount} of row ${Math.floor(i / featureCount)} is ${v}`)
    if (spec.likelihood === Likelihood.BERNOULLI && (v < 0 || v > 1)) {
      bad(
        `a BERNOULLI likelihood needs features in [0, 1]; feature ${i % featureCount} of row ${Math.floor(i / featureCount)} is ${v}`,
      )
    }
  }
}

/**
 * Trains encoder and decoder together on the negative ELBO with the KL term weighted by beta (beta-VAE):
 * per row, reconstruction + beta * KL, averaged over the batch, one optimizer step per batch.
 *
 * Reported per epoch, all per row: `loss` = reconstruction + kl (the negative ELBO; the objective equals it when
 * beta = 1), `reconstruction`, `kl`, their `val*` twins on the held-out rows (one seeded noise draw per epoch),
 * and `kl_0` .. `kl_{k-1}` (each latent's KL over the training batches).
 */
export async function trainVae(
  data: VaeData,
  spec: VaeSpec,
  hooks: TrainHooks,
  options: {
    signal?: AbortSignal
    yieldEveryMs?: number
    /** Continue from this checkpoint of an earlier call with the same data and spec (epochs after it only). */
    resume?: Checkpoint
    /** Return the state of the last completed epoch as `result.lastState` (the caller disposes it). */
    keepState?: boolean
  } = {},
): Promise<VaeTrainResult> {
  validateVae(data, spec)
  await tf.ready()
  const { trainIndices, holdoutIndices } = splitRows(data.rowCount, spec.validationSplit, spec.seed)
  const m = data.featureCount
  const k = spec.latentDim
  const normalization =
    spec.likelihood === Likelihood.BERNOULLI
      ? identityNormalization(m)
      : computeNormalization(data.features, m, trainIndices)
  const nTrain = trainIndices.length
  const xTrain = tf.tensor2d(standardizeRows(data.features, m, trainIndices, normalization), [nTrain, m])
  const xVal =
    holdoutIndices.length > 0
      ? tf.tensor2d(standardizeRows(data.features, m, holdoutIndices, normalization), [
          holdoutIndices.length,
          m,
        ])
      : undefined
  const nets = buildVae(spec, m)
  const optimizer = createOptimizer(spec.optimizer, spec.learningRate)
  const variables = [...trainableVariables(nets.encoder), ...trainableVariables(nets.decoder)]
  const parts: TrainingParts = {
    networks: { encoder: nets.encoder, decoder: nets.decoder },
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
        const order = tf.tensor1d(epochOrder(spec.seed, epoch, nTrain), 'int32')
        const xs = tf.gather(xTrain, order)
        order.dispose()
        // Reconstruction of every row, and each latent's KL.
        const sums = new RunningSums([[], [k]])
        try {
          const completed = await forEachBatch(
            nTrain,
            spec.batchSize,
            signal,
            pacer,
            (start, size, batch) => {
              const noiseSeed = deriveSeed(spec.seed, `noise/${epoch}/${batch}`)
              const terms = tf.tidy(() => {
                const xb = xs.slice([start, 0], [size, m])
                const noise = tf.randomNormal([size, k], 0, 1, 'float32', noiseSeed) as tf.Tensor2D
                const kept: { recon?: tf.Scalar; kl?: tf.Tensor1D } = {}
                optimizer.minimize(
                  () => {
                    const t = forwardTerms(nets, spec, xb, noise, true)
                    kept.recon = tf.keep(tf.sum(t.reconstruction)) as tf.Scalar
                    kept.kl = tf.keep(tf.sum(t.kl, 0)) as tf.Tensor1D
                    return tf.mean(tf.add(t.reconstruction, tf.mul(spec.beta, tf.sum(t.kl, 1)))) as tf.Scalar
                  },
                  false,
                  variables,
                )
                return [kept.recon!, kept.kl!]
              })
              sums.add(terms)
            },
          )
          if (!completed) return undefined
          const [reconTotal, klTotals] = (await sums.read()) as [Float32Array, Float32Array]
          return () => {
            const recon = reconTotal[0]! / nTrain
            const perLatent = Array.from(klTotals, (v) => v / nTrain)
            const kl = perLatent.reduce((a, b) => a + b, 0)
            const metrics: MetricValue[] = [
              { name: 'loss', value: recon + kl },
              { name: 'reconstruction', value: recon },
              { name: 'kl', value: kl },
            ]
            if (xVal) {
              const val = evaluate(nets, spec, xVal, deriveSeed(spec.seed, `val-noise/${epoch}`))
              metrics.push(
                { name: 'valLoss', value: val.reconstruction + val.kl },
                { name: 'valReconstruction', value: val.reconstruction },
                { name: 'valKl', value: val.kl },
              )
            }
            perLatent.forEach((value, j) => metrics.push({ name: `kl_${j}`, value }))
            assertFiniteMetrics(metrics, epoch)
            return { epoch, durationMs: 0, metrics }
          }
        } finally {
          xs.dispose()
          sums.dispose()
        }
      },
    })
    lastState = loop.lastState
    const { history, cancelled } = loop
    const model = new VaeModel(nets, k, spec.likelihood, normalization)
    keep = true
    return {
      model,
      history,
      trainIndices,
      holdoutIndices,
      normalization,
      cancelled,
      backend: tf.getBackend(),
      samplesPerSecond: loop.samplesPerSecond,
      ...(lastState && options.keepState ? { lastState } : {}),
    }
  } finally {
    tf.dispose([xTrain, ...(xVal ? [xVal] : [])])
    optimizer.dispose()
    if (!keep) {
      nets.encoder.dispose()
      nets.decoder.dispose()
    }
    if (!keep || !options.keepState) lastState?.dispose()
  }
}

function evaluate(
  nets: ReturnType<typeof buildVae>,
  spec: VaeSpec,
  x: tf.Tensor2D,
  seed: number,
): { reconstruction: number; kl: number } {
  const n = x.shape[0]
  const sums = tf.tidy(() => {
    let recon: tf.Tensor = tf.scalar(0)
    let kl: tf.Tensor = tf.scalar(0)
    for (let start = 0; start < n; start += EVAL_CHUNK_ROWS) {
      const size = Math.min(EVAL_CHUNK_ROWS, n - start)
      const noise = tf.randomNormal([size, spec.latentDim], 0, 1, 'float32', seed + start) as tf.Tensor2D
      const t = forwardTerms(nets, spec, x.slice([start, 0], [size, x.shape[1]]), noise, false)
      recon = tf.add(recon, tf.sum(t.reconstruction))
      kl = tf.add(kl, tf.sum(t.kl))
    }
    return tf.stack([recon, kl])
  })
  const [recon, kl] = sums.dataSync()
  sums.dispose()
  return { reconstruction: recon! / n, kl: kl! / n }
}
