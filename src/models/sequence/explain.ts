/**
 * The global explanation of a trained text generator, computed by the worker after training: how far back it
 * looks (the distance profile of every token attribution method over held-out windows), how much of it simple
 * readable models reproduce (next-character surrogates and their fidelity), and what it writes (samples from
 * held-out prompts). Held-out windows come from the run's own validation split, whose contiguous blocks no
 * training window reads; a run that held none out is explained on training windows instead.
 */
import {
  attributeSteps,
  TOKEN_METHODS,
  TokenAttributionMethod,
  type TokenAttributionSettings,
} from '../../explain/token-attribution'
import { ExplanationMethod, type MethodCosts } from '../../explain/types'
import { tokenOf } from '../../modules/dataset/text'
import { seededRandom, shuffledRange, yieldToEventLoop } from '../common/random'
import type { AttributableTextModel, ExplainSizes, FamilyExplanation } from '../family'
import { stepScorersOf } from './explain-generation'
import { drawSymbol, entropy, samplingDistribution } from './sampling'
import type { Segment } from './spec'
import { fitNgram, fitSoftmaxLinear, type NextCharacterSurrogate, type SoftLabels } from './surrogate'

/** The methods that apply to a text generator, in canonical order. */
export const SEQUENCE_METHODS: readonly ExplanationMethod[] = Object.freeze([
  ExplanationMethod.DISTANCE_PROFILE,
  ExplanationMethod.NEXT_CHARACTER_SURROGATE,
  ExplanationMethod.GENERATED_SAMPLES,
])

/** Sizes chosen so the explanation stays well under half of a small run's training time (docs/architecture.md). */
export const SEQUENCE_EXPLAIN_DEFAULTS = Object.freeze({
  /**
   * Held-out windows whose target is attributed by every token method: rounds of `profileRound` until every
   * method's peak stands `profileSeparation` standard errors above the next distance, at most `profileWindows`.
   */
  profileWindows: 48,
  profileRound: 24,
  profileSeparation: 3,
  /**
   * Cheaper than explainGeneration's defaults (a profile averages many windows, so each may be rougher): one
   * 16-point IG rule, whose completeness gap the profile reports; exact Shapley up to 6 positions.
   */
  attribution: Object.freeze({
    igMinSteps: 16,
    igMaxSteps: 16,
    shapleyExactMaxPositions: 6,
    shapleyPermutations: 8,
    surrogateSamples: 64,
  }) as Readonly<Partial<TokenAttributionSettings>>,
  /** Training windows the surrogates are fitted on, and held-out windows their fidelity is measured on. */
  surrogateFitWindows: 2048,
  surrogateEvaluationWindows: 1024,
  softmaxEpochs: 8,
  softmaxBatchSize: 256,
  softmaxLearningRate: 0.1,
  softmaxL2: 1e-4,
  /** The softmax-linear surrogate reads at most the last positions that keep its weights under this count. */
  softmaxMaxWeights: 4_000_000,
  ngramOrders: [1, 2, 3] as readonly number[],
  /** Held-out prompts, each continued greedily and by sampling at temperature 1. */
  samplePrompts: 3,
  sampleTokens: 32,
})

/** GraphQL `DistanceProfile`: one token attribution method over the profile's windows. */
export interface DistanceProfile {
  method: TokenAttributionMethod
  /** 1 .. contextLength: d = 1 is the character just before the predicted one. */
  distances: number[]
  /** Mean |a| at each distance, over the windows whose context reaches it. */
  meanAbsAttribution: number[]
  /** The distance of the largest mean |a|. */
  peakDistance: number
  /**
   * (mean |a| at the peak - the next largest) / the standard error of that difference over the windows: how
   * clearly the profile has its peak; the profile stops adding windows once it reaches profileSeparation. Null
   * when the windows give no spread to measure it by (fewer than 2 at a distance, or all alike).
   */
  peakSeparation: number | null
  /** Share of windows whose own largest |a| is at peakDistance. */
  peakShare: number
  windows: number
  /** |sum_s a_s - (log p(y | ctx) - log p(y | baseline))| over the windows. */
  meanGap: number
  maxGap: number
  ms: number
  evaluations: number
}

/** GraphQL `TextSample`. */
export interface TextSample {
  prompt: string
  text: string
  /** What followed the prompt in the held-out text. */
  reference: string
  /** 0: greedy. */
  temperature: number
  seed: number
  /** Mean probability the model gave each generated character (temperature 1). */
  meanProbability: number
  /** Mean entropy of the next-character distributions, nats. */
  meanEntropy: number
}

export interface SequenceExplainInput {
  model: AttributableTextModel
  /** The corpus as symbol ids. */
  ids: Int32Array
  train: readonly Segment[]
  holdout: readonly Segment[]
  methods: readonly ExplanationMethod[]
  sizes: ExplainSizes
  seed: number
  /** Checked between windows, surrogate epochs and samples. */
  signal?: AbortSignal
}

export async function explainSequence(input: SequenceExplainInput): Promise<FamilyExplanation> {
  const started = performance.now()
  const { model, ids, seed, sizes, signal } = input
  const D = SEQUENCE_EXPLAIN_DEFAULTS
  const L = model.contextLength
  const heldOut = input.holdout.some((g) => g.end - g.start > 1)
  const evalPool = heldOut ? input.holdout : input.train
  const evalCount = Math.min(D.surrogateEvaluationWindows, sizes.maxEvalRows)
  // Without a holdout the fitting windows come after the evaluation ones in the same order: still disjoint.
  const evalOrder = windowsOf(
    evalPool,
    L,
    heldOut ? evalCount : evalCount + D.surrogateFitWindows,
    seed,
    'eval',
  )
  const evalWindows = evalOrder.slice(0, evalCount)
  const fitWindows = heldOut
    ? windowsOf(input.train, L, D.surrogateFitWindows, seed, 'fit')
    : evalOrder.slice(evalCount)
  const context = (w: Window) => Array.from(ids.subarray(Math.max(w.start, w.target - L), w.target))
  const cost: MethodCosts = {}
  const result: Record<string, unknown> = {
    linearSurrogate: null,
    surrogateNetwork: null,
    featureImportance: [],
    partialDependence: [],
    checks: [],
    distanceProfile: null,
    nextCharacterSurrogates: null,
    textSamples: null,
    evaluationRows: evalWindows.length,
  }
  const timed = async <T>(
    method: ExplanationMethod,
    work: () => Promise<{ value: T; evaluations: number }>,
  ) => {
    signal?.throwIfAborted()
    const t0 = performance.now()
    const { value, evaluations } = await work()
    cost[method] = { ms: performance.now() - t0, evaluations }
    await yieldToEventLoop()
    return value
  }

  for (const method of SEQUENCE_METHODS.filter((m) => input.methods.includes(m))) {
    switch (method) {
      case ExplanationMethod.DISTANCE_PROFILE:
        result['distanceProfile'] = await timed(method, async () => {
          const windows = evalWindows.slice(0, Math.min(D.profileWindows, sizes.sampleSize))
          const profiles = await distanceProfiles(
            model,
            windows.map(context),
            windows.map((w) => ids[w.target]!),
            seed,
            signal,
          )
          return { value: profiles, evaluations: profiles.reduce((n, p) => n + p.evaluations, 0) }
        })
        break
      case ExplanationMethod.NEXT_CHARACTER_SURROGATE:
        result['nextCharacterSurrogates'] = await timed(method, async () => {
          const labels = (windows: Window[]): SoftLabels => {
            const contexts = windows.map(context)
            return { contexts, distributions: model.nextDistributions(contexts) }
          }
          const fit = labels(fitWindows)
          const evaluation = labels(evalWindows)
          const surrogates = await nextCharacterSurrogates(model, fit, evaluation, seed, signal)
          return { value: surrogates, evaluations: fitWindows.length + evalWindows.length }
        })
        break
      case ExplanationMethod.GENERATED_SAMPLES:
        result['textSamples'] = await timed(method, async () => {
          const samples = await textSamples(model, ids, evalPool, seed, signal)
          return { value: samples, evaluations: samples.length * D.sampleTokens }
        })
        break
      default:
        break
    }
  }
  const computed = SEQUENCE_METHODS.filter((m) => cost[m] !== undefined)
  result['methods'] = computed
  return { methods: computed, result, computeMs: performance.now() - started, cost }
}

/** A prediction target and the start of its segment (its context never reaches before it). */
interface Window {
  target: number
  start: number
}

/**
 * Up to `count` windows of some segments in a seeded random order (a prefix is a random sample), each with a
 * full context when the segments have any such window, else any window with at least one context character.
 */
function windowsOf(
  segments: readonly Segment[],
  L: number,
  count: number,
  seed: number,
  purpose: string,
): Window[] {
  const full = segments.some((g) => g.end - g.start > L)
  const first = (g: Segment) => g.start + (full ? L : 1)
  const sizes = segments.map((g) => Math.max(0, g.end - first(g)))
  const total = sizes.reduce((a, b) => a + b, 0)
  const at = (k: number): Window => {
    for (let i = 0; i < segments.length; i++) {
      if (k < sizes[i]!) return { target: first(segments[i]!) + k, start: segments[i]!.start }
      k -= sizes[i]!
    }
    throw new RangeError('window index out of range')
  }
  const random = seededRandom(seed, `sequence-explain/${purpose}`)
  if (count >= total / 2) return Array.from(shuffledRange(total, random).subarray(0, count), at)
  // A sparse sample of a long corpus: draw without replacement, no list of every window.
  const picked = new Set<number>()
  while (picked.size < count) picked.add(Math.floor(random() * total))
  return [...picked].map(at)
}

/** Per method, what the windows attributed so far add up to, per distance. */
interface ProfileAccumulator {
  sums: Float64Array
  squares: Float64Array
  counts: Float64Array
  peaks: number[]
  gaps: number[]
  ms: number
  evaluations: number
}

/**
 * Every token attribution method on each window's log p(target | context), |a| binned by distance. Windows are
 * attributed in rounds (each round's windows together: their full and empty contexts in one call, and each
 * method's rounds in one call for every window - on a GRU the cost is per call, not per row) until every
 * method's peak is clear (see {@link peakSeparation}) or the windows run out.
 */
export async function distanceProfiles(
  model: AttributableTextModel,
  contexts: number[][],
  targets: number[],
  seed: number,
  signal?: AbortSignal,
): Promise<DistanceProfile[]> {
  const D = SEQUENCE_EXPLAIN_DEFAULTS
  const L = model.contextLength
  const acc = new Map<TokenAttributionMethod, ProfileAccumulator>(
    TOKEN_METHODS.map((m) => [
      m,
      {
        sums: new Float64Array(L + 1),
        squares: new Float64Array(L + 1),
        counts: new Float64Array(L + 1),
        peaks: [],
        gaps: [],
        ms: 0,
        evaluations: 0,
      },
    ]),
  )
  let done = 0
  let elapsed = 0
  while (done < contexts.length) {
    signal?.throwIfAborted()
    const end = Math.min(contexts.length, done + D.profileRound)
    const started = performance.now()
    const steps = attributeSteps(
      stepScorersOf(
        model,
        contexts.slice(done, end).map((context, k) => ({ context, target: targets[done + k]! })),
      ),
      TOKEN_METHODS,
      contexts.slice(done, end).map((_, k) => `${seed}:profile:${done + k}`),
      D.attribution,
    )
    elapsed += performance.now() - started
    steps.forEach((step, k) => addWindow(acc, step.byMethod, contexts[done + k]!.length))
    done = end
    await yieldToEventLoop()
    const clear = (m: ProfileAccumulator) =>
      (peakSeparation(meanProfile(m, L), m, L) ?? 0) >= D.profileSeparation
    if ([...acc.values()].every(clear)) break
  }
  const distances = Array.from({ length: L }, (_, k) => k + 1)
  // The full and the empty context of each window, scored once for all methods, are counted (rows and time)
  // with the first method.
  const first = acc.get(TOKEN_METHODS[0]!)!
  first.evaluations += 2 * done
  first.ms += elapsed - TOKEN_METHODS.reduce((sum, method) => sum + acc.get(method)!.ms, 0)
  return TOKEN_METHODS.map((method) => {
    const m = acc.get(method)!
    const meanAbsAttribution = meanProfile(m, L)
    const peakDistance = 1 + argMax(meanAbsAttribution)
    return {
      method,
      distances,
      meanAbsAttribution,
      peakDistance,
      peakSeparation: peakSeparation(meanAbsAttribution, m, L),
      peakShare: done > 0 ? m.peaks.filter((p) => p === peakDistance).length / done : 0,
      windows: done,
      meanGap: done > 0 ? m.gaps.reduce((a, b) => a + b, 0) / done : 0,
      maxGap: m.gaps.reduce((a, b) => Math.max(a, b), 0),
      ms: m.ms,
      evaluations: m.evaluations,
    }
  })
}

function addWindow(
  acc: Map<TokenAttributionMethod, ProfileAccumulator>,
  byMethod: Map<
    TokenAttributionMethod,
    { values: ArrayLike<number>; gap: number; ms: number; evaluations: number }
  >,
  n: number,
): void {
  for (const [method, m] of acc) {
    const a = byMethod.get(method)!
    m.ms += a.ms
    m.evaluations += a.evaluations
    m.gaps.push(a.gap)
    let peak = 1
    let largest = -1
    for (let j = 0; j < a.values.length; j++) {
      const v = Math.abs(a.values[j]!)
      const d = n - j
      m.sums[d] = m.sums[d]! + v
      m.squares[d] = m.squares[d]! + v * v
      m.counts[d] = m.counts[d]! + 1
      if (v > largest) [largest, peak] = [v, d]
    }
    m.peaks.push(peak)
  }
}

/** Mean |a| at distances 1..L (0 where no window's context reaches). */
function meanProfile(m: ProfileAccumulator, L: number): number[] {
  return Array.from({ length: L }, (_, k) => (m.counts[k + 1]! > 0 ? m.sums[k + 1]! / m.counts[k + 1]! : 0))
}

function argMax(values: readonly number[]): number {
  return values.reduce((best, v, k, all) => (v > all[best]! ? k : best), 0)
}

/**
 * How many standard errors the peak's mean |a| stands above the next largest distance's: (m_peak - m_next) /
 * sqrt(se_peak^2 + se_next^2), each se the spread of |a| over the windows at that distance / sqrt(count).
 * Null when that has no spread to measure (a single distance, fewer than 2 windows there, identical windows).
 */
function peakSeparation(mean: number[], m: ProfileAccumulator, L: number): number | null {
  if (L < 2) return null
  const peak = argMax(mean)
  const next = argMax(mean.map((v, k) => (k === peak ? -Infinity : v)))
  const se2 = (k: number) => {
    const n = m.counts[k + 1]!
    if (n < 2) return NaN
    const variance = Math.max(0, (m.squares[k + 1]! - n * mean[k]! ** 2) / (n - 1))
    return variance / n
  }
  const spread = Math.sqrt(se2(peak) + se2(next))
  return Number.isFinite(spread) && spread > 0 ? (mean[peak]! - mean[next]!) / spread : null
}

/** The softmax-linear surrogate (when its weights fit the cap) and the n-grams, on the same windows. */
async function nextCharacterSurrogates(
  model: AttributableTextModel,
  fit: SoftLabels,
  evaluation: SoftLabels,
  seed: number,
  signal?: AbortSignal,
): Promise<NextCharacterSurrogate[]> {
  const D = SEQUENCE_EXPLAIN_DEFAULTS
  const symbols = model.vocabulary.length + 1
  const out: NextCharacterSurrogate[] = []
  if (fit.contexts.length === 0) return out
  const positions = Math.min(model.contextLength, Math.floor(D.softmaxMaxWeights / (symbols * symbols)))
  if (positions >= 1) {
    out.push(
      await fitSoftmaxLinear(fit, evaluation, symbols, {
        positions,
        epochs: D.softmaxEpochs,
        batchSize: D.softmaxBatchSize,
        learningRate: D.softmaxLearningRate,
        l2: D.softmaxL2,
        seed,
        ...(signal ? { signal } : {}),
      }),
    )
  }
  for (const order of D.ngramOrders.filter((o) => o - 1 <= model.contextLength)) {
    signal?.throwIfAborted()
    out.push(fitNgram(fit, evaluation, order))
  }
  return out
}

/**
 * Greedy and temperature-1 continuations of a few held-out prompts, beside the text that really followed. All
 * of them advance together, one batch through the model per character; each draws exactly as `generate` does
 * (src/models/sequence/sampling.ts) with its seed, so that query repeats it.
 */
async function textSamples(
  model: AttributableTextModel,
  ids: Int32Array,
  segments: readonly Segment[],
  seed: number,
  signal?: AbortSignal,
): Promise<TextSample[]> {
  const D = SEQUENCE_EXPLAIN_DEFAULTS
  const L = model.contextLength
  const T = D.sampleTokens
  // Prompts with a full context and the reference continuation inside their segment.
  const room = segments.map((g) => ({ start: g.start, end: g.end - T + 1 }))
  const prompts = windowsOf(room, L, D.samplePrompts, seed, 'samples')
  const text = (symbols: ArrayLike<number>) =>
    Array.from(symbols, (id) => tokenOf(model.vocabulary, id)).join('')
  const runs = prompts.flatMap((w, i) =>
    [0, 1].map((temperature) => {
      const prompt = Array.from(ids.subarray(Math.max(w.start, w.target - L), w.target))
      return {
        w,
        prompt,
        temperature,
        seed: seed + i,
        random: seededRandom(seed + i, 'generate'),
        context: [...prompt],
        symbols: [] as number[],
        probability: 0,
        entropy: 0,
      }
    }),
  )
  for (let step = 0; step < T && runs.length > 0; step++) {
    signal?.throwIfAborted()
    const distributions = model.nextDistributions(runs.map((r) => r.context))
    runs.forEach((r, k) => {
      const p = distributions[k]!
      const symbol = drawSymbol(samplingDistribution(p, r.temperature, null), r.random())
      r.symbols.push(symbol)
      r.probability += p[symbol]!
      r.entropy += entropy(p)
      r.context.push(symbol)
      if (r.context.length > L) r.context.shift()
    })
    await yieldToEventLoop()
  }
  return runs.map((r) => ({
    prompt: text(r.prompt),
    text: text(r.symbols),
    reference: text(ids.subarray(r.w.target, r.w.target + T)),
    temperature: r.temperature,
    seed: r.seed,
    meanProbability: r.probability / Math.max(1, r.symbols.length),
    meanEntropy: r.entropy / Math.max(1, r.symbols.length),
  }))
}
