/**
 * What explaining a trained model costs, per method, next to what training it cost.
 *
 * The reference network (Dense 128-64-32-16-1, ReLU, Adam, batch 32, learning rate 0.001: the defaults of
 * `startRun`) is trained in this process with `train(..., { keepPredictor: true })` on Friedman #1 (5,000 rows,
 * 10 features, noise 1, seed 42; validationSplit 0.2, so 4,000 training rows and 1,000 held-out rows), then
 * explained with `explainModel` called exactly as the worker's finisher (src/training/finisher.ts) calls it:
 * logits and input gradients of the predictor, the training rows, the held-out rows and their targets, all six
 * methods, the run's seed, the sizes the worker reads from its configuration (LAB_EXPLAIN_MAX_ROWS, default 1,000
 * held-out rows; LAB_EXPLAIN_SAMPLE_SIZE, default 200 rows for Integrated Gradients, the first 50 for Shapley),
 * every other setting at its default (EXPLAIN_DEFAULTS). Reported per method: wall time,
 * model evaluations (rows through the network, from `result.cost`), and its share of the whole run (training +
 * explanation). Backends: wasm, then cpu (only wasm with --quick; one with --backend).
 *
 * No server is involved, so it also runs under tsx (`npx tsx bench/explanations.ts`), but the figures in
 * bench/RESULTS-explanations-dashboards.md come from the compiled script, like every other benchmark:
 * `npx tsc -p tsconfig.build.json && node dist/bench/explanations.js [--quick] [--backend wasm|cpu]`.
 */
import { loadConfig } from '../src/config'
import { EXPLAIN_DEFAULTS, explainModel } from '../src/explain/explain-model'
import { ALL_METHODS, type ExplanationMethod } from '../src/explain/types'
import { DatasetGenerator } from '../src/modules/dataset/dataset.enums'
import { generate } from '../src/modules/dataset/generators'
import type { BackendName } from '../src/training/backend'
import { selectBackend } from '../src/training/backend'
import type { TrainData, TrainSpec } from '../src/models/mlp/spec'
import { train } from '../src/models/mlp/train'
import { Cleanups, fmt, heading, machineLine, parseBenchArgs, printTable, runMain } from './support'

const ROWS = 5000
const NOISE = 1
const DATA_SEED = 42
const RUN_SEED = 7

const SPEC: TrainSpec = {
  task: 'REGRESSION',
  hiddenLayers: [128, 64, 32, 16],
  activation: 'RELU',
  epochs: 10,
  batchSize: 32,
  learningRate: 0.001,
  optimizer: 'ADAM',
  validationSplit: 0.2,
  seed: RUN_SEED,
}

export interface MethodFigure {
  method: ExplanationMethod
  ms: number
  evaluations: number
}

export interface ExplanationCostResult {
  /** The backend the computation ran on (as tfjs reports it). */
  backend: string
  epochs: number
  trainRows: number
  holdoutRows: number
  trainMs: number
  trainSamplesPerSecond: number
  finalValLoss: number
  /** Validation R^2 of the trained network (1 - valMSE / Var(holdout targets)): the model explained is a fit one. */
  valR2: number
  /** explainModel's wall time as the finisher measures it (methods + sampling and bookkeeping around them). */
  explainMs: number
  methods: MethodFigure[]
}

function friedman(): { data: TrainData; featureNames: string[] } {
  const generated = generate(DatasetGenerator.FRIEDMAN1, ROWS, NOISE, DATA_SEED)
  const m = generated.featureNames.length
  const features = new Float64Array(ROWS * m)
  generated.rows.forEach((row, r) => features.set(row, r * m))
  return {
    data: { features, targets: generated.targets, rowCount: ROWS, featureCount: m },
    featureNames: generated.featureNames,
  }
}

/** Trains and explains once on `backend`; everything else is identical between backends. */
export async function measureExplanationCost(
  backend: BackendName,
  epochs: number,
): Promise<ExplanationCostResult> {
  const used = await selectBackend(backend)
  if (used !== backend) throw new Error(`backend ${backend} is not available here (got ${used})`)
  const { data, featureNames } = friedman()
  const spec: TrainSpec = { ...SPEC, epochs }

  const trainStart = performance.now()
  const result = await train(data, spec, { onEpoch: () => undefined }, { keepPredictor: true })
  const trainMs = performance.now() - trainStart
  const predictor = result.predictor
  if (!predictor) throw new Error('train() did not keep the predictor')
  try {
    // As RunFinisher.explain does it.
    const m = featureNames.length
    const row = (i: number) => data.features.subarray(i * m, (i + 1) * m)
    const trainRows = result.trainIndices.map(row)
    const evalIndices = result.holdoutIndices.length > 0 ? result.holdoutIndices : result.trainIndices
    const evalRows = evalIndices.map(row)
    const evalTargets = Float64Array.from(evalIndices, (i) => data.targets[i] as number)
    // The worker's sizes come from its configuration (LAB_EXPLAIN_MAX_ROWS, LAB_EXPLAIN_SAMPLE_SIZE).
    const { explainMaxRows, explainSampleSize } = loadConfig(process.env)
    const started = performance.now()
    const explained = await explainModel({
      predict: (rows) => predictor.logit(rows),
      gradient: (rows) => predictor.gradient(rows),
      featureNames,
      task: spec.task,
      trainRows,
      evalRows,
      evalTargets,
      methods: ALL_METHODS,
      seed: spec.seed,
      maxEvalRows: explainMaxRows,
      sampleSize: explainSampleSize,
      shapleySampleSize: Math.min(EXPLAIN_DEFAULTS.shapleySampleSize, explainSampleSize),
    })
    const explainMs = performance.now() - started

    const last = result.history.at(-1)
    const finalValLoss = last?.valLoss ?? Number.NaN
    const mean = evalTargets.reduce((s, v) => s + v, 0) / evalTargets.length
    const variance = evalTargets.reduce((s, v) => s + (v - mean) ** 2, 0) / evalTargets.length
    return {
      backend: result.backend,
      epochs,
      trainRows: trainRows.length,
      holdoutRows: evalRows.length,
      trainMs,
      trainSamplesPerSecond: result.samplesPerSecond,
      finalValLoss,
      valR2: 1 - finalValLoss / variance,
      explainMs,
      methods: explained.methods.map((method) => ({
        method,
        ms: explained.cost[method]?.ms ?? Number.NaN,
        evaluations: explained.cost[method]?.evaluations ?? Number.NaN,
      })),
    }
  } finally {
    predictor.dispose()
  }
}

export function printExplanationCost(r: ExplanationCostResult): void {
  const runMs = r.trainMs + r.explainMs
  const share = (ms: number) => `${fmt((100 * ms) / runMs, 1)} %`
  const methodsMs = r.methods.reduce((s, f) => s + f.ms, 0)
  const evaluations = r.methods.reduce((s, f) => s + f.evaluations, 0)
  console.log(
    `backend ${r.backend} | ${r.epochs} epochs on ${fmt(r.trainRows)} rows | ` +
      `${fmt(r.trainSamplesPerSecond)} samples/s | final val MSE ${fmt(r.finalValLoss, 3)} ` +
      `(val R^2 ${fmt(r.valR2, 3)}) | ${fmt(r.holdoutRows)} held-out rows explained\n`,
  )
  printTable([
    ...r.methods.map((f) => ({
      step: f.method,
      ms: fmt(f.ms),
      'model evaluations': fmt(f.evaluations),
      'us / evaluation': f.evaluations > 0 ? fmt((1000 * f.ms) / f.evaluations, 1) : '-',
      'share of run': share(f.ms),
    })),
    {
      step: 'explanation (all six, explainModel wall time)',
      ms: fmt(r.explainMs),
      'model evaluations': fmt(evaluations),
      'us / evaluation': fmt((1000 * methodsMs) / evaluations, 1),
      'share of run': share(r.explainMs),
    },
    {
      step: `training (${r.epochs} epochs, train() wall time)`,
      ms: fmt(r.trainMs),
      'model evaluations': '-',
      'us / evaluation': '-',
      'share of run': share(r.trainMs),
    },
    {
      step: 'run total (training + explanation)',
      ms: fmt(runMs),
      'model evaluations': '-',
      'us / evaluation': '-',
      'share of run': '100.0 %',
    },
  ])
  console.log(
    `\nexplanation / training: ${fmt(r.explainMs / r.trainMs, 2)}x` +
      ` | outside the six methods (sampling, bookkeeping): ${fmt(r.explainMs - methodsMs)} ms`,
  )
}

export interface ExplanationBenchOptions {
  quick: boolean
  /** One backend only; default wasm and cpu (wasm only with `quick`). */
  backend?: BackendName
}

/** The whole benchmark, printed; returns the figures of each backend. */
export async function main(opts: ExplanationBenchOptions): Promise<ExplanationCostResult[]> {
  const epochs = opts.quick ? 2 : SPEC.epochs
  const backends: BackendName[] = opts.backend ? [opts.backend] : opts.quick ? ['wasm'] : ['wasm', 'cpu']
  console.log(`# explanation cost benchmark${opts.quick ? ' (--quick)' : ''}\n\n${machineLine()}`)
  const { explainMaxRows, explainSampleSize } = loadConfig(process.env)
  console.log(
    `Friedman #1, ${fmt(ROWS)} rows (noise ${NOISE}, seed ${DATA_SEED}), network ` +
      `${SPEC.hiddenLayers.join('-')}-1 ${SPEC.activation}, run seed ${RUN_SEED}; explanation sizes: ` +
      `${explainMaxRows} eval rows, IG on ${explainSampleSize} rows, exact Shapley on ` +
      `${Math.min(EXPLAIN_DEFAULTS.shapleySampleSize, explainSampleSize)} rows x ` +
      `${EXPLAIN_DEFAULTS.backgroundSize} background rows`,
  )
  const results: ExplanationCostResult[] = []
  for (const backend of backends) {
    heading(`backend ${backend}`)
    const r = await measureExplanationCost(backend, epochs)
    printExplanationCost(r)
    results.push(r)
  }
  console.log(`\n${machineLine()}`)
  return results
}

if (require.main === module) {
  runMain(async (_cleanups: Cleanups) => {
    const args = parseBenchArgs()
    await main({ quick: args.quick, ...(args.backend ? { backend: args.backend } : {}) })
  })
}
