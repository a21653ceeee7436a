/**
 * Attribution of one generated token's log-probability to the positions of its context (EXPLANATIONS.md,
 * "Generative models: text"). Everything here works on a {@link PositionScorer}: the score as a function of a
 * mask m in [0, 1]^n over the n context positions, the input being m_s * onehot(ctx_s) at position s. m = 1 is
 * the real context, m_s = 0 puts position s at the baseline (the all-zero row, "no character"). That one view
 * serves every method:
 * - occlusion: v(1) - v(1 with m_s = 0);
 * - Integrated Gradients over the one-hot inputs from the all-zero baseline, summed over the vocabulary axis:
 *   only the entry of the character present is non-zero in x - x', so a_s = integral_0^1 dv(a 1)/dm_s da;
 * - Shapley over positions: v(S) = score with the positions outside S at the baseline;
 * - the linear surrogate: least squares of v(m) on random binary masks m.
 * No TensorFlow.js here; the model is the scorer's business (src/models/sequence/model.ts).
 */
import { ExplainInputError } from './errors'
import { ordinaryLeastSquares } from './linear-surrogate'
import { unitIntervalRule } from './quadrature'
import { createRng, permutation, type Rng } from './random'
import { rSquared } from './stats'
import type { BatchGradient, BatchPredict } from './types'

/** The token attribution methods, named exactly like the GraphQL enum `TokenAttributionMethod`. */
export enum TokenAttributionMethod {
  INTEGRATED_GRADIENTS = 'INTEGRATED_GRADIENTS',
  OCCLUSION = 'OCCLUSION',
  SHAPLEY = 'SHAPLEY',
  LINEAR_SURROGATE = 'LINEAR_SURROGATE',
}

/** Every method, in the canonical order. */
export const TOKEN_METHODS: readonly TokenAttributionMethod[] = Object.freeze([
  TokenAttributionMethod.INTEGRATED_GRADIENTS,
  TokenAttributionMethod.OCCLUSION,
  TokenAttributionMethod.SHAPLEY,
  TokenAttributionMethod.LINEAR_SURROGATE,
])

/**
 * The explained score of one step (log p(y_t | context)) as a function of masks over its n context positions.
 * `score` and `gradient` take a batch of masks (fractional values allowed: the IG path) and must be
 * deterministic.
 */
export interface PositionScorer {
  readonly positions: number
  readonly score: BatchPredict
  /** d score / d m_s per mask. */
  readonly gradient: BatchGradient
}

/** How hard each method works; every field has a default ({@link TOKEN_ATTRIBUTION_DEFAULTS}). */
export interface TokenAttributionSettings {
  /** IG: the first Gauss-Legendre rule; doubled until the gap is met or `igMaxSteps` is reached. */
  igMinSteps: number
  igMaxSteps: number
  /** IG: the completeness gap aimed at, relative to max(|v(1) - v(0)|, 1). */
  igTolerance: number
  /** Shapley: exact enumeration (2^n coalitions) up to this many positions, sampled permutations above. */
  shapleyExactMaxPositions: number
  /** Shapley: sampled permutations (antithetic pairs: each permutation is followed by its reverse); at least 4. */
  shapleyPermutations: number
  /** Linear surrogate: random masks fitted (each position kept with probability 1/2), besides 1 and 0. */
  surrogateSamples: number
}

export const TOKEN_ATTRIBUTION_DEFAULTS: Readonly<TokenAttributionSettings> = Object.freeze({
  igMinSteps: 16,
  igMaxSteps: 256,
  igTolerance: 0.005,
  shapleyExactMaxPositions: 10,
  shapleyPermutations: 32,
  surrogateSamples: 256,
})

/** What one method says of one step. */
export interface StepAttribution {
  /** a_s per context position. */
  values: Float64Array
  /** |sum_s a_s - (v(1) - v(0))|: the completeness (IG), efficiency (Shapley) or additivity gap. */
  gap: number
  /** SHAPLEY sampled: the largest standard error of a position's value; 0 when exact; null for the others. */
  stdError: number | null
  /** LINEAR_SURROGATE: R^2 of the fit on masks it was not fitted on; null for the others. */
  fidelityR2: number | null
  /** INTEGRATED_GRADIENTS: quadrature points used; SHAPLEY: permutations (0 when exact); else null. */
  steps: number | null
  /** Rows through the model, forward plus gradient (v(1) and v(0), shared by the methods, not counted). */
  evaluations: number
  /** Wall time of this method on this step (steps attributed together: the step's share of the method's). */
  ms: number
}

/** v(1) and v(0) of a step, and each method's attribution of their difference. */
export interface StepExplanation {
  score: number
  baselineScore: number
  byMethod: Map<TokenAttributionMethod, StepAttribution>
}

/** The masks of one step in a call that serves many steps (see {@link StepScorers}). */
export interface StepMasks {
  /** The step's index in its StepScorers. */
  step: number
  masks: readonly Float64Array[]
}

/**
 * The PositionScorers of many steps behind one call per batch of requests: a call answers masks of any of the
 * steps at once. A model whose cost is per call more than per row (a GRU runs its cell once per position,
 * whatever the batch) is then called once per round of a method over all the steps, not once per step.
 */
export interface StepScorers {
  /** n of each step. */
  readonly positions: readonly number[]
  /** The scores of each request's masks, in the order of the requests. */
  score(requests: readonly StepMasks[]): Float64Array[]
  /** d score / d m_s of each request's masks, in the order of the requests. */
  gradient(requests: readonly StepMasks[]): Float64Array[][]
}

/** Steps whose scorers have no batched form: each request goes to its own step's scorer. */
export function separateScorers(scorers: readonly PositionScorer[]): StepScorers {
  return {
    positions: scorers.map((s) => s.positions),
    score: (requests) => requests.map((r) => scorers[r.step]!.score(r.masks)),
    gradient: (requests) => requests.map((r) => scorers[r.step]!.gradient(r.masks)),
  }
}

/** One step of a StepScorers as a PositionScorer of its own. */
export function stepScorer(scorers: StepScorers, step: number): PositionScorer {
  return {
    positions: scorers.positions[step]!,
    score: (masks) => scorers.score([{ step, masks }])[0]!,
    gradient: (masks) => scorers.gradient([{ step, masks }])[0]!,
  }
}

/** Explains one step with each of `methods`; `seed` drives the Shapley and surrogate draws. */
export function attributeStep(
  scorer: PositionScorer,
  methods: readonly TokenAttributionMethod[],
  seed: number | string,
  settings: Partial<TokenAttributionSettings> = {},
): StepExplanation {
  return attributeSteps(separateScorers([scorer]), methods, [seed], settings)[0]!
}

/**
 * Explains many steps with each of `methods`, exactly as {@link attributeStep} explains each one (`seeds[i]`
 * is step i's seed), but each method advances over all the steps together: every round of it makes at most
 * one score call and one gradient call for all of them. A step's `ms` is its share of the method's time.
 */
export function attributeSteps(
  scorers: StepScorers,
  methods: readonly TokenAttributionMethod[],
  seeds: readonly (number | string)[],
  settings: Partial<TokenAttributionSettings> = {},
): StepExplanation[] {
  const s = { ...TOKEN_ATTRIBUTION_DEFAULTS, ...settings }
  const positions = scorers.positions
  if (seeds.length !== positions.length)
    throw new ExplainInputError(`${positions.length} steps need as many seeds, got ${seeds.length}`)
  for (const n of positions) {
    if (!Number.isInteger(n) || n < 1)
      throw new ExplainInputError(`a step needs at least one position, got ${n}`)
  }
  if (positions.length === 0) return []
  const ends = answers(
    scorers,
    'score',
    positions.map((n, step) => ({ step, masks: [ones(n), new Float64Array(n)] })),
  )
  const steps: StepExplanation[] = ends.map((v) => ({
    score: v[0] as number,
    baselineScore: v[1] as number,
    byMethod: new Map(),
  }))
  for (const method of methods) {
    const started = performance.now()
    const runs = steps.map((step, i) =>
      METHODS[method](
        { n: positions[i]!, score: step.score, baselineScore: step.baselineScore, settings: s },
        seeds[i]!,
      ),
    )
    const outcomes = runTogether(scorers, runs)
    const ms = (performance.now() - started) / steps.length
    outcomes.forEach(({ result, evaluations }, i) =>
      steps[i]!.byMethod.set(method, { ...result, evaluations, ms }),
    )
  }
  return steps
}

/** What a method asks of the model: the scores, or the gradients, of some masks of its step. */
interface Request {
  kind: 'score' | 'gradient'
  masks: Float64Array[]
}

/** A method on one step, run as a generator: it yields its requests and is resumed with their answers. */
type MethodRun = Generator<Request, MethodResult, Float64Array | Float64Array[]>

function* scores(masks: Float64Array[]): Generator<Request, Float64Array, Float64Array | Float64Array[]> {
  return (yield { kind: 'score', masks }) as Float64Array
}

function* gradients(
  masks: Float64Array[],
): Generator<Request, Float64Array[], Float64Array | Float64Array[]> {
  return (yield { kind: 'gradient', masks }) as Float64Array[]
}

/** The answers to some requests, each checked to have one entry per mask. */
function answers<K extends Request['kind']>(
  scorers: StepScorers,
  kind: K,
  requests: readonly StepMasks[],
): K extends 'score' ? Float64Array[] : Float64Array[][] {
  const out = kind === 'score' ? scorers.score(requests) : scorers.gradient(requests)
  requests.forEach((r, k) => {
    const got = out[k]?.length ?? 0
    if (got !== r.masks.length)
      throw new ExplainInputError(`${kind} returned ${got} values for ${r.masks.length} masks`)
  })
  return out as K extends 'score' ? Float64Array[] : Float64Array[][]
}

/**
 * Runs one method on every step: each round gathers what the unfinished runs ask into at most one score call
 * and one gradient call, and resumes each run with its answer. Counts each step's rows (a gradient row once).
 */
function runTogether(
  scorers: StepScorers,
  runs: readonly MethodRun[],
): { result: MethodResult; evaluations: number }[] {
  const evaluations = new Array<number>(runs.length).fill(0)
  const state = runs.map((run) => run.next())
  for (;;) {
    const pending = state.flatMap((st, step) => (st.done ? [] : [{ step, request: st.value }]))
    if (pending.length === 0) break
    for (const kind of ['score', 'gradient'] as const) {
      const asking = pending.filter((p) => p.request.kind === kind)
      if (asking.length === 0) continue
      const answered = answers(
        scorers,
        kind,
        asking.map(({ step, request }) => ({ step, masks: request.masks })),
      )
      asking.forEach(({ step, request }, k) => {
        evaluations[step] = evaluations[step]! + request.masks.length
        state[step] = runs[step]!.next(answered[k]!)
      })
    }
  }
  return state.map((st, step) => ({ result: st.value as MethodResult, evaluations: evaluations[step]! }))
}

/** Model evaluations `attributeStep` makes for one step of n positions at most (for budgets checked up front). */
export function stepEvaluations(
  n: number,
  methods: readonly TokenAttributionMethod[],
  settings: Partial<TokenAttributionSettings> = {},
): number {
  const s = { ...TOKEN_ATTRIBUTION_DEFAULTS, ...settings }
  let total = 2
  for (const method of methods) {
    switch (method) {
      case TokenAttributionMethod.OCCLUSION:
        total += n
        break
      case TokenAttributionMethod.INTEGRATED_GRADIENTS:
        // Doubling from igMinSteps to igMaxSteps: at most twice the last rule.
        total += 2 * s.igMaxSteps
        break
      case TokenAttributionMethod.SHAPLEY:
        total += n <= s.shapleyExactMaxPositions ? 2 ** n : s.shapleyPermutations * (n - 1)
        break
      case TokenAttributionMethod.LINEAR_SURROGATE: {
        const { fit, test } = surrogateSizes(n, s.surrogateSamples)
        total += fit + test
        break
      }
    }
  }
  return total
}

interface StepContext {
  n: number
  score: number
  baselineScore: number
  settings: TokenAttributionSettings
}

type MethodResult = Omit<StepAttribution, 'evaluations' | 'ms'>

const METHODS: Record<TokenAttributionMethod, (ctx: StepContext, seed: number | string) => MethodRun> = {
  [TokenAttributionMethod.OCCLUSION]: occlusion,
  [TokenAttributionMethod.INTEGRATED_GRADIENTS]: integratedGradients,
  [TokenAttributionMethod.SHAPLEY]: shapley,
  [TokenAttributionMethod.LINEAR_SURROGATE]: linearSurrogate,
}

function ones(n: number): Float64Array {
  return new Float64Array(n).fill(1)
}

function completenessGap(values: Float64Array, ctx: StepContext): number {
  let sum = 0
  for (const v of values) sum += v
  return Math.abs(sum - (ctx.score - ctx.baselineScore))
}

/** a_s = v(1) - v(1 with position s at the baseline); exact for a score additive over positions. */
function* occlusion(ctx: StepContext): MethodRun {
  const { n } = ctx
  const masks = Array.from({ length: n }, (_, s) => {
    const m = ones(n)
    m[s] = 0
    return m
  })
  const occluded = yield* scores(masks)
  const values = new Float64Array(n)
  for (let s = 0; s < n; s++) values[s] = ctx.score - (occluded[s] as number)
  return { values, gap: completenessGap(values, ctx), stdError: null, fidelityR2: null, steps: null }
}

/**
 * IG along m = a 1, a from 0 to 1, Gauss-Legendre with igMinSteps points, doubled until the completeness gap
 * is within igTolerance of max(|v(1) - v(0)|, 1) or igMaxSteps is reached; the last rule's answer is kept.
 */
function* integratedGradients(ctx: StepContext): MethodRun {
  const { n, settings } = ctx
  const aim = settings.igTolerance * Math.max(Math.abs(ctx.score - ctx.baselineScore), 1)
  let steps = Math.max(1, settings.igMinSteps)
  for (;;) {
    const { nodes, weights } = unitIntervalRule('gauss-legendre', steps)
    const path = Array.from(nodes, (a) => new Float64Array(n).fill(a))
    const grads = yield* gradients(path)
    const values = new Float64Array(n)
    grads.forEach((g, k) => {
      const w = weights[k] as number
      for (let s = 0; s < n; s++) values[s] = (values[s] as number) + w * (g[s] as number)
    })
    const gap = completenessGap(values, ctx)
    if (gap <= aim || steps * 2 > settings.igMaxSteps) {
      return { values, gap, stdError: null, fidelityR2: null, steps }
    }
    steps *= 2
  }
}

/**
 * Shapley values of the positions with v(S) = score with the positions outside S at the baseline: every one
 * of the 2^n coalitions up to shapleyExactMaxPositions, else the mean marginal contribution over sampled
 * permutations (Captum's ShapleyValueSampling), each followed by its reverse (antithetic pairs).
 */
function* shapley(ctx: StepContext, seed: number | string): MethodRun {
  const { n, settings } = ctx
  if (n <= settings.shapleyExactMaxPositions) return yield* exactShapley(ctx)
  // At least two pairs: the standard error needs two draws.
  const pairs = Math.max(2, Math.round(settings.shapleyPermutations / 2))
  const rng = createRng(seed, 'token-shapley')
  const orders: Int32Array[] = []
  for (let p = 0; p < pairs; p++) {
    const order = permutation(n, rng)
    orders.push(order, order.slice().reverse())
  }
  // The inner coalitions of each order: its first 1..n-1 positions (the empty and full ones are known).
  const masks: Float64Array[] = []
  for (const order of orders) {
    const m = new Float64Array(n)
    for (let k = 0; k < n - 1; k++) {
      m[order[k] as number] = 1
      masks.push(m.slice())
    }
  }
  const values = yield* scores(masks)
  const sum = new Float64Array(n)
  // Antithetic pairs are not independent draws: the standard error is over pairs, each pair's mean one draw.
  const pairSum = new Float64Array(n)
  const pairMeans: Float64Array[] = []
  orders.forEach((order, o) => {
    let previous = ctx.baselineScore
    for (let k = 0; k < n; k++) {
      const current = k === n - 1 ? ctx.score : (values[o * (n - 1) + k] as number)
      const s = order[k] as number
      pairSum[s] = (pairSum[s] as number) + (current - previous)
      previous = current
    }
    if (o % 2 === 1) {
      const means = pairSum.map((v) => v / 2)
      pairMeans.push(means)
      for (let s = 0; s < n; s++) sum[s] = (sum[s] as number) + (means[s] as number)
      pairSum.fill(0)
    }
  })
  const phi = sum.map((v) => v / pairs)
  // Two passes (deviations from phi): an additive score, whose pairs all agree, gets rounding, not cancellation.
  let stdError = 0
  for (let s = 0; s < n; s++) {
    let squares = 0
    for (const means of pairMeans) squares += ((means[s] as number) - (phi[s] as number)) ** 2
    stdError = Math.max(stdError, Math.sqrt(squares / (pairs - 1) / pairs))
  }
  return { values: phi, gap: completenessGap(phi, ctx), stdError, fidelityR2: null, steps: 2 * pairs }
}

/** phi_s = sum over coalitions S without s of |S|!(n-|S|-1)!/n! [v(S+s) - v(S)], every coalition evaluated. */
function* exactShapley(ctx: StepContext): MethodRun {
  const { n } = ctx
  const count = 2 ** n
  const masks: Float64Array[] = []
  for (let bits = 0; bits < count; bits++) {
    const m = new Float64Array(n)
    for (let s = 0; s < n; s++) if (bits & (1 << s)) m[s] = 1
    masks.push(m)
  }
  const v = yield* scores(masks)
  const factorial = [1]
  for (let i = 1; i <= n; i++) factorial.push((factorial[i - 1] as number) * i)
  const phi = new Float64Array(n)
  for (let bits = 0; bits < count; bits++) {
    const size = popcount(bits)
    for (let s = 0; s < n; s++) {
      if (bits & (1 << s)) continue
      const w = ((factorial[size] as number) * (factorial[n - size - 1] as number)) / (factorial[n] as number)
      phi[s] = (phi[s] as number) + w * ((v[bits | (1 << s)] as number) - (v[bits] as number))
    }
  }
  return { values: phi, gap: completenessGap(phi, ctx), stdError: 0, fidelityR2: null, steps: 0 }
}

function popcount(bits: number): number {
  let c = 0
  for (let b = bits; b; b &= b - 1) c++
  return c
}

function surrogateSizes(n: number, samples: number): { fit: number; test: number } {
  const fit = Math.max(samples, 2 * (n + 1))
  return { fit, test: Math.max(16, Math.round(fit / 4)) }
}

/**
 * LIME over positions (the founding linear surrogate): v(m) ~ b0 + sum_s b_s m_s by least squares on random
 * binary masks (each position kept with probability 1/2) plus the full and empty contexts; a_s = b_s. Fidelity
 * is R^2 on further masks the fit did not see.
 */
function* linearSurrogate(ctx: StepContext, seed: number | string): MethodRun {
  const { n, settings } = ctx
  const rng = createRng(seed, 'token-surrogate')
  const sizes = surrogateSizes(n, settings.surrogateSamples)
  const fitMasks = [ones(n), new Float64Array(n), ...randomMasks(n, sizes.fit - 2, rng)]
  const testMasks = randomMasks(n, sizes.test, rng)
  const all = yield* scores([...fitMasks.slice(2), ...testMasks])
  const fitValues = new Float64Array(sizes.fit)
  fitValues[0] = ctx.score
  fitValues[1] = ctx.baselineScore
  fitValues.set(all.subarray(0, sizes.fit - 2), 2)
  const fit = ordinaryLeastSquares(fitMasks, fitValues, n)
  const testValues = all.subarray(sizes.fit - 2)
  const predicted = testMasks.map((m) => {
    let f = fit.intercept
    for (let s = 0; s < n; s++) f += (fit.weights[s] as number) * (m[s] as number)
    return f
  })
  const values = Float64Array.from(fit.weights)
  return {
    values,
    gap: completenessGap(values, ctx),
    stdError: null,
    fidelityR2: rSquared(testValues, predicted),
    steps: null,
  }
}

function randomMasks(n: number, count: number, rng: Rng): Float64Array[] {
  return Array.from({ length: count }, () => {
    const m = new Float64Array(n)
    for (let s = 0; s < n; s++) m[s] = rng() < 0.5 ? 0 : 1
    return m
  })
}
