/**
 * What the flag-free wasm BatchMatMul (src/training/wasm-matmul.ts) saves: the stock kernel and ours, switched
 * back and forth in the same process, on (a) the one product the slowdown was found on, (b) the reference MLP
 * (Dense 128-64-32-16-1 on FRIEDMAN1 2,000 rows, `train()`), (c) SEQUENCE WINDOW_MLP and RNN_GRU
 * (`trainSequence()` on COPY_TEXT, default layers, contextLength 32). Each figure is the median of its rounds;
 * rounds alternate stock and ours so that machine noise hits both alike.
 *
 * Run: `npx tsx bench/wasm-matmul.ts [--quick]` (no server, no database).
 */
import os from 'node:os'

import * as tf from '@tensorflow/tfjs'

import { selectBackend } from '../src/training/backend'
import { setFlagFreeWasmMatMul } from '../src/training/wasm-matmul'
import type { TrainData, TrainSpec } from '../src/models/mlp/spec'
import { buildModel, perRowLoss } from '../src/models/mlp/network'
import { train } from '../src/models/mlp/train'
import { applyModel, createOptimizer, trainableVariables } from '../src/models/common/tf'
import { SequenceArchitecture } from '../src/models/family.enums'
import { SEQUENCE_DEFAULTS, type SequenceSpec } from '../src/models/sequence/spec'
import { trainSequence } from '../src/models/sequence/train'
import { DatasetGenerator } from '../src/modules/dataset/dataset.enums'
import { copyText, generate } from '../src/modules/dataset/generators'
import { buildVocabulary, characters, encodeCharacters } from '../src/modules/dataset/text'

const quick = process.argv.includes('--quick')
const ROUNDS = quick ? 3 : 5
const noHooks = { onEpoch: async (): Promise<void> => undefined }

interface Workload {
  name: string
  /** Optimizer steps (or products) one call makes, to report ms per step. */
  steps: number
  run: () => Promise<void>
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')

/** (a) [32x864]x[864x128] with each flag, 50 products per call. */
function products(): Workload[] {
  const a = tf.randomNormal([32, 864])
  const b = tf.randomNormal([864, 128])
  const aT = tf.randomNormal([864, 32])
  const bT = tf.randomNormal([128, 864])
  const times = (f: () => tf.Tensor) => async () => {
    for (let i = 0; i < 50; i++) tf.tidy(() => void f().dataSync())
  }
  return [
    { name: 'matMul [32x864]x[864x128], no flag', steps: 50, run: times(() => tf.matMul(a, b)) },
    { name: 'matMul, transposeA', steps: 50, run: times(() => tf.matMul(aT, b, true, false)) },
    { name: 'matMul, transposeB', steps: 50, run: times(() => tf.matMul(a, bT, false, true)) },
  ]
}

const MLP_ROWS = 2000
const MLP_SPEC: TrainSpec = {
  task: 'REGRESSION',
  hiddenLayers: [128, 64, 32, 16],
  activation: 'RELU',
  epochs: quick ? 1 : 3,
  batchSize: 32,
  learningRate: 0.001,
  optimizer: 'ADAM',
  validationSplit: 0.2,
  seed: 1,
}

function friedman1(): TrainData {
  const generated = generate(DatasetGenerator.FRIEDMAN1, MLP_ROWS, 1, 1)
  return {
    features: Float64Array.from(generated.rows.flatMap((r) => [...r])),
    targets: generated.targets,
    rowCount: MLP_ROWS,
    featureCount: generated.featureNames.length,
  }
}

/** (b) The reference MLP through the platform's own training loop (validation and artifacts included). */
function referenceMlp(data: TrainData): Workload {
  return {
    name: `MLP 128-64-32-16-1, FRIEDMAN1 ${MLP_ROWS} rows, batch 32, ${MLP_SPEC.epochs} epochs (train())`,
    steps: Math.ceil((MLP_ROWS * (1 - MLP_SPEC.validationSplit)) / MLP_SPEC.batchSize) * MLP_SPEC.epochs,
    run: async () => void (await train(data, MLP_SPEC, noHooks)),
  }
}

/** (b) The same network's optimizer step alone: 50 `optimizer.minimize` calls on batches of 32. */
function referenceMlpSteps(data: TrainData): Workload {
  const model = buildModel(MLP_SPEC, data.featureCount)
  const optimizer = createOptimizer(MLP_SPEC.optimizer, MLP_SPEC.learningRate)
  const variables = trainableVariables(model)
  const x = tf.tensor2d(Float32Array.from(data.features), [data.rowCount, data.featureCount])
  const y = tf.tensor2d(Float32Array.from(data.targets), [data.rowCount, 1])
  const batch = MLP_SPEC.batchSize
  return {
    name: 'the same MLP, optimizer.minimize only',
    steps: 50,
    run: async () => {
      for (let s = 0; s < 50; s++)
        tf.tidy(() => {
          const xb = x.slice([s * batch, 0], [batch, data.featureCount])
          const yb = y.slice([s * batch, 0], [batch, 1])
          const loss = () => tf.mean(perRowLoss('REGRESSION', yb, applyModel(model, xb, true))) as tf.Scalar
          optimizer.minimize(loss, false, variables)
        })
      await tf.tidy(() => tf.scalar(0)).data()
    },
  }
}

/** (c) A text generator through the platform's own training loop, one epoch. */
function sequence(architecture: SequenceArchitecture, length: number): Workload {
  const chars = characters(copyText(length, 5, 0.1, 1))
  const vocabulary = buildVocabulary(chars, 1)
  const data = { ids: encodeCharacters(chars, vocabulary), symbols: vocabulary.length + 1 }
  const hiddenLayers = [...SEQUENCE_DEFAULTS.hiddenLayers[architecture]]
  const spec: SequenceSpec = {
    architecture,
    contextLength: 32,
    hiddenLayers,
    activation: 'RELU',
    epochs: 1,
    batchSize: 128,
    learningRate: 0.01,
    optimizer: 'ADAM',
    validationSplit: 0.2,
    seed: 1,
  }
  const trainTargets = Math.floor((length - 1) * (1 - spec.validationSplit))
  return {
    name: `${architecture} ${hiddenLayers.join('-')}, COPY_TEXT ${length} chars, batch 128, 1 epoch (trainSequence())`,
    steps: Math.ceil(trainTargets / spec.batchSize),
    run: async () => {
      ;(await trainSequence(data, spec, noHooks)).model.dispose()
    },
  }
}

async function measure(w: Workload): Promise<{ stock: number; flagFree: number }> {
  const timed = async (enabled: boolean): Promise<number> => {
    setFlagFreeWasmMatMul(enabled)
    const start = performance.now()
    await w.run()
    return (performance.now() - start) / w.steps
  }
  // Warm-up on both kernels: JIT, weights, wasm memory growth.
  await timed(false)
  await timed(true)
  const stock: number[] = []
  const flagFree: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    stock.push(await timed(false))
    flagFree.push(await timed(true))
  }
  return { stock: median(stock), flagFree: median(flagFree) }
}

async function main(): Promise<void> {
  const backend = await selectBackend('wasm')
  if (backend !== 'wasm') throw new Error(`the wasm backend did not load (got ${backend})`)
  console.log(
    `${new Date().toISOString()} | ${os.cpus().length} cores | load average ${load()} | ${ROUNDS} rounds`,
  )
  const mlpData = friedman1()
  const workloads = [
    ...products(),
    referenceMlp(mlpData),
    referenceMlpSteps(mlpData),
    sequence(SequenceArchitecture.WINDOW_MLP, quick ? 5_000 : 20_000),
    sequence(SequenceArchitecture.RNN_GRU, quick ? 1_000 : 3_000),
  ]
  console.log('| workload | stock ms/step | flag-free ms/step | speed-up |')
  console.log('|---|---|---|---|')
  for (const w of workloads) {
    const { stock, flagFree } = await measure(w)
    console.log(
      `| ${w.name} | ${stock.toFixed(2)} | ${flagFree.toFixed(2)} | ${(stock / flagFree).toFixed(2)}x |`,
    )
  }
  console.log(`load average at the end: ${load()}`)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
