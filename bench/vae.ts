/**
 * VAE benchmarks on SPRITES (16x16 images), same backend, same process run:
 *
 * (a) training throughput through the platform (GraphQL -> queue -> trainer process -> PostgreSQL) against the
 *     same VAE step loop without the platform: a bare loop of optimizer.minimize over the same networks, loss,
 *     batch size and rows, with no metrics, hooks, validation or storage. Reported as samples/s and the ratio.
 * (b) each VAE explanation method's cost (as the worker recorded it) as a share of the run's training time.
 *
 * Run (compiled; the server needs decorator metadata): `npx tsc -p tsconfig.build.json && node
 * dist/bench/vae.js [--quick] [--backend wasm|cpu|tensorflow] [--only a,b]`.
 */
import * as tf from '@tensorflow/tfjs'

import { Likelihood } from '../src/models/family.enums'
import { createOptimizer, trainableVariables } from '../src/models/common/tf'
import { yieldToEventLoop } from '../src/models/common/random'
import { buildVae, forwardTerms } from '../src/models/vae/network'
import type { VaeSpec } from '../src/models/vae/spec'
import { DatasetGenerator } from '../src/modules/dataset/dataset.enums'
import { generate } from '../src/modules/dataset/generators'
import { selectBackend } from '../src/training/backend'
import {
  Cleanups,
  cpuSplitLine,
  fmt,
  gql,
  heading,
  loadLine,
  machineLine,
  parseBenchArgs,
  printTable,
  procCpuMs,
  requireCompiled,
  runMain,
  startInProcessServer,
  startRun,
  trainerCpuWhenTrained,
  waitForRuns,
} from './support'

const LATENT_DIM = 10
const HIDDEN = [256, 128]
const BATCH = 128

async function main(cleanups: Cleanups): Promise<void> {
  requireCompiled()
  const args = parseBenchArgs()
  const backend = await selectBackend(args.backend)
  const rows = args.quick ? 2000 : 10_000
  const epochs = args.quick ? 2 : 5
  const want = (section: string) => args.only.length === 0 || args.only.includes(section)
  console.log(machineLine())
  console.log(loadLine())
  const server = await startInProcessServer(cleanups, { LAB_WORKERS: '1', LAB_TF_BACKEND: backend })
  const { generateDataset } = await gql<{ generateDataset: { id: string } }>(
    server.url,
    `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
    { input: { name: 'bench-sprites', generator: 'SPRITES', rows, seed: 1 } },
  )
  const runInput = (explain: boolean) => ({
    datasetId: generateDataset.id,
    family: 'VAE',
    latentDim: LATENT_DIM,
    hiddenLayers: HIDDEN,
    epochs,
    batchSize: BATCH,
    learningRate: 0.001,
    validationSplit: 0.2,
    seed: 1,
    experiment: 'bench-vae',
    ...(explain ? {} : { explain: [] }),
  })
  const trainRows = rows - Math.floor(rows * 0.2)

  // The bare loop trains on the same 80 % of the same rows (order does not matter for throughput).
  const data = generate(DatasetGenerator.SPRITES, rows, 0, 1)
  const flat = new Float32Array(trainRows * 256)
  for (let i = 0; i < trainRows; i++) flat.set(data.rows[i]!, i * 256)
  const spec: VaeSpec = {
    hiddenLayers: HIDDEN,
    activation: 'RELU',
    epochs,
    batchSize: BATCH,
    learningRate: 0.001,
    optimizer: 'ADAM',
    validationSplit: 0.2,
    seed: 1,
    latentDim: LATENT_DIM,
    beta: 1,
    likelihood: Likelihood.BERNOULLI,
  }
  const bare = async (): Promise<number> => {
    await tf.setBackend(backend)
    const x = tf.tensor2d(flat, [trainRows, 256])
    const nets = buildVae(spec, 256)
    const optimizer = createOptimizer('ADAM', 0.001)
    const variables = [...trainableVariables(nets.encoder), ...trainableVariables(nets.decoder)]
    const started = performance.now()
    let lastYield = started
    for (let e = 0; e < epochs; e++) {
      for (let s = 0; s < trainRows; s += BATCH) {
        const size = Math.min(BATCH, trainRows - s)
        tf.tidy(() => {
          const xb = x.slice([s, 0], [size, 256])
          const noise = tf.randomNormal([size, LATENT_DIM]) as tf.Tensor2D
          optimizer.minimize(
            () => {
              const t = forwardTerms(nets, spec, xb, noise, true)
              return tf.mean(tf.add(t.reconstruction, tf.sum(t.kl, 1))) as tf.Scalar
            },
            false,
            variables,
          )
        })
        // Give the event loop a turn as often as the platform's loop does (the server shares this process).
        if (performance.now() - lastYield >= 50) {
          await yieldToEventLoop()
          lastYield = performance.now()
        }
      }
      // One read per epoch, as any loop that reports a loss has to do.
      await tf.tidy(() => tf.scalar(0)).data()
    }
    const ms = performance.now() - started
    x.dispose()
    optimizer.dispose()
    nets.encoder.dispose()
    nets.decoder.dispose()
    return (trainRows * epochs) / (ms / 1000)
  }
  const trainer = server.lab.app.pool?.pids()[0]
  if (trainer === undefined) throw new Error('no trainer process')
  const platform = async (explain: boolean) => {
    const cpuStart = procCpuMs(trainer)
    const id = await startRun(server.url, runInput(explain))
    const cpuTrained = await trainerCpuWhenTrained(server.url, id, epochs, trainer)
    const [run] = await waitForRuns(server.url, [id], { intervalMs: 50, timeoutMs: 1_800_000 })
    const cpuEnd = procCpuMs(trainer)
    const wallMs = Date.parse(run!.finishedAt!) - Date.parse(run!.startedAt!)
    const epochMs = run!.history.reduce((s, h) => s + h.durationMs, 0)
    return {
      id,
      wallMs,
      epochMs,
      trainingCpuMs: cpuTrained - cpuStart,
      afterTrainingCpuMs: cpuEnd - cpuTrained,
      sps: (trainRows * epochs) / (epochMs / 1000),
      wallSps: (trainRows * epochs) / (wallMs / 1000),
    }
  }
  if (want('a')) await sectionThroughput()
  if (want('b')) await sectionExplanation()
  console.log(loadLine())

  async function sectionThroughput(): Promise<void> {
    heading(
      `(a) VAE throughput: SPRITES ${fmt(rows)} x 256, encoder ${HIDDEN.join('-')}-(2x${LATENT_DIM}), ` +
        `batch ${BATCH}, ${epochs} epochs, BERNOULLI, ${backend}`,
    )
    const rounds = args.quick ? 1 : 3
    const bareSps: number[] = []
    const platformSps: number[] = []
    const wallSps: number[] = []
    for (let r = 0; r < rounds; r++) {
      // Alternate the sides so a change of machine load hits both.
      bareSps.push(await bare())
      const p = await platform(false)
      platformSps.push(p.sps)
      wallSps.push(p.wallSps)
    }
    const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!
    printTable([
      { side: 'bare step loop (this process)', 'samples/s': fmt(med(bareSps)), ratio: '1.00' },
      {
        side: 'platform, epochs only',
        'samples/s': fmt(med(platformSps)),
        ratio: (med(platformSps) / med(bareSps)).toFixed(2),
      },
      {
        side: 'platform, run start to end',
        'samples/s': fmt(med(wallSps)),
        ratio: (med(wallSps) / med(bareSps)).toFixed(2),
      },
    ])
  }

  async function sectionExplanation(): Promise<void> {
    heading(`(b) explanation cost per method, as a share of the run's training time (same run)`)
    const explained = await platform(true)
    const { run } = await gql<{
      run: {
        explanation: {
          computeMs: number
          cost: { method: string; ms: number; evaluations: number }[]
          surrogateNetwork: { fidelityR2: number; epochs: number | null } | null
        }
      }
    }>(
      server.url,
      `query($id: ID!) { run(id: $id) { explanation { computeMs cost { method ms evaluations }
        surrogateNetwork { fidelityR2 epochs } } } }`,
      {
        id: explained.id,
      },
    )
    printTable([
      ...run.explanation.cost.map((c) => ({
        method: c.method,
        ms: fmt(c.ms),
        evaluations: fmt(c.evaluations),
        'share of training': `${((100 * c.ms) / explained.epochMs).toFixed(1)} %`,
      })),
      {
        method: 'all (explanation)',
        ms: fmt(run.explanation.computeMs),
        evaluations: '',
        'share of training': `${((100 * run.explanation.computeMs) / explained.epochMs).toFixed(1)} %`,
      },
    ])
    console.log(
      `training (sum of epoch times): ${fmt(explained.epochMs)} ms; run start to end: ${fmt(explained.wallMs)} ms`,
    )
    console.log(cpuSplitLine(explained.trainingCpuMs, explained.afterTrainingCpuMs))
    const surrogate = run.explanation.surrogateNetwork
    if (surrogate) {
      console.log(
        `decoder surrogate network: held-out R^2 ${surrogate.fidelityR2.toFixed(4)}` +
          (surrogate.epochs === null ? '' : ` after ${surrogate.epochs} epochs`),
      )
    }
    const ratio = run.explanation.computeMs / explained.epochMs
    console.log(
      `target explanation <= 0.5x training: ${ratio <= 0.5 ? 'met' : 'NOT met'} (${ratio.toFixed(2)}x)`,
    )
  }
}

runMain(main)
