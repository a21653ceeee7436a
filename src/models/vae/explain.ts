/**
 * The explanations of a trained VAE, computed by the worker on held-out rows: which latent moves which
 * generated feature (traversals, decoder sensitivity, the linear surrogate of the generator and the
 * interpretability network), what each latent reads (encoder attribution), which latents are alive, whether
 * known factors were found (disentanglement) and how real the samples look (sample fidelity).
 */
import * as tf from '@tensorflow/tfjs'

import { disentanglement } from '../../explain/disentanglement'
import {
  activeUnits,
  decoderIntegratedGradients,
  decoderSensitivity,
  encoderAttribution,
  generatorSurrogate,
  latentTraversals,
  standardNormalRows,
} from '../../explain/latent'
import { createRng } from '../../explain/random'
import { columnMeans, columnStds } from '../../explain/stats'
import { sampleFidelity } from '../../explain/sample-fidelity'
import { ExplanationMethod, type MethodCheck, type MethodCosts } from '../../explain/types'
import type { DatasetContent } from '../../modules/dataset/dataset.content'
import { yieldToEventLoop } from '../common/random'
import type { ExplainSizes, FamilyExplanation } from '../family'
import type { VaeModel } from './model'

/** The methods that apply to a VAE, in canonical order; DISENTANGLEMENT only with known factors. */
export const VAE_METHODS: readonly ExplanationMethod[] = [
  ExplanationMethod.ACTIVE_UNITS,
  ExplanationMethod.LATENT_TRAVERSAL,
  ExplanationMethod.LATENT_SENSITIVITY,
  ExplanationMethod.GENERATOR_SURROGATE,
  ExplanationMethod.SURROGATE_NETWORK,
  ExplanationMethod.ENCODER_ATTRIBUTION,
  ExplanationMethod.DISENTANGLEMENT,
  ExplanationMethod.SAMPLE_FIDELITY,
]

/** Sizes chosen so a 256-pixel, 10-latent explanation stays a small share of a run (bench/README.md). */
export const VAE_EXPLAIN_DEFAULTS = Object.freeze({
  /** Held-out rows whose posterior means are traversed (besides z = 0). */
  traversalRows: 3,
  traversalSteps: 11,
  /** Posterior samples the decoder Jacobian is averaged over. */
  sensitivityRows: 200,
  /** Rows whose decoder IG (from z = 0) checks completeness. */
  decoderIgRows: 10,
  igSteps: 32,
  /** Prior draws the generator surrogate is fitted on. */
  surrogateDraws: 2000,
  /** Rows explained by encoder attribution. */
  encoderRows: 50,
  surrogateNetworkHidden: [32, 16] as readonly number[],
  surrogateNetworkEpochs: 30,
  surrogateNetworkBatch: 128,
})

export interface VaeExplainInput {
  model: VaeModel
  content: DatasetContent
  trainIndices: number[]
  holdoutIndices: number[]
  methods: ExplanationMethod[]
  sizes: ExplainSizes
  seed: number
  /** Checked before each method and each surrogate-network epoch. */
  signal?: AbortSignal
}

export async function explainVae(input: VaeExplainInput): Promise<FamilyExplanation> {
  const { model, content, methods, sizes, seed } = input
  const started = performance.now()
  const m = content.featureNames.length
  const k = model.latentDim
  const featureNames = content.featureNames
  const row = (i: number) => content.features.subarray(i * m, (i + 1) * m)
  const pool = input.holdoutIndices.length > 0 ? input.holdoutIndices : input.trainIndices
  // Held-out rows come in seeded random order: a prefix is a random sample.
  const evalIndices = pool.slice(0, sizes.maxEvalRows)
  const evalRows = evalIndices.map(row)
  const posteriorOfEval = model.encodeRows(evalRows)
  const cost: MethodCosts = {}
  const checks: MethodCheck[] = []
  const result: Record<string, unknown> = {
    linearSurrogate: null,
    surrogateNetwork: null,
    featureImportance: [],
    partialDependence: [],
    latentTraversals: [],
    latentSensitivity: [],
    generatorSurrogate: [],
    generatorSurrogateR2: null,
    encoderAttribution: [],
    activeUnits: [],
    disentanglement: null,
    sampleFidelity: null,
    evaluationRows: evalRows.length,
  }
  const timed = async <T>(method: ExplanationMethod, work: () => T | Promise<T>): Promise<T> => {
    input.signal?.throwIfAborted()
    const t0 = performance.now()
    const before = model.evaluations
    const value = await work()
    cost[method] = { ms: performance.now() - t0, evaluations: model.evaluations - before }
    await yieldToEventLoop()
    return value
  }
  const posteriorSample = (count: number): Float64Array[] => {
    const means = posteriorOfEval.mean.slice(0, count)
    const noise = standardNormalRows(means.length, k, createRng(seed, 'posterior-sample'))
    return means.map((mu, i) => {
      const logVar = posteriorOfEval.logVar[i]!
      return Float64Array.from(mu, (v, j) => v + Math.exp(0.5 * logVar[j]!) * noise[i]![j]!)
    })
  }

  for (const method of VAE_METHODS.filter((x) => methods.includes(x))) {
    switch (method) {
      case ExplanationMethod.ACTIVE_UNITS:
        result['activeUnits'] = await timed(method, () =>
          activeUnits({ mean: posteriorOfEval.mean, logVar: posteriorOfEval.logVar }),
        )
        break
      case ExplanationMethod.LATENT_TRAVERSAL:
        result['latentTraversals'] = await timed(method, () =>
          latentTraversals({
            decode: (z) => model.decodeRows(z),
            latentDim: k,
            origins: [
              { rowIndex: null, z: new Float64Array(k) },
              ...evalIndices.slice(0, VAE_EXPLAIN_DEFAULTS.traversalRows).map((rowIndex, i) => ({
                rowIndex,
                z: posteriorOfEval.mean[i]!,
              })),
            ],
            steps: VAE_EXPLAIN_DEFAULTS.traversalSteps,
          }),
        )
        break
      case ExplanationMethod.LATENT_SENSITIVITY:
        result['latentSensitivity'] = await timed(method, () => {
          const z = posteriorSample(Math.min(VAE_EXPLAIN_DEFAULTS.sensitivityRows, sizes.sampleSize))
          const { entries } = decoderSensitivity({
            jacobian: (rows) => model.decoderJacobian(rows),
            z,
            latentDim: k,
            featureNames,
          })
          const ig = decoderIntegratedGradients({
            decode: (rows) => model.decodeRows(rows),
            jacobian: (rows) => model.decoderJacobian(rows),
            z: posteriorOfEval.mean.slice(0, VAE_EXPLAIN_DEFAULTS.decoderIgRows),
            steps: VAE_EXPLAIN_DEFAULTS.igSteps,
          })
          checks.push({ method, maxGap: ig.check.maxGap, meanGap: ig.check.meanGap })
          return entries
        })
        break
      case ExplanationMethod.GENERATOR_SURROGATE: {
        const fit = await timed(method, () =>
          generatorSurrogate({
            decode: (z) => model.decodeRows(z),
            latentDim: k,
            featureNames,
            draws: VAE_EXPLAIN_DEFAULTS.surrogateDraws,
            seed,
          }),
        )
        result['generatorSurrogate'] = fit.features
        result['generatorSurrogateR2'] = fit.overallR2
        break
      }
      case ExplanationMethod.SURROGATE_NETWORK:
        result['surrogateNetwork'] = await timed(method, () => fitDecoderSurrogate(model, seed, input.signal))
        break
      case ExplanationMethod.ENCODER_ATTRIBUTION:
        result['encoderAttribution'] = await timed(method, () => {
          const trainMean = columnMeans(input.trainIndices.map(row), m)
          const rows = evalRows.slice(0, Math.min(VAE_EXPLAIN_DEFAULTS.encoderRows, sizes.sampleSize))
          const attribution = encoderAttribution({
            encode: (x) => model.encodeRows(x),
            jacobian: (x) => model.encoderJacobian(x),
            rows,
            baseline: trainMean,
            featureNames,
            latentDim: k,
            steps: VAE_EXPLAIN_DEFAULTS.igSteps,
          })
          checks.push({ method, maxGap: attribution.check.maxGap, meanGap: attribution.check.meanGap })
          return attribution.entries
        })
        break
      case ExplanationMethod.DISENTANGLEMENT:
        if (content.factorNames.length === 0) break
        result['disentanglement'] = await timed(method, () => {
          const f = content.factorNames.length
          return disentanglement({
            codes: posteriorOfEval.mean,
            factors: evalIndices.map((i) => content.factors.subarray(i * f, (i + 1) * f)),
            factorNames: content.factorNames,
            seed,
          })
        })
        break
      case ExplanationMethod.SAMPLE_FIDELITY:
        result['sampleFidelity'] = await timed(method, () => {
          return sampleFidelity(model.sampleRows(evalRows.length, seed, 1), evalRows, featureNames)
        })
        break
      default:
        break
    }
  }
  const computed = methods.filter((x) => VAE_METHODS.includes(x) && cost[x] !== undefined)
  result['methods'] = computed
  result['checks'] = checks
  return { methods: computed, result, computeMs: performance.now() - started, cost }
}

/**
 * The interpretability model of a generator: a small ReLU network trained to reproduce the decoder's outputs
 * from its latents (z ~ N(0, I)), reported by its pooled R^2 on held-out draws.
 */
export async function fitDecoderSurrogate(
  model: VaeModel,
  seed: number,
  signal?: AbortSignal,
): Promise<{ hiddenLayers: number[]; fidelityR2: number; agreement: null }> {
  const k = model.latentDim
  const d = model.featureCount
  const rng = createRng(seed, 'decoder-surrogate')
  const zTrain = standardNormalRows(VAE_EXPLAIN_DEFAULTS.surrogateDraws, k, rng)
  const zTest = standardNormalRows(Math.floor(VAE_EXPLAIN_DEFAULTS.surrogateDraws / 4), k, rng)
  const yTrain = model.decodeRows(zTrain)
  const yTest = model.decodeRows(zTest)
  // Outputs standardised with the training draws' statistics, so one learning rate suits any units.
  const mean = columnMeans(yTrain, d)
  const sd = columnStds(yTrain, d).map((s) => (s > 1e-9 ? s : 1))
  const flat = (rows: Float64Array[], w: number, norm?: boolean) => {
    const out = new Float32Array(rows.length * w)
    rows.forEach((r, i) => {
      for (let j = 0; j < w; j++) out[i * w + j] = norm ? (r[j]! - mean[j]!) / sd[j]! : r[j]!
    })
    return out
  }
  const hidden = [...VAE_EXPLAIN_DEFAULTS.surrogateNetworkHidden]
  const net = tf.sequential()
  hidden.forEach((units, i) =>
    net.add(
      tf.layers.dense({
        units,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 + i + (Math.abs(seed) % 100000) }),
        ...(i === 0 ? { inputShape: [k] } : {}),
      }),
    ),
  )
  net.add(
    tf.layers.dense({
      units: d,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 7 + (Math.abs(seed) % 100000) }),
    }),
  )
  const x = tf.tensor2d(flat(zTrain, k), [zTrain.length, k])
  const y = tf.tensor2d(flat(yTrain, d, true), [yTrain.length, d])
  const optimizer = tf.train.adam(0.01)
  try {
    const batch = VAE_EXPLAIN_DEFAULTS.surrogateNetworkBatch
    for (let epoch = 0; epoch < VAE_EXPLAIN_DEFAULTS.surrogateNetworkEpochs; epoch++) {
      signal?.throwIfAborted()
      for (let start = 0; start < zTrain.length; start += batch) {
        const size = Math.min(batch, zTrain.length - start)
        tf.tidy(() => {
          const xb = x.slice([start, 0], [size, k])
          const yb = y.slice([start, 0], [size, d])
          optimizer.minimize(() => tf.mean(tf.squaredDifference(net.apply(xb) as tf.Tensor, yb)) as tf.Scalar)
        })
      }
      await yieldToEventLoop()
    }
    const predicted = tf.tidy(() =>
      (net.apply(tf.tensor2d(flat(zTest, k), [zTest.length, k])) as tf.Tensor).dataSync(),
    )
    // Pooled over features in dataset units: 1 - sum SSE / sum SST.
    return { hiddenLayers: hidden, fidelityR2: pooledR2(yTest, predicted, mean, sd), agreement: null }
  } finally {
    x.dispose()
    y.dispose()
    optimizer.dispose()
    net.dispose()
  }
}

function pooledR2(
  truth: Float64Array[],
  predicted: ArrayLike<number>,
  mean: Float64Array,
  sd: Float64Array,
): number {
  const d = mean.length
  let sse = 0
  let sst = 0
  const colMean = columnMeans(truth, d)
  truth.forEach((r, i) => {
    for (let j = 0; j < d; j++) {
      const hat = predicted[i * d + j]! * sd[j]! + mean[j]!
      sse += (r[j]! - hat) ** 2
      sst += (r[j]! - colMean[j]!) ** 2
    }
  })
  // A constant generator is reproduced exactly by any network that outputs the constant.
  return sst > 0 ? 1 - sse / sst : sse === 0 ? 1 : 0
}
