/**
 * SEQUENCE (text generator) benchmarks on COPY_TEXT, both architectures, same backend, same process run:
 *
 * (a) training throughput in characters/s through the platform (GraphQL -> queue -> trainer process ->
 *     PostgreSQL) against a bare loop in this process: the same network (`buildSequenceModel`), the same
 *     training windows in the same seeded batches, plain `optimizer.minimize`, no metrics, no storage.
 * (b) `generate` latency per token over GraphQL on the trained runs, against the bare per-token cost:
 *     `SequenceModel.nextDistributions` on one context, in this process, with the run's stored model.
 * (c) `explainGeneration` cost per method (and a cheaper setting of each) for 50 generated characters after a
 *     32-character prompt, in this process on the same stored models: ms, model evaluations, the method's own
 *     check beside its cost, and the ratio to the time of generating those 50 characters.
 *
 * Run (compiled; the server needs decorator metadata): `npx tsc -p tsconfig.build.json && node
 * dist/bench/sequence.js [--quick] [--backend wasm|cpu|tensorflow] [--only a,b,c]` ((b) and (c) need the
 * runs of (a)).
 */
import * as tf from '@tensorflow/tfjs'

import { closeDb, createDb } from '../src/db/client'
import { TokenAttributionMethod, type TokenAttributionSettings } from '../src/explain/token-attribution'
import { seededRandom, shuffledRange, yieldToEventLoop } from '../src/models/common/random'
import { applyModel, createOptimizer, trainableVariables } from '../src/models/common/tf'
import { SequenceArchitecture } from '../src/models/family.enums'
import { explainGeneration } from '../src/models/sequence/explain-generation'
import type { SequenceModel } from '../src/models/sequence/model'
import { buildSequenceModel, crossEntropy, encodeWindows } from '../src/models/sequence/network'
import { generateTokens } from '../src/models/sequence/sampling'
import { SEQUENCE_DEFAULTS, splitText } from '../src/models/sequence/spec'
import { loadSequence } from '../src/models/sequence/stored'
import { examplesOf } from '../src/models/sequence/train'
import { copyText } from '../src/modules/dataset/generators'
import { buildVocabulary, characters, encodeCharacters } from '../src/modules/dataset/text'
import { findTrainedModel } from '../src/modules/run/prediction.service'
import { RunRepository } from '../src/modules/run/run.repository'
import type { BackendName } from '../src/training/backend'
import { selectBackend } from '../src/training/backend'
import {
  BenchArgs,
  Cleanups,
  fmt,
  gql,
  heading,
  InProcessServer,
  loadLine,
  machineLine,
  median,
  parseBenchArgs,
  printTable,
  procCpuMs,
  requireCompiled,
  runMain,
  startInProcessServer,
  startRun,
  waitForRuns,
} from './support'

const CONTEXT = 32
/** Larger than the API's default of 32: a GRU step's cost is mostly per step, not per row (see README). */
const BATCH = 128
const VALIDATION_SPLIT = 0.2
const SEED = 1
const LAG = 5
const NOISE = 0.1
const EXPLAINED_CHARACTERS = 50
const GENERATED_TOKENS = 200

/**
 * Corpus size and epochs per architecture. The GRU trains about 15x fewer characters per second than the
 * window MLP here, so it gets a shorter corpus: the same size would keep one epoch busy for minutes.
 */
function plans(quick: boolean): Plan[] {
  return [
    {
      architecture: SequenceArchitecture.WINDOW_MLP,
      characters: quick ? 20_000 : 50_000,
      epochs: quick ? 1 : 2,
      learningRate: 0.001,
    },
    {
      architecture: SequenceArchitecture.RNN_GRU,
      characters: quick ? 2_000 : 6_000,
      epochs: quick ? 1 : 2,
      // At 0.001 the GRU is still at chance (valAccuracy ~0.03) after these few steps; at 0.01 it starts to copy.
      learningRate: 0.01,
    },
  ]
}

interface Plan {
  architecture: SequenceArchitecture
  characters: number
  epochs: number
  learningRate: number
}

const ms = (start: number) => performance.now() - start

/**
 * CPU ms of this whole process (every thread: the client, the in-process API, its query thread) since
 * `start`. Far less sensitive to other load than wall time; the trainer, a child process, is not included.
 */
const cpuMs = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

/** A COPY_TEXT corpus as the dataset service builds it (same generator and seed, vocabulary at minCount 1). */
function corpus(length: number): { text: string; ids: Int32Array; symbols: number; vocabulary: string[] } {
  const text = copyText(length, LAG, NOISE, SEED)
  const chars = characters(text)
  const vocabulary = buildVocabulary(chars, 1)
  return { text, ids: encodeCharacters(chars, vocabulary), symbols: vocabulary.length + 1, vocabulary }
}

// ---------------------------------------------------------------------------------------------------------
// (a) throughput

interface Trained {
  architecture: SequenceArchitecture
  runId: string
  text: string
  hiddenLayers: number[]
}

interface BareResult {
  /** Training characters over the time of the optimizer steps only. */
  trainCps: number
  /** The same characters over the steps plus one validation forward pass per epoch (what an epoch stores). */
  withValidationCps: number
  /** The same characters per CPU-second of this process over the steps and validation passes. */
  cpuCps: number
}

/**
 * The bare side: the platform's windows and per-epoch seeded shuffles (`splitText`, `examplesOf`, the
 * `epoch-shuffle/<n>` stream), one `optimizer.minimize` per batch, a forward pass over the held-out windows
 * after each epoch, timed apart.
 */
async function bareLoop(
  backend: BackendName,
  data: { ids: Int32Array; symbols: number },
  { architecture, epochs, learningRate }: Plan,
): Promise<BareResult> {
  await tf.setBackend(backend)
  const { ids, symbols } = data
  const hiddenLayers = [...SEQUENCE_DEFAULTS.hiddenLayers[architecture]]
  const split = splitText(ids.length, CONTEXT, VALIDATION_SPLIT, SEED)
  const train = examplesOf(split.train)
  const held = examplesOf(split.holdout)
  const n = train.targets.length
  const model = buildSequenceModel(
    { architecture, contextLength: CONTEXT, hiddenLayers, activation: 'RELU', seed: SEED },
    symbols,
  )
  const optimizer = createOptimizer('ADAM', learningRate)
  const variables = trainableVariables(model)
  const step = (targets: Int32Array, starts: Int32Array) =>
    tf.tidy(() => {
      const size = targets.length
      const x = tf.tensor3d(encodeWindows(ids, targets, starts, CONTEXT, symbols), [size, CONTEXT, symbols])
      const y = tf.tensor2d(oneHotTargets(ids, targets, symbols), [size, symbols])
      optimizer.minimize(
        () => tf.mean(crossEntropy(applyModel(model, x, true) as tf.Tensor2D, y)) as tf.Scalar,
        false,
        variables,
      )
    })
  // One step first: kernels and weights initialised, as in the trainer, which has trained before.
  step(train.targets.subarray(0, BATCH), train.starts.subarray(0, BATCH))
  let trainMs = 0
  let validationMs = 0
  const cpu = process.cpuUsage()
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const order = shuffledRange(n, seededRandom(SEED, `epoch-shuffle/${epoch}`))
    const started = performance.now()
    let lastYield = started
    for (let s = 0; s < n; s += BATCH) {
      const picked = order.subarray(s, s + BATCH)
      step(
        Int32Array.from(picked, (i) => train.targets[i]!),
        Int32Array.from(picked, (i) => train.starts[i]!),
      )
      // The in-process API shares this event loop: give it a turn as often as the trainer does.
      if (performance.now() - lastYield >= 50) {
        await yieldToEventLoop()
        lastYield = performance.now()
      }
    }
    // One read per epoch, as any loop that reports a loss has to do.
    await tf.tidy(() => tf.scalar(0)).data()
    trainMs += ms(started)
    const validating = performance.now()
    for (let s = 0; s < held.targets.length; s += 1024) {
      const targets = held.targets.subarray(s, s + 1024)
      const x = tf.tensor3d(
        encodeWindows(ids, targets, held.starts.subarray(s, s + 1024), CONTEXT, symbols),
        [targets.length, CONTEXT, symbols],
      )
      const logits = applyModel(model, x)
      logits.dataSync()
      tf.dispose([x, logits])
    }
    validationMs += ms(validating)
  }
  const cpuUsed = cpuMs(cpu)
  optimizer.dispose()
  model.dispose()
  const chars = n * epochs
  return {
    trainCps: chars / (trainMs / 1000),
    withValidationCps: chars / ((trainMs + validationMs) / 1000),
    cpuCps: chars / (cpuUsed / 1000),
  }
}

function oneHotTargets(ids: Int32Array, targets: Int32Array, symbols: number): Float32Array {
  const out = new Float32Array(targets.length * symbols)
  targets.forEach((t, i) => (out[i * symbols + ids[t]!] = 1))
  return out
}

async function sectionThroughput(
  args: BenchArgs,
  backend: BackendName,
  server: InProcessServer,
): Promise<Trained[]> {
  const { url } = server
  const trainerPid = server.lab.app.pool?.pids()[0]
  if (trainerPid === undefined) throw new Error('no trainer process')
  heading(
    `(a) training throughput, COPY_TEXT (lag ${LAG}, noise ${NOISE}), contextLength ${CONTEXT}, default ` +
      `hidden layers, batch ${BATCH}, Adam (0.001 MLP, 0.01 GRU), validationSplit ${VALIDATION_SPLIT}, ${backend}`,
  )
  const out: Record<string, string>[] = []
  const trained: Trained[] = []
  for (const plan of plans(args.quick)) {
    const data = corpus(plan.characters)
    const { generateDataset } = await gql<{ generateDataset: { id: string } }>(
      url,
      `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
      {
        input: {
          name: `bench-copy-${plan.characters}`,
          generator: 'COPY_TEXT',
          rows: plan.characters,
          lag: LAG,
          noise: NOISE,
          seed: SEED,
        },
      },
    )
    const trainChars = splitText(plan.characters, CONTEXT, VALIDATION_SPLIT, SEED).trainExamples
    const bare = await bareLoop(backend, data, plan)
    const trainerCpu = procCpuMs(trainerPid)
    const id = await startRun(url, {
      datasetId: generateDataset.id,
      family: 'SEQUENCE',
      architecture: plan.architecture,
      contextLength: CONTEXT,
      epochs: plan.epochs,
      batchSize: BATCH,
      learningRate: plan.learningRate,
      validationSplit: VALIDATION_SPLIT,
      seed: SEED,
      experiment: 'bench-sequence',
    })
    // The figures come from the stored epochs and times, not from this polling: poll gently.
    const [run] = await waitForRuns(url, [id], { intervalMs: 250, timeoutMs: 1_800_000 })
    const runCpuCps = (trainChars * plan.epochs) / ((procCpuMs(trainerPid) - trainerCpu) / 1000)
    if (run!.backend !== backend) throw new Error(`the trainer used ${run!.backend}, not ${backend}`)
    const { run: metrics } = await gql<{ run: { history: { valAccuracy: number | null }[] } }>(
      url,
      `query($id: ID!) { run(id: $id) { history { valAccuracy } } }`,
      { id },
    )
    const chars = trainChars * plan.epochs
    const epochCps = chars / (run!.history.reduce((s, h) => s + h.durationMs, 0) / 1000)
    const wallCps = chars / ((Date.parse(run!.finishedAt!) - Date.parse(run!.startedAt!)) / 1000)
    const label = `${plan.architecture} ${[...SEQUENCE_DEFAULTS.hiddenLayers[plan.architecture]].join('-')}`
    const what = `${fmt(plan.characters)} chars (${fmt(trainChars)} trained), ${plan.epochs} epochs`
    const row = (side: string, cps: number, base: number, valAccuracy = '') => ({
      architecture: label,
      corpus: what,
      side,
      'chars/s': fmt(cps),
      'ratio to bare': (cps / base).toFixed(2),
      'final valAccuracy': valAccuracy,
    })
    out.push(
      row('bare loop, optimizer steps only', bare.trainCps, bare.trainCps),
      row('bare loop + validation pass', bare.withValidationCps, bare.trainCps),
      row('platform, epochs (incl. validation)', epochCps, bare.trainCps),
      row(
        'platform, run start to end',
        wallCps,
        bare.trainCps,
        (metrics.history.at(-1)?.valAccuracy ?? Number.NaN).toFixed(3),
      ),
      { ...row('platform epochs / bare + validation', epochCps, bare.withValidationCps), 'chars/s': '' },
      row('bare loop + validation, per CPU-second', bare.cpuCps, bare.cpuCps),
      row('platform run, per CPU-second of the trainer', runCpuCps, bare.cpuCps),
    )
    trained.push({
      architecture: plan.architecture,
      runId: id,
      text: data.text,
      hiddenLayers: [...SEQUENCE_DEFAULTS.hiddenLayers[plan.architecture]],
    })
    console.log(`${label}: done (${loadLine()})`)
  }
  printTable(out)
  return trained
}

// ---------------------------------------------------------------------------------------------------------
// (b) generate latency

/** The run's stored model, loaded in this process as a query thread loads it. */
async function loadModel(cleanups: Cleanups, databaseUrl: string, runId: string): Promise<SequenceModel> {
  const db = createDb(databaseUrl, { max: 1 })
  try {
    const { stored } = await findTrainedModel(new RunRepository(db), runId)
    const model = await loadSequence(stored)
    cleanups.add(async () => model.dispose())
    return model
  } finally {
    await closeDb(db)
  }
}

async function sectionGenerate(
  args: BenchArgs,
  url: string,
  trained: readonly Trained[],
  models: ReadonlyMap<string, SequenceModel>,
): Promise<void> {
  const tokens = args.quick ? 50 : GENERATED_TOKENS
  const rounds = args.quick ? 2 : 3
  heading(
    `(b) generate latency per token: ${tokens} tokens after a ${CONTEXT}-character prompt, temperature 1; ` +
      `over GraphQL (query thread) vs in this process; median of ${rounds} interleaved rounds`,
  )
  const out: Record<string, string>[] = []
  for (const t of trained) {
    const model = models.get(t.runId)!
    const prompt = t.text.slice(0, CONTEXT)
    const ask = async (maxTokens: number, seed: number) => {
      const started = performance.now()
      const cpu = process.cpuUsage()
      const { generate } = await gql<{ generate: { tokens: { token: string }[] } }>(
        url,
        `query($runId: ID!, $prompt: String!, $maxTokens: Int, $seed: Int) {
           generate(runId: $runId, prompt: $prompt, maxTokens: $maxTokens, seed: $seed) {
             tokens { token probability entropy alternatives { token probability } } } }`,
        { runId: t.runId, prompt, maxTokens, seed },
      )
      if (generate.tokens.length !== maxTokens) throw new Error(`generate returned ${generate.tokens.length}`)
      return { wall: ms(started), cpu: cpuMs(cpu) }
    }
    const context = Array.from(encodeCharacters(characters(prompt), model.vocabulary))
    const calls = t.architecture === SequenceArchitecture.RNN_GRU ? 10 : 50
    const perCall = () => {
      const started = performance.now()
      const used = process.cpuUsage()
      for (let i = 0; i < calls; i++) model.nextDistributions([context])
      return { wall: ms(started) / calls, cpu: cpuMs(used) / calls }
    }
    const local = (seed: number) => {
      const started = performance.now()
      const used = process.cpuUsage()
      Array.from(generateTokens(model, context, { maxTokens: tokens, temperature: 1, topK: null, seed }))
      return { wall: ms(started) / tokens, cpu: cpuMs(used) / tokens }
    }
    // The first query loads the model into the query thread's cache; the first local call warms this side.
    const first = await ask(1, 0)
    perCall()
    const one: { wall: number; cpu: number }[] = []
    const many: typeof one = []
    const base: typeof one = []
    const here: typeof one = []
    // Interleaved, so that a change of machine load hits every side alike.
    for (let r = 0; r < rounds; r++) {
      one.push(await ask(1, r + 1))
      many.push(await ask(tokens, r + 1))
      base.push(perCall())
      here.push(local(r + 1))
    }
    const wall = (v: typeof one) => median(v.map((x) => x.wall))
    const cpu = (v: typeof one) => median(v.map((x) => x.cpu))
    const baseWall = wall(base)
    const baseCpu = cpu(base)
    const label = `${t.architecture} ${t.hiddenLayers.join('-')}`
    const row = (side: string, perToken: number, perTokenCpu: number, ratios = true) => ({
      architecture: label,
      side,
      'ms/token': fmt(perToken, 2),
      'ratio to nextDistributions': ratios ? (perToken / baseWall).toFixed(2) : '',
      'CPU ms/token': fmt(perTokenCpu, 2),
      'CPU ratio': ratios ? (perTokenCpu / baseCpu).toFixed(2) : '',
    })
    out.push(
      row(`nextDistributions, 1 context (mean of ${calls} calls)`, baseWall, baseCpu),
      row('generateTokens in this process', wall(here), cpu(here)),
      row(
        `generate over GraphQL, ${tokens} tokens: total / ${tokens}`,
        wall(many) / tokens,
        cpu(many) / tokens,
      ),
      row(
        `generate over GraphQL, marginal: (${tokens} - 1 token) / ${tokens - 1}`,
        (wall(many) - wall(one)) / (tokens - 1),
        (cpu(many) - cpu(one)) / (tokens - 1),
      ),
      row('generate over GraphQL, 1 token (the fixed cost)', wall(one), cpu(one), false),
      row('first generate of the run (loads the model into the thread)', first.wall, first.cpu, false),
    )
  }
  printTable(out)
}

// ---------------------------------------------------------------------------------------------------------
// (c) explainGeneration cost

/** Each method at its defaults, then a cheaper setting of it (occlusion has none). */
const EXPLAIN_CASES: {
  method: TokenAttributionMethod
  setting: string
  settings: Partial<TokenAttributionSettings>
}[] = [
  { method: TokenAttributionMethod.OCCLUSION, setting: 'default', settings: {} },
  {
    method: TokenAttributionMethod.INTEGRATED_GRADIENTS,
    setting: 'default (16..256 points, gap 0.005)',
    settings: {},
  },
  {
    method: TokenAttributionMethod.INTEGRATED_GRADIENTS,
    setting: '4 points fixed',
    settings: { igMinSteps: 4, igMaxSteps: 4 },
  },
  { method: TokenAttributionMethod.SHAPLEY, setting: 'default (32 permutations)', settings: {} },
  { method: TokenAttributionMethod.SHAPLEY, setting: '8 permutations', settings: { shapleyPermutations: 8 } },
  { method: TokenAttributionMethod.LINEAR_SURROGATE, setting: 'default (256 masks)', settings: {} },
  {
    method: TokenAttributionMethod.LINEAR_SURROGATE,
    setting: '64 masks',
    settings: { surrogateSamples: 64 },
  },
]

function checkText(check: ReturnType<typeof explainGeneration>['checks'][number]): string {
  const parts = [`maxGap ${check.maxGap.toExponential(1)}`]
  if (check.method === TokenAttributionMethod.INTEGRATED_GRADIENTS) parts.push(`max points ${check.maxSteps}`)
  if (check.maxStdError !== null) parts.push(`maxStdError ${check.maxStdError.toFixed(3)}`)
  if (check.minFidelityR2 !== null)
    parts.push(`R^2 min ${check.minFidelityR2.toFixed(3)} mean ${check.meanFidelityR2!.toFixed(3)}`)
  return parts.join(', ')
}

function sectionExplain(trained: readonly Trained[], models: ReadonlyMap<string, SequenceModel>): void {
  heading(
    `(c) explainGeneration per method, in this process: ${EXPLAINED_CHARACTERS} generated characters after a ` +
      `${CONTEXT}-character prompt (every step has ${CONTEXT} context positions), temperature 1, seed 1`,
  )
  const out: Record<string, string>[] = []
  for (const t of trained) {
    const model = models.get(t.runId)!
    const prompt = Array.from(encodeCharacters(characters(t.text.slice(0, CONTEXT)), model.vocabulary))
    const sampling = { maxTokens: EXPLAINED_CHARACTERS, temperature: 1, topK: null, seed: 1 }
    Array.from(generateTokens(model, prompt, sampling))
    const generating = performance.now()
    const generatingCpu = process.cpuUsage()
    Array.from(generateTokens(model, prompt, sampling))
    const generationMs = ms(generating)
    const generationCpu = cpuMs(generatingCpu)
    const label = `${t.architecture} ${t.hiddenLayers.join('-')}`
    out.push({
      architecture: label,
      method: `(generating the ${EXPLAINED_CHARACTERS} characters)`,
      setting: '',
      ms: fmt(generationMs),
      evaluations: fmt(EXPLAINED_CHARACTERS),
      'ms / generation': '1.0',
      check: '',
      'call wall ms': '',
      'call CPU ms': fmt(generationCpu),
      'CPU / generation': '1.0',
    })
    for (const c of EXPLAIN_CASES) {
      const started = performance.now()
      const used = process.cpuUsage()
      const result = explainGeneration({
        model,
        prompt,
        target: null,
        maxTokens: EXPLAINED_CHARACTERS,
        temperature: 1,
        seed: 1,
        methods: [c.method],
        settings: c.settings,
      })
      const wallMs = ms(started)
      const callCpu = cpuMs(used)
      const cost = result.costs[0]!
      out.push({
        architecture: label,
        method: c.method,
        setting: c.setting,
        ms: fmt(cost.ms),
        evaluations: fmt(cost.evaluations),
        'ms / generation': (cost.ms / generationMs).toFixed(1),
        check: checkText(result.checks[0]!),
        'call wall ms': fmt(wallMs),
        'call CPU ms': fmt(callCpu),
        'CPU / generation': (callCpu / generationCpu).toFixed(1),
      })
    }
    console.log(`${label}: done (${loadLine()})`)
  }
  printTable(out)
  console.log(
    '\nms and evaluations: the method alone (explainGeneration times each method per step; the call also ' +
      'generates the characters and scores each step). Evaluations: rows through the network, a gradient row ' +
      'counting once. The call columns time the whole explainGeneration call (generation and scoring included); ' +
      'CPU: this process.',
  )
}

// ---------------------------------------------------------------------------------------------------------

async function main(cleanups: Cleanups): Promise<void> {
  requireCompiled()
  const args = parseBenchArgs()
  const backend = await selectBackend(args.backend)
  const want = (section: string) => args.only.length === 0 || args.only.includes(section)
  console.log(
    `# sequence benchmark${args.quick ? ' (--quick)' : ''}\n\n${machineLine()}\nbackend: ${backend}`,
  )
  const started = performance.now()
  const server = await startInProcessServer(cleanups, { LAB_WORKERS: '1', LAB_TF_BACKEND: backend })
  const trained = await sectionThroughput(args, backend, server)
  console.log(loadLine())
  const models = new Map<string, SequenceModel>()
  for (const t of trained) models.set(t.runId, await loadModel(cleanups, server.databaseUrl, t.runId))
  if (want('b')) {
    await sectionGenerate(args, server.url, trained, models)
    console.log(loadLine())
  }
  if (want('c')) {
    sectionExplain(trained, models)
    console.log(loadLine())
  }
  console.log(`\nsequence benchmark: ${fmt(ms(started) / 1000)} s\n${machineLine()}`)
}

runMain(main)
