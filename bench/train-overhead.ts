/**
 * What our training loop costs on top of TensorFlow.js: samples/s of a bare `model.fit` against `train()` on the
 * reference network (Dense 128-64-32-16-1, ReLU, Adam, batch 32, 20 features), same backend, same process.
 *
 * Run: `npx tsx bench/train-overhead.ts [wasm|cpu|tensorflow ...]` (default: every backend that loads here).
 * Both sides train on the same 80 % of the rows and validate on the other 20 % every epoch; the figure for
 * `train()` covers the whole call (split, standardisation, seeded shuffles, hooks, serialising the artifacts).
 */
import * as tf from '@tensorflow/tfjs'
import seedrandom from 'seedrandom'

import type { BackendName } from '../src/training/backend'
import { BACKEND_ORDER, selectBackend } from '../src/training/backend'
import type { TrainData, TrainSpec } from '../src/models/mlp/spec'
import { train } from '../src/models/mlp/train'

/** One backend's figures; `ratio` is train() over bare fit (1 = no overhead). */
export interface TrainOverheadResult {
  backend: BackendName
  rows: number
  epochs: number
  bareFitSamplesPerSecond: number
  trainSamplesPerSecond: number
  ratio: number
}

const ROWS = 5000
const FEATURES = 20
const EPOCHS = 3
const ROUNDS = 3

const SPEC: TrainSpec = {
  task: 'BINARY_CLASSIFICATION',
  hiddenLayers: [128, 64, 32, 16],
  activation: 'RELU',
  epochs: EPOCHS,
  batchSize: 32,
  learningRate: 0.001,
  optimizer: 'ADAM',
  validationSplit: 0.2,
  seed: 1,
}

function referenceData(): TrainData {
  const random = seedrandom.alea('bench')
  const features = Float64Array.from({ length: ROWS * FEATURES }, () => 2 * random() - 1)
  const targets = Float64Array.from({ length: ROWS }, (_, r) =>
    (features[r * FEATURES] as number) + (features[r * FEATURES + 1] as number) > 0 ? 1 : 0,
  )
  return { features, targets, rowCount: ROWS, featureCount: FEATURES }
}

/** The textbook tfjs way: sigmoid output, binaryCrossentropy, accuracy, fit with its own shuffling. */
async function bareFit(data: TrainData): Promise<number> {
  const model = tf.sequential()
  SPEC.hiddenLayers.forEach((units, i) =>
    model.add(tf.layers.dense({ units, activation: 'relu', ...(i === 0 ? { inputShape: [FEATURES] } : {}) })),
  )
  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }))
  model.compile({
    optimizer: tf.train.adam(SPEC.learningRate),
    loss: 'binaryCrossentropy',
    metrics: ['accuracy'],
  })
  const x = tf.tensor2d(Float32Array.from(data.features), [ROWS, FEATURES])
  const y = tf.tensor2d(Float32Array.from(data.targets), [ROWS, 1])
  const start = performance.now()
  await model.fit(x, y, {
    epochs: EPOCHS,
    batchSize: SPEC.batchSize,
    validationSplit: SPEC.validationSplit,
    verbose: 0,
  })
  const ms = performance.now() - start
  tf.dispose([x, y])
  model.optimizer.dispose()
  model.dispose()
  return trainedSamples() / (ms / 1000)
}

async function ours(data: TrainData): Promise<number> {
  const start = performance.now()
  await train(data, SPEC, { onEpoch: async () => undefined })
  return trainedSamples() / ((performance.now() - start) / 1000)
}

function trainedSamples(): number {
  return Math.floor(ROWS * (1 - SPEC.validationSplit)) * EPOCHS
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

/** Measures one backend; alternates the two sides so that machine noise hits both alike. */
export async function measureTrainOverhead(backend: BackendName): Promise<TrainOverheadResult | undefined> {
  if ((await selectBackend(backend)) !== backend) return undefined
  const data = referenceData()
  // Warm-up: JIT, kernel registration, wasm compilation.
  await bareFit(data)
  await ours(data)
  const bare: number[] = []
  const mine: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    bare.push(await bareFit(data))
    mine.push(await ours(data))
  }
  const bareFitSamplesPerSecond = median(bare)
  const trainSamplesPerSecond = median(mine)
  return {
    backend,
    rows: ROWS,
    epochs: EPOCHS,
    bareFitSamplesPerSecond,
    trainSamplesPerSecond,
    ratio: trainSamplesPerSecond / bareFitSamplesPerSecond,
  }
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2) as BackendName[]
  const backends = requested.length > 0 ? requested : [...BACKEND_ORDER]
  for (const backend of backends) {
    const result = await measureTrainOverhead(backend)
    if (!result) {
      console.log(`${backend}: not available here`)
      continue
    }
    console.log(
      `${backend}: bare model.fit ${result.bareFitSamplesPerSecond.toFixed(0)} samples/s, ` +
        `train() ${result.trainSamplesPerSecond.toFixed(0)} samples/s, ratio ${result.ratio.toFixed(2)}`,
    )
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
}
