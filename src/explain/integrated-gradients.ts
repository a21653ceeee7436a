import { DEFAULT_MAX_BATCH_ROWS } from './model'
import { ExplainInputError, assertRowWidths } from './errors'
import { unitIntervalRule, type IntegrationRule } from './quadrature'
import { std } from './stats'
import type { BatchGradient, BatchPredict } from './types'

/** Captum's default number of integration points. */
export const DEFAULT_IG_STEPS = 50

/** Options of {@link integratedGradients}. */
export interface IntegratedGradientsOptions {
  predict: BatchPredict
  gradient: BatchGradient
  /** Rows to explain. */
  rows: readonly Float64Array[]
  /** The reference point x' (usually the training mean). */
  baseline: Float64Array
  /** Points on the path per row; default 50. */
  steps?: number
  /** Default Gauss-Legendre (Captum's default). */
  rule?: IntegrationRule
  /** Upper bound on rows per gradient call; whole paths are never split. */
  maxBatchRows?: number
  /** Refine the path until the completeness gap meets a tolerance ({@link AdaptivePath}); overrides steps/rule. */
  adaptive?: AdaptivePath
}

/**
 * Kink-aware adaptive quadrature of the path integral. The path [0, 1] is cut into panels, each integrated by
 * its midpoint gradient (1-point Gauss-Legendre: a ReLU network's gradient is constant between kinks, where a
 * higher order buys nothing, and one gradient per panel is the cheapest refinement). f is evaluated at the
 * panel ends, so each panel's share of the completeness gap, f(b) - f(a) - sum_i IG_i(panel), is known
 * exactly: a panel without a kink (ReLU) has none, one with a kink shows it. Panels whose share exceeds their
 * part of the aim are bisected, round after round, until the summed |share| (a bound on the gap, and on how far
 * single features can drift apart without the gap seeing it) is within
 * max(tolerance |f(x) - f(x')|, absoluteTolerance) or the row used maxSteps gradient points.
 */
export interface AdaptivePath {
  /** Relative to |f(x) - f(x')|. */
  tolerance: number
  /**
   * In output units, default tolerance x sd(f(x)) / 5 over the rows: rows whose f(x) barely differs from
   * f(x') are not refined for a gap no one could see.
   */
  absoluteTolerance?: number
  /** Uniform panels to start from (default 8). */
  initialPanels?: number
  /** Gradient points per row at most (default 1024). */
  maxSteps?: number
}

const PANEL_POINTS = 1
const DEFAULT_INITIAL_PANELS = 8
const DEFAULT_MAX_ADAPTIVE_STEPS = 1024

/** Result of {@link integratedGradients}. */
export interface IntegratedGradientsResult {
  /** IG per row, one value per feature. */
  attributions: Float64Array[]
  /** f(x) per row. */
  predictions: Float64Array
  /** f(x'). */
  baselinePrediction: number
  /** Completeness gap |sum_i IG_i - (f(x) - f(x'))| per row: the quadrature error of the path integral. */
  gaps: Float64Array
  /** Gradient points used per row (the fixed rule's steps, or what the adaptive rule needed). */
  steps: Int32Array
}

/**
 * Integrated Gradients (Sundararajan et al. 2017, as Captum computes it):
 * IG_i = (x_i - x'_i) * integral_0^1 df(x' + a (x - x'))/dx_i da, with the integral by Gauss-Legendre or
 * the trapezoid rule. All path points of an instance go to the model in one gradient call (several instances
 * share a call when they fit in `maxBatchRows`).
 */
export function integratedGradients(options: IntegratedGradientsOptions): IntegratedGradientsResult {
  const { predict, gradient, rows, baseline } = options
  const steps = options.steps ?? DEFAULT_IG_STEPS
  const width = baseline.length
  assertRowWidths(rows, width, 'rows')
  if (options.adaptive !== undefined) return adaptiveIntegratedGradients(options, options.adaptive)
  const { nodes, weights } = unitIntervalRule(options.rule ?? 'gauss-legendre', steps)
  const maxBatchRows = options.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS
  if (maxBatchRows < 1) throw new ExplainInputError('maxBatchRows must be >= 1')
  const rowsPerCall = Math.max(1, Math.floor(maxBatchRows / steps))

  const attributions: Float64Array[] = []
  for (let start = 0; start < rows.length; start += rowsPerCall) {
    const chunk = rows.slice(start, start + rowsPerCall)
    const path: Float64Array[] = []
    for (const x of chunk) {
      for (const alpha of nodes) {
        const point = new Float64Array(width)
        for (let j = 0; j < width; j++) {
          const b = baseline[j] as number
          point[j] = b + alpha * ((x[j] as number) - b)
        }
        path.push(point)
      }
    }
    const grads = gradient(path)
    if (grads.length !== path.length) throw new ExplainInputError('gradient returned a wrong number of rows')
    chunk.forEach((x, r) => {
      const ig = new Float64Array(width)
      for (let k = 0; k < steps; k++) {
        const g = grads[r * steps + k] as Float64Array
        const w = weights[k] as number
        for (let j = 0; j < width; j++) ig[j] = (ig[j] as number) + w * (g[j] as number)
      }
      for (let j = 0; j < width; j++) ig[j] = (ig[j] as number) * ((x[j] as number) - (baseline[j] as number))
      attributions.push(ig)
    })
  }

  const predictions = rows.length > 0 ? predict(rows) : new Float64Array(0)
  const baselinePrediction = predict([baseline])[0] as number
  return {
    attributions,
    predictions,
    baselinePrediction,
    gaps: completenessGaps(attributions, predictions, baselinePrediction),
    steps: new Int32Array(rows.length).fill(steps),
  }
}

function completenessGaps(
  attributions: readonly Float64Array[],
  predictions: Float64Array,
  baselinePrediction: number,
): Float64Array {
  const gaps = new Float64Array(attributions.length)
  attributions.forEach((ig, i) => {
    let sum = 0
    for (const v of ig) sum += v
    gaps[i] = Math.abs(sum - ((predictions[i] as number) - baselinePrediction))
  })
  return gaps
}

/** One panel [a, b] of a row's path: f at its ends, its IG contribution and its share of the gap. */
interface Panel {
  row: number
  a: number
  b: number
  fa: number
  fb: number
  contribution: Float64Array
  /** f(b) - f(a) - sum_i contribution_i. */
  error: number
}

/** See {@link AdaptivePath}. Every round sends the new panel ends of all rows in one forward call and their
 * Gauss-Legendre points in one gradient call. */
function adaptiveIntegratedGradients(
  options: IntegratedGradientsOptions,
  adaptive: AdaptivePath,
): IntegratedGradientsResult {
  const { predict, gradient, rows, baseline } = options
  const width = baseline.length
  const initial = adaptive.initialPanels ?? DEFAULT_INITIAL_PANELS
  const maxSteps = adaptive.maxSteps ?? DEFAULT_MAX_ADAPTIVE_STEPS
  if (!Number.isInteger(initial) || initial < 1) throw new ExplainInputError('initialPanels must be >= 1')
  if (!(adaptive.tolerance >= 0)) throw new ExplainInputError('the IG tolerance must be >= 0')
  const rule = unitIntervalRule('gauss-legendre', PANEL_POINTS)
  const pointOf = (row: number, alpha: number): Float64Array => {
    const x = rows[row] as Float64Array
    const point = new Float64Array(width)
    for (let j = 0; j < width; j++) {
      const b = baseline[j] as number
      point[j] = b + alpha * ((x[j] as number) - b)
    }
    return point
  }
  /** Fills each panel's contribution and error from one gradient call over all their points. */
  const integrate = (panels: Panel[]): void => {
    const points: Float64Array[] = []
    for (const p of panels)
      for (const node of rule.nodes) points.push(pointOf(p.row, p.a + node * (p.b - p.a)))
    const grads = points.length > 0 ? gradient(points) : []
    if (grads.length !== points.length)
      throw new ExplainInputError('gradient returned a wrong number of rows')
    panels.forEach((p, i) => {
      const x = rows[p.row] as Float64Array
      const h = p.b - p.a
      let total = 0
      for (let j = 0; j < width; j++) {
        let integral = 0
        for (let k = 0; k < PANEL_POINTS; k++) {
          integral +=
            (rule.weights[k] as number) * ((grads[i * PANEL_POINTS + k] as Float64Array)[j] as number)
        }
        const c = integral * h * ((x[j] as number) - (baseline[j] as number))
        p.contribution[j] = c
        total += c
      }
      p.error = p.fb - p.fa - total
    })
  }
  const panelOf = (row: number, a: number, b: number, fa: number, fb: number): Panel => ({
    row,
    a,
    b,
    fa,
    fb,
    contribution: new Float64Array(width),
    error: 0,
  })

  const predictions = rows.length > 0 ? predict(rows) : new Float64Array(0)
  const baselinePrediction = predict([baseline])[0] as number
  // The inner ends of the initial panels, all rows in one call.
  const inner: Float64Array[] = []
  rows.forEach((_, r) => {
    for (let i = 1; i < initial; i++) inner.push(pointOf(r, i / initial))
  })
  const innerValues = inner.length > 0 ? predict(inner) : new Float64Array(0)
  const panelsOf: Panel[][] = rows.map((_, r) => {
    const f = (i: number): number =>
      i === 0
        ? baselinePrediction
        : i === initial
          ? (predictions[r] as number)
          : (innerValues[r * (initial - 1) + i - 1] as number)
    return Array.from({ length: initial }, (_, i) =>
      panelOf(r, i / initial, (i + 1) / initial, f(i), f(i + 1)),
    )
  })
  integrate(panelsOf.flat())
  const steps = new Int32Array(rows.length).fill(initial * PANEL_POINTS)
  const aims = Float64Array.from(rows, (_, r) =>
    Math.max(
      adaptive.tolerance * Math.abs((predictions[r] as number) - baselinePrediction),
      adaptive.absoluteTolerance ?? (adaptive.tolerance * std(predictions)) / 5,
    ),
  )

  for (;;) {
    const split = choosePanelsToSplit(panelsOf, aims, steps, maxSteps)
    if (split.length === 0) break
    const middles = predict(split.map((p) => pointOf(p.row, (p.a + p.b) / 2)))
    const children: Panel[] = []
    split.forEach((p, i) => {
      const mid = (p.a + p.b) / 2
      const fm = middles[i] as number
      const left = panelOf(p.row, p.a, mid, p.fa, fm)
      const right = panelOf(p.row, mid, p.b, fm, p.fb)
      const list = panelsOf[p.row] as Panel[]
      list.splice(list.indexOf(p), 1, left, right)
      children.push(left, right)
      steps[p.row] = (steps[p.row] as number) + 2 * PANEL_POINTS
    })
    integrate(children)
  }

  const attributions = panelsOf.map((panels) => {
    const ig = new Float64Array(width)
    for (const p of panels)
      for (let j = 0; j < width; j++) ig[j] = (ig[j] as number) + (p.contribution[j] as number)
    return ig
  })
  return {
    attributions,
    predictions,
    baselinePrediction,
    gaps: completenessGaps(attributions, predictions, baselinePrediction),
    steps,
  }
}

/**
 * The panels of this round: per row whose summed |error| exceeds its aim, those whose |error| exceeds the aim
 * shared among the row's panels (largest first, as many as the row's remaining steps allow). Splitting a panel
 * replaces its points by 2 x PANEL_POINTS new ones.
 */
function choosePanelsToSplit(
  panelsOf: readonly Panel[][],
  aims: Float64Array,
  steps: Int32Array,
  maxSteps: number,
): Panel[] {
  const chosen: Panel[] = []
  panelsOf.forEach((panels, r) => {
    const aim = aims[r] as number
    let total = 0
    for (const p of panels) total += Math.abs(p.error)
    if ((process.env.IGC === 'gap' ? Math.abs(panels.reduce((s, p) => s + p.error, 0)) : total) <= aim) return
    const share = aim / panels.length
    const room = Math.floor((maxSteps - (steps[r] as number)) / (2 * PANEL_POINTS))
    const over = panels
      .filter((p) => Math.abs(p.error) > share)
      .sort((p, q) => Math.abs(q.error) - Math.abs(p.error))
    chosen.push(...over.slice(0, Math.max(0, room)))
  })
  return chosen
}
