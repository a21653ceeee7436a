/**
 * The SEQUENCE explanation of issue #10's GRU (bench/text-explanation.ts's `gru-reference` run) with the
 * layers' own scoring pass against the shared-prefix pass (src/models/sequence/shared-prefixes.ts), on one
 * network trained in this process: rounds alternate plain and shared, and each prints the explanation's CPU
 * time against the training's, each method's share and whether the two profiles agree.
 *
 * Run: `npx tsx bench/gru-prefixes.ts [--rounds N]` (no server, no database; wasm backend).
 */
import os from 'node:os'

import * as tf from '@tensorflow/tfjs'

import { EXPLAIN_DEFAULTS } from '../src/explain/explain-model'
import type { ExplanationMethod } from '../src/explain/types'
import { SequenceArchitecture } from '../src/models/family.enums'
import { explainSequence, SEQUENCE_METHODS, type DistanceProfile } from '../src/models/sequence/explain'
import { SequenceModel } from '../src/models/sequence/model'
import type { SequenceSpec } from '../src/models/sequence/spec'
import { trainSequence } from '../src/models/sequence/train'
import { copyText } from '../src/modules/dataset/generators'
import { buildVocabulary, characters, encodeCharacters } from '../src/modules/dataset/text'
import { selectBackend } from '../src/training/backend'

const roundsArg = process.argv.indexOf('--rounds')
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 2

/** text-explanation.ts's gru-reference case: COPY_TEXT 6,000 chars, lag 5, noise 0.1, seed 1. */
const SPEC: SequenceSpec = {
  architecture: SequenceArchitecture.RNN_GRU,
  contextLength: 32,
  hiddenLayers: [64],
  activation: 'RELU',
  epochs: 2,
  batchSize: 128,
  learningRate: 0.01,
  optimizer: 'ADAM',
  validationSplit: 0.2,
  seed: 1,
}

const cpuMs = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}
const load = () =>
  `load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`

async function main(): Promise<void> {
  const backend = await selectBackend('wasm')
  const chars = characters(copyText(6000, 5, 0.1, 1))
  const vocabulary = buildVocabulary(chars, 1)
  const ids = encodeCharacters(chars, vocabulary)
  console.log(`${backend}, ${os.cpus().length} cores, ${load()}`)
  const cpu0 = process.cpuUsage()
  const wall0 = performance.now()
  const trained = await trainSequence({ ids, symbols: vocabulary.length + 1 }, SPEC, {
    onEpoch: () => undefined,
  })
  const trainCpu = cpuMs(cpu0)
  const epochMs = trained.history.reduce((s, h) => s + h.durationMs, 0)
  const valAccuracy = trained.history.at(-1)!.metrics.find((m) => m.name === 'valAccuracy')?.value
  console.log(
    `trained: ${trainCpu.toFixed(0)} ms CPU, ${epochMs.toFixed(0)} ms of epochs (${(performance.now() - wall0).toFixed(0)} wall), valAccuracy ${valAccuracy?.toFixed(3)}, ${load()}`,
  )
  const sides = [
    {
      name: 'plain',
      model: new SequenceModel(trained.model, SPEC.architecture, 32, vocabulary, { sharedPrefixes: false }),
    },
    { name: 'shared', model: new SequenceModel(trained.model, SPEC.architecture, 32, vocabulary) },
  ]
  const profiles = new Map<string, DistanceProfile[]>()
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const c0 = process.cpuUsage()
      const explanation = await explainSequence({
        model: side.model,
        ids,
        train: trained.train,
        holdout: trained.holdout,
        methods: [...SEQUENCE_METHODS] as ExplanationMethod[],
        sizes: { maxEvalRows: EXPLAIN_DEFAULTS.maxEvalRows, sampleSize: EXPLAIN_DEFAULTS.sampleSize },
        seed: SPEC.seed,
      })
      const cpu = cpuMs(c0)
      const profile = explanation.result['distanceProfile'] as DistanceProfile[]
      profiles.set(side.name, profile)
      const parts = Object.entries(explanation.cost)
        .map(([m, c]) => `${m} ${c!.ms.toFixed(0)}`)
        .join(', ')
      const methods = profile
        .map(
          (p) =>
            `${p.method} ${p.ms.toFixed(0)} ms/${p.evaluations} rows (${p.windows} w, sep ${p.peakSeparation?.toFixed(1)})`,
        )
        .join('; ')
      console.log(
        `round ${round + 1} ${side.name}: CPU ${cpu.toFixed(0)} ms = ${(cpu / trainCpu).toFixed(2)}x training CPU; wall ${explanation.computeMs.toFixed(0)} ms = ${(explanation.computeMs / epochMs).toFixed(2)}x epochs; ${load()}`,
      )
      console.log(`  ${parts}`)
      console.log(`  profile: ${methods}`)
    }
    const [a, b] = [profiles.get('plain')!, profiles.get('shared')!]
    let worst = 0
    a.forEach((p, i) =>
      p.meanAbsAttribution.forEach((v, d) => {
        const w = b[i]!.meanAbsAttribution[d]!
        worst = Math.max(worst, Math.abs(v - w) / Math.max(Math.abs(v), 1e-3))
      }),
    )
    console.log(`  profiles agree: largest relative difference of a mean |a| ${worst.toExponential(2)}`)
  }
  trained.model.dispose()
  trained.lastState?.dispose()
  console.log(`tensors left: ${tf.memory().numTensors}`)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
