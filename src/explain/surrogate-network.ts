import * as tf from '@tensorflow/tfjs'
import { ExplainInputError, assertRowWidths } from './errors'
import { createRng, permutation } from './random'
import { columnMeans, columnStds, mean, rSquared, std } from './stats'
import type { BatchPredict, SurrogateNetwork, Task } from './types'

/** Hidden layer widths of the default interpretability model: much smaller than a typical trained model. */
export const DEFAULT_SURROGATE_HIDDEN: readonly number[] = Object.freeze([16, 8])
export const DEFAULT_SURROGATE_EPOCHS = 60
export const DEFAULT_SURROGATE_BATCH_SIZE = 64
export const DEFAULT_SURROGATE_LEARNING_RATE = 0.01

/** Options of {@link fitSurrogateNetwork}. */
export interface SurrogateNetworkOptions {
  /** The model to imitate (its logit for classification). */
  predict: BatchPredict
  /** Rows the surrogate learns from (typically the model's training rows). */
  trainRows: readonly Float64Array[]
  /** Held-out rows its fidelity is measured on. */
  testRows: readonly Float64Array[]
  task: Task
  hiddenLayers?: readonly number[]
  epochs?: number
  batchSize?: number
  learningRate?: number
  seed?: number | string
  /** Checked between epochs; training stops with the signal's reason. */
  signal?: AbortSignal
}

/**
 * The "interpretability model": a small ReLU network trained with Adam on mean squared error to reproduce
 * the model's outputs (standardized inputs and outputs), reported by its fidelity R^2 on held-out rows and,
 * for classification, the rate at which both logits give the same class.
 *
 * Deterministic for a seed on a given backend: Glorot-uniform weights come from seeded draws and minibatches
 * from our own seeded shuffle (no `Math.random`). The backend is whatever the caller selected; every tensor
 * is disposed before returning. Async because it yields to the event loop after every epoch.
 */
export async function fitSurrogateNetwork(options: SurrogateNetworkOptions): Promise<SurrogateNetwork> {
  const { predict, trainRows, testRows, task } = options
  const hiddenLayers = [...(options.hiddenLayers ?? DEFAULT_SURROGATE_HIDDEN)]
  const epochs = options.epochs ?? DEFAULT_SURROGATE_EPOCHS
  const batchSize = options.batchSize ?? DEFAULT_SURROGATE_BATCH_SIZE
  const learningRate = options.learningRate ?? DEFAULT_SURROGATE_LEARNING_RATE
  const seed = options.seed ?? 0
  if (trainRows.length === 0 || testRows.length === 0) {
    throw new ExplainInputError('a surrogate network needs training and held-out rows')
  }
  if (hiddenLayers.some((h) => !Number.isInteger(h) || h < 1)) {
    throw new ExplainInputError('hidden layer widths must be positive integers')
  }
  if (!Number.isInteger(epochs) || epochs < 0) throw new ExplainInputError('epochs must be >= 0')
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ExplainInputError('batchSize must be >= 1')
  const width = (trainRows[0] as Float64Array).length
  assertRowWidths(trainRows, width, 'trainRows')
  assertRowWidths(testRows, width, 'testRows')

  const yTrainRaw = predict(trainRows)
  const yTest = predict(testRows)
  // Standardize with training statistics so one learning rate suits any units and output scale.
  const xMean = columnMeans(trainRows, width)
  const xStd = columnStds(trainRows, width).map((s) => (s > 0 ? s : 1))
  const yMean = mean(yTrainRaw)
  const yStdRaw = std(yTrainRaw)
  const yStd = yStdRaw > 0 ? yStdRaw : 1
  const standardize = (rows: readonly Float64Array[]): Float32Array => {
    const flat = new Float32Array(rows.length * width)
    rows.forEach((row, i) => {
      for (let j = 0; j < width; j++) {
        flat[i * width + j] = ((row[j] as number) - (xMean[j] as number)) / (xStd[j] as number)
      }
    })
    return flat
  }

  const n = trainRows.length
  const xTrain = tf.tensor2d(standardize(trainRows), [n, width])
  const yTrain = tf.tensor2d(
    Float32Array.from(yTrainRaw, (y) => (y - yMean) / yStd),
    [n, 1],
  )
  const sizes = [width, ...hiddenLayers, 1]
  const variables: tf.Variable[] = []
  for (let l = 0; l + 1 < sizes.length; l++) {
    const fanIn = sizes[l] as number
    const fanOut = sizes[l + 1] as number
    const limit = Math.sqrt(6 / (fanIn + fanOut))
    // tidy disposes the initial values; the variables hold their own copies.
    const seedOfLayer = `${seed}:surrogate:${l}`
    variables.push(
      tf.tidy(() => tf.variable(tf.randomUniform([fanIn, fanOut], -limit, limit, 'float32', seedOfLayer))),
    )
    variables.push(tf.tidy(() => tf.variable(tf.zeros([fanOut]))))
  }
  const forward = (x: tf.Tensor2D): tf.Tensor2D => {
    let h = x
    for (let l = 0; l < variables.length; l += 2) {
      const z = tf.add(
        tf.matMul(h, variables[l] as tf.Variable),
        variables[l + 1] as tf.Variable,
      ) as tf.Tensor2D
      h = l + 2 < variables.length ? tf.relu(z) : z
    }
    return h
  }
  const optimizer = tf.train.adam(learningRate)
  const rng = createRng(seed, 'surrogate-shuffle')

  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      options.signal?.throwIfAborted()
      const order = permutation(n, rng)
      for (let start = 0; start < n; start += batchSize) {
        tf.tidy(() => {
          const idx = tf.tensor1d(order.subarray(start, Math.min(n, start + batchSize)), 'int32')
          const xb = tf.gather(xTrain, idx)
          const yb = tf.gather(yTrain, idx)
          optimizer.minimize(
            () => tf.mean(tf.squaredDifference(forward(xb), yb)).asScalar(),
            false,
            variables,
          )
        })
      }
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    const surrogate = tf.tidy(() => {
      const xTest = tf.tensor2d(standardize(testRows), [testRows.length, width])
      return forward(xTest).dataSync()
    })
    const yHat = Float64Array.from(surrogate, (z) => z * yStd + yMean)
    let agreement: number | null = null
    if (task === 'BINARY_CLASSIFICATION') {
      let same = 0
      yHat.forEach((z, i) => {
        if (z > 0 === (yTest[i] as number) > 0) same++
      })
      agreement = same / yHat.length
    }
    return { hiddenLayers, fidelityR2: rSquared(yTest, yHat), agreement }
  } finally {
    optimizer.dispose()
    for (const v of variables) v.dispose()
    xTrain.dispose()
    yTrain.dispose()
  }
}
