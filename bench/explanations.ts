/**
 * What explaining a trained model costs, per method, next to what training it cost - and the error each
 * estimate reached, so a cheaper setting that is less exact shows as such (issue #12).
 *
 * The reference run of #12: a default `startRun` on FRIEDMAN1 with 2,000 rows and 20 epochs (the reference
 * network Dense 128-64-32-16-1, ReLU, Adam, batch 32, learning rate 0.001, validationSplit 0.2: 1,600 training
 * rows and 400 held-out rows; noise 1, data seed 42, run seed 7), trained in this process with
 * `train(..., { keepPredictor: true })`, then explained with `explainModel` called exactly as the worker's
 * finisher (src/models/mlp/explain.ts) calls it: logits and input gradients of the predictor, the training rows,
 * the held-out rows and their targets, all six methods, the run's seed, the sizes the worker reads from its
 * configuration (LAB_EXPLAIN_MAX_ROWS, LAB_EXPLAIN_SAMPLE_SIZE), every other setting at its default
 * (EXPLAIN_DEFAULTS). Reported per method: wall time, model evaluations (rows through the network, from
 * `result.cost`), share of the run and the error reached (the explanation's checks); the ratio explanation /
 * training; then, in the same process, the same explanation with the settings before #12 (exact Shapley, 50
 * Gauss-Legendre points, the surrogate's 60 epochs of batch 64); IG's completeness gap relative to
 * |f(x) - f(x')| on the held-out rows where that is >= 1 (median, max, steps, and single-feature errors
 * against a near-exact path integral) for the old fixed rule and the adaptive default; and sampled Shapley
 * against exact enumeration on the same 50 rows (z-scores of the differences in reported standard errors).
 * Backends: wasm, then cpu (only wasm with --quick; one with --backend).
 *
 * No server is involved, so it also runs under tsx (`npx tsx bench/explanations.ts`); the figures in
 * bench/README.md come from the compiled script, like every other benchmark:
 * `npx tsc -p tsconfig.build.json && node dist/bench/explanations.js [--quick] [--backend wasm|cpu]`.
 */
import { loadConfig } from '../src/config'
import {
  EXPLAIN_DEFAULTS,
  explainModel,
  selectBackground,
  type ExplainModelOptions,
  type ExplainModelResult,
} from '../src/explain/explain-model'
import { integratedGradients, type IntegratedGradientsResult } from '../src/explain/integrated-gradients'
import { EvaluationCounter } from '../src/explain/model'
import { shapleyValues } from '../src/explain/shapley'
import { columnMeans } from '../src/explain/stats'
import { ALL_METHODS, type ExplanationMethod, type MethodCheck } from '../src/explain/types'
import { DatasetGenerator } from '../src/modules/dataset/dataset.enums'
import { generate } from '../src/modules/dataset/generators'
import type { BackendName } from '../src/training/backend'
import { selectBackend } from '../src/training/backend'
import type { TrainData, TrainSpec } from '../src/models/mlp/spec'
import { mlpSampleSizes } from '../src/models/mlp/explain'
import { train } from '../src/models/mlp/train'
import { Cleanups, fmt, heading, machineLine, median, parseBenchArgs, printTable, runMain } from './support'

const ROWS = 2000
const NOISE = 1
const DATA_SEED = 42
const RUN_SEED = 7

const SPEC: TrainSpec = {
  task: 'REGRESSION',
  hiddenLayers: [128, 64, 32, 16],
  activation: 'RELU',
  epochs: 20,
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
  /** The error it reached, as the explanation reports it (IG and Shapley only). */
  check: MethodCheck | null
}

/** Integrated Gradients with one rule on the held-out rows whose |f(x) - f(x')| >= 1. */
export interface IgRuleFigure {
  rule: string
  ms: number
  evaluations: number
  /** Rows with |f(x) - f(x')| >= 1 (of all held-out rows). */
  rows: number
  medianRelativeGap: number
  maxRelativeGap: number
  /** Largest |IG_i - reference IG_i| / |f(x) - f(x')|: single-feature error against a near-exact path integral. */
  maxFeatureError: number
  medianSteps: number
  maxSteps: number
}

/** Sampled Shapley (the default) against exact enumeration on the same rows and background. */
export interface ShapleyAccuracyFigure {
  rows: number
  sampledMs: number
  sampledEvaluations: number
  exactMs: number
  exactEvaluations: number
  /** Largest |phi_sampled - phi_exact| / (the row's reported standard error), over rows and features. */
  maxZ: number
  /** Share of (row, feature) values within 2 and 3 reported standard errors of exact. */
  within2: number
  within3: number
  /** Largest |phi_sampled - phi_exact| / sd_bg(f), and the largest reported standard error on that scale. */
  maxError: number
  maxStdError: number
  /** Mean |phi| ranking: largest difference sampled vs exact, relative to the largest importance. */
  importanceError: number
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
  /** The same default explanation again in the same process: what a trainer's later runs pay. */
  warmExplainMs: number
  warmMethods: MethodFigure[]
  methods: MethodFigure[]
  /** Held-out fidelity of the surrogate network and the epochs it trained (early stopping). */
  surrogateR2: number
  surrogateEpochs: number
  /** The same explanation with the settings before #12, in the same process. */
  before: { explainMs: number; methods: MethodFigure[]; surrogateR2: number }
  ig: { rules: IgRuleFigure[]; referenceGap: number }
  shapley: ShapleyAccuracyFigure
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
    const explainAsWorker = async (settings: Partial<ExplainModelOptions>) => {
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
        ...mlpSampleSizes({ maxEvalRows: explainMaxRows, sampleSize: explainSampleSize }),
        ...settings,
      })
      return { explained, ms: performance.now() - started }
    }
    // A worker that has explained a run before has the input-gradient kernels warm; the first call in a process
    // costs about a second more on wasm (measured: IG 1.4 s cold against 0.5 s warm for the same rows).
    predictor.gradient([evalRows[0] as Float64Array])
    const { explained, ms: explainMs } = await explainAsWorker({})
    const warm = await explainAsWorker({})
    const before = await explainAsWorker(SETTINGS_BEFORE_12)
    const model = {
      predict: (rows: readonly Float64Array[]) => predictor.logit(rows),
      gradient: (rows: readonly Float64Array[]) => predictor.gradient(rows),
    }
    const ig = measureIntegratedGradients(model, trainRows, evalRows.slice(0, IG_ROWS))
    const shapley = measureShapleyAccuracy(model, trainRows, evalRows, spec.seed ?? 0)

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
      warmExplainMs: warm.ms,
      warmMethods: methodFigures(warm.explained),
      methods: methodFigures(explained),
      surrogateR2: explained.surrogateNetwork?.fidelityR2 ?? Number.NaN,
      surrogateEpochs: explained.surrogateNetwork?.epochs ?? Number.NaN,
      before: {
        explainMs: before.ms,
        methods: methodFigures(before.explained),
        surrogateR2: before.explained.surrogateNetwork?.fidelityR2 ?? Number.NaN,
      },
      ig,
      shapley,
    }
  } finally {
    predictor.dispose()
  }
}

/** The settings explainModel had before #12, for the same-run comparison. */
const SETTINGS_BEFORE_12: Partial<ExplainModelOptions> = {
  exactShapley: true,
  igSteps: 50,
  sampleSize: 200,
  partialDependenceRows: 1000,
  surrogateNetwork: { epochs: 60, batchSize: 64, learningRate: 0.01, patience: 60 },
}

function methodFigures(explained: ExplainModelResult): MethodFigure[] {
  return explained.methods.map((method) => ({
    method,
    ms: explained.cost[method]?.ms ?? Number.NaN,
    evaluations: explained.cost[method]?.evaluations ?? Number.NaN,
    check: explained.checks.find((c) => c.method === method) ?? null,
  }))
}

interface BenchModel {
  predict: (rows: readonly Float64Array[]) => Float64Array
  gradient: (rows: readonly Float64Array[]) => Float64Array[]
}

/**
 * IG from the training mean on the first `IG_ROWS` held-out rows, with the old fixed rule (50 Gauss-Legendre
 * points), the adaptive default and a near-exact reference (adaptive to 1e-5, up to 4,096 points; its own
 * largest relative gap is printed), which the other two's single-feature errors are measured against.
 * Statistics over rows with |f(x) - f(x')| >= 1 (#12's rows).
 */
const IG_ROWS = 200

function measureIntegratedGradients(
  model: BenchModel,
  trainRows: readonly Float64Array[],
  rows: readonly Float64Array[],
): { rules: IgRuleFigure[]; referenceGap: number } {
  const baseline = columnMeans(trainRows, (trainRows[0] as Float64Array).length)
  const run = (adaptive: { tolerance: number; maxSteps: number } | undefined) => {
    const counter = new EvaluationCounter(model.predict, model.gradient)
    const t0 = performance.now()
    const result = integratedGradients({
      predict: counter.predict,
      gradient: counter.gradient,
      rows,
      baseline,
      ...(adaptive ? { adaptive } : {}),
    })
    return { result, ms: performance.now() - t0, evaluations: counter.evaluations }
  }
  const reference = run({ tolerance: 1e-5, maxSteps: 4096 }).result
  const referenceGap = Math.max(
    ...reference.gaps.map(
      (g, i) =>
        g / Math.max(1, Math.abs((reference.predictions[i] as number) - reference.baselinePrediction)),
    ),
  )
  const figure = (
    rule: string,
    r: { result: IntegratedGradientsResult; ms: number; evaluations: number },
  ): IgRuleFigure => {
    const gaps: number[] = []
    const steps: number[] = []
    let maxFeatureError = 0
    r.result.attributions.forEach((a, i) => {
      const delta = Math.abs((r.result.predictions[i] as number) - r.result.baselinePrediction)
      if (delta < 1) return
      gaps.push((r.result.gaps[i] as number) / delta)
      steps.push(r.result.steps[i] as number)
      const exact = reference.attributions[i] as Float64Array
      for (let j = 0; j < a.length; j++) {
        maxFeatureError = Math.max(maxFeatureError, Math.abs((a[j] as number) - (exact[j] as number)) / delta)
      }
    })
    return {
      rule,
      ms: r.ms,
      evaluations: r.evaluations,
      rows: gaps.length,
      medianRelativeGap: median(gaps),
      maxRelativeGap: Math.max(...gaps),
      maxFeatureError,
      medianSteps: median(steps),
      maxSteps: Math.max(...steps),
    }
  }
  const rules = [
    figure('Gauss-Legendre, 50 points (before)', run(undefined)),
    figure(
      `adaptive, tolerance ${EXPLAIN_DEFAULTS.igTolerance} (default)`,
      run({ tolerance: EXPLAIN_DEFAULTS.igTolerance, maxSteps: EXPLAIN_DEFAULTS.igMaxSteps }),
    ),
  ]
  return { rules, referenceGap }
}

/** The default sampled Shapley values against exact enumeration: same rows, background and seed as explainModel's. */
function measureShapleyAccuracy(
  model: BenchModel,
  trainRows: readonly Float64Array[],
  evalRows: readonly Float64Array[],
  seed: number,
): ShapleyAccuracyFigure {
  const background = selectBackground(trainRows, EXPLAIN_DEFAULTS.backgroundSize, seed)
  const rows = evalRows.slice(0, EXPLAIN_DEFAULTS.shapleySampleSize)
  const run = (sampled: boolean) => {
    const counter = new EvaluationCounter(model.predict)
    const t0 = performance.now()
    const result = shapleyValues({
      predict: counter.predict,
      rows,
      background,
      seed,
      ...(sampled
        ? {
            sampling: {
              tolerance: EXPLAIN_DEFAULTS.shapleyTolerance,
              minRounds: EXPLAIN_DEFAULTS.shapleyMinRounds,
              maxRounds: EXPLAIN_DEFAULTS.shapleyMaxRounds,
            },
          }
        : {}),
    })
    return { result, ms: performance.now() - t0, evaluations: counter.evaluations }
  }
  const exact = run(false)
  const sampled = run(true)
  const bgValues = model.predict(background)
  const bgMean = bgValues.reduce((s, v) => s + v, 0) / bgValues.length
  const scale = Math.sqrt(bgValues.reduce((s, v) => s + (v - bgMean) ** 2, 0) / bgValues.length)
  let maxZ = 0
  let maxError = 0
  let within2 = 0
  let within3 = 0
  let count = 0
  const m = (background[0] as Float64Array).length
  const importance = (values: Float64Array[]) =>
    Array.from(
      { length: m },
      (_, j) => values.reduce((s, v) => s + Math.abs(v[j] as number), 0) / values.length,
    )
  sampled.result.values.forEach((phi, i) => {
    const se = sampled.result.stdErrors?.[i] as number
    const truth = exact.result.values[i] as Float64Array
    for (let j = 0; j < m; j++) {
      const error = Math.abs((phi[j] as number) - (truth[j] as number))
      maxError = Math.max(maxError, error / scale)
      const z = se > 0 ? error / se : error > 0 ? Number.POSITIVE_INFINITY : 0
      maxZ = Math.max(maxZ, z)
      if (z <= 2) within2++
      if (z <= 3) within3++
      count++
    }
  })
  const exactImportance = importance(exact.result.values)
  const sampledImportance = importance(sampled.result.values)
  const top = Math.max(...exactImportance)
  return {
    rows: rows.length,
    sampledMs: sampled.ms,
    sampledEvaluations: sampled.evaluations,
    exactMs: exact.ms,
    exactEvaluations: exact.evaluations,
    maxZ,
    within2: within2 / count,
    within3: within3 / count,
    maxError,
    maxStdError: Math.max(...(sampled.result.stdErrors ?? [])) / scale,
    importanceError:
      Math.max(...exactImportance.map((v, j) => Math.abs(v - (sampledImportance[j] as number)))) / top,
  }
}

const percent = (v: number, digits = 2) => `${fmt(100 * v, digits)} %`

/** What each method's check says it reached (IG: completeness gap and steps; Shapley: standard error). */
function reachedOf(check: MethodCheck | null): string {
  if (check === null) return '-'
  const parts = [`max gap ${check.maxGap.toExponential(1)}`]
  if (check.maxStdError !== null && check.maxStdError !== undefined)
    parts.push(`max SE ${fmt(check.maxStdError, 4)}`)
  if (check.meanSteps !== null && check.meanSteps !== undefined)
    parts.push(`steps mean ${fmt(check.meanSteps, 1)} / max ${check.maxSteps}`)
  return parts.join(', ')
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
      'error reached': reachedOf(f.check),
    })),
    {
      step: 'explanation (all six, explainModel wall time)',
      ms: fmt(r.explainMs),
      'model evaluations': fmt(evaluations),
      'us / evaluation': fmt((1000 * methodsMs) / evaluations, 1),
      'share of run': share(r.explainMs),
      'error reached': '',
    },
    {
      step: `training (${r.epochs} epochs, train() wall time)`,
      ms: fmt(r.trainMs),
      'model evaluations': '-',
      'us / evaluation': '-',
      'share of run': share(r.trainMs),
      'error reached': '',
    },
    {
      step: 'run total (training + explanation)',
      ms: fmt(runMs),
      'model evaluations': '-',
      'us / evaluation': '-',
      'share of run': '100.0 %',
      'error reached': '',
    },
  ])
  console.log(
    `\nexplanation / training: ${fmt(r.explainMs / r.trainMs, 2)}x` +
      ` (target <= 0.25: ${r.explainMs / r.trainMs <= 0.25 ? 'met' : 'NOT met'})` +
      ` | outside the six methods (sampling, bookkeeping): ${fmt(r.explainMs - methodsMs)} ms` +
      `\nthe same explanation again in this process (a trainer's later runs): ${fmt(r.warmExplainMs)} ms, ` +
      `${fmt(r.warmExplainMs / r.trainMs, 2)}x training (` +
      r.warmMethods.map((m) => `${m.method} ${fmt(m.ms)}`).join(', ') +
      ')',
  )
  console.log(
    `surrogate network: held-out R^2 ${fmt(r.surrogateR2, 4)} after ${r.surrogateEpochs} epochs ` +
      `(before #12: ${fmt(r.before.surrogateR2, 4)} after 60 epochs of batch 64)`,
  )
  console.log(
    '\nThe same explanation with the settings before #12 (exact Shapley, 50 GL points, surrogate 60 x 64), same process:\n',
  )
  printTable(
    r.before.methods.map((b) => {
      const now = r.methods.find((f) => f.method === b.method) as MethodFigure
      return {
        method: b.method,
        'ms before': fmt(b.ms),
        'ms now': fmt(now.ms),
        'evaluations before': fmt(b.evaluations),
        'evaluations now': fmt(now.evaluations),
        'error reached before': reachedOf(b.check),
      }
    }),
  )
  console.log(
    `explanation before / training: ${fmt(r.before.explainMs / r.trainMs, 2)}x; now / before: ` +
      `${fmt(r.explainMs / r.before.explainMs, 3)}x`,
  )
  console.log("\nIntegrated Gradients from the training mean, held-out rows with |f(x) - f(x')| >= 1:\n")
  printTable(
    r.ig.rules.map((g) => ({
      rule: g.rule,
      rows: g.rows,
      ms: fmt(g.ms),
      evaluations: fmt(g.evaluations),
      'gap / |df| median': percent(g.medianRelativeGap, 3),
      'gap / |df| max': percent(g.maxRelativeGap, 3),
      'max feature error / |df|': percent(g.maxFeatureError, 3),
      'steps median / max': `${g.medianSteps} / ${g.maxSteps}`,
    })),
  )
  const adaptive = r.ig.rules[r.ig.rules.length - 1] as IgRuleFigure
  const igMet = adaptive.medianRelativeGap <= 0.002 && adaptive.maxRelativeGap <= 0.01
  console.log(
    `IG target (median <= 0.2 %, max <= 1 %): ${igMet ? 'met' : 'NOT met'} | the reference's own largest ` +
      `gap / max(|df|, 1): ${percent(r.ig.referenceGap, 4)}`,
  )
  const s = r.shapley
  console.log(
    `\nShapley, sampled (default) vs exact enumeration, ${s.rows} rows x ${EXPLAIN_DEFAULTS.backgroundSize} background rows:\n`,
  )
  printTable([
    { estimate: 'exact enumeration', ms: fmt(s.exactMs), evaluations: fmt(s.exactEvaluations) },
    { estimate: 'sampled permutations', ms: fmt(s.sampledMs), evaluations: fmt(s.sampledEvaluations) },
  ])
  console.log(
    `sampled vs exact: ${percent(s.within2, 1)} of values within 2 reported SE, ${percent(s.within3, 1)} within 3, ` +
      `max ${fmt(s.maxZ, 2)} SE; max error ${percent(s.maxError)} of sd_bg(f) (max reported SE ${percent(s.maxStdError)}); ` +
      `mean |phi| ranking off by at most ${percent(s.importanceError)} of the top importance`,
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
  const rows = mlpSampleSizes({ maxEvalRows: explainMaxRows, sampleSize: explainSampleSize })
  console.log(
    `Friedman #1, ${fmt(ROWS)} rows (noise ${NOISE}, seed ${DATA_SEED}), network ` +
      `${SPEC.hiddenLayers.join('-')}-1 ${SPEC.activation}, run seed ${RUN_SEED}; explanation sizes: ` +
      `${explainMaxRows} eval rows, IG on ${rows.sampleSize} rows, ` +
      `partial dependence on ${EXPLAIN_DEFAULTS.partialDependenceRows} rows, Shapley on ` +
      `${rows.shapleySampleSize} rows x ` +
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
