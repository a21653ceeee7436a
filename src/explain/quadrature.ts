import { ExplainInputError } from './errors'

/** Nodes and weights of a quadrature rule: integral ~ sum_k weights[k] * f(nodes[k]). */
export interface QuadratureRule {
  nodes: Float64Array
  weights: Float64Array
}

/** The integration rules offered for Integrated Gradients. The right Riemann sum is deliberately absent. */
export type IntegrationRule = 'gauss-legendre' | 'trapezoid'

/**
 * n-point Gauss-Legendre rule on [-1, 1], nodes ascending: exact for polynomials of degree <= 2n - 1.
 * Nodes are the roots of the Legendre polynomial P_n, found by Newton's method from the Tricomi-style
 * guess cos(pi (k + 3/4) / (n + 1/2)), which converges to machine precision in a few steps for every n.
 */
export function gaussLegendre(n: number): QuadratureRule {
  if (!Number.isInteger(n) || n < 1) {
    throw new ExplainInputError(`Gauss-Legendre needs n >= 1 points, got ${n}`)
  }
  const nodes = new Float64Array(n)
  const weights = new Float64Array(n)
  const half = Math.ceil(n / 2)
  for (let k = 0; k < half; k++) {
    let z = Math.cos((Math.PI * (k + 0.75)) / (n + 0.5))
    for (let iter = 0; iter < 100; iter++) {
      const [p, dp] = legendre(n, z)
      const step = p / dp
      z -= step
      if (Math.abs(step) <= 1e-16) break
    }
    // The middle node of an odd rule is 0 exactly, so the rule stays symmetric to the last bit.
    if (n % 2 === 1 && k === half - 1) z = 0
    const dp = legendre(n, z)[1]
    const w = 2 / ((1 - z * z) * dp * dp)
    nodes[k] = -z
    nodes[n - 1 - k] = z
    weights[k] = w
    weights[n - 1 - k] = w
  }
  return { nodes, weights }
}

/** P_n(z) and P_n'(z) by the three-term recurrence. */
function legendre(n: number, z: number): [number, number] {
  let p1 = 1
  let p2 = 0
  for (let j = 1; j <= n; j++) {
    const p3 = p2
    p2 = p1
    p1 = ((2 * j - 1) * z * p2 - (j - 1) * p3) / j
  }
  return [p1, (n * (z * p1 - p2)) / (z * z - 1)]
}

/**
 * Nodes (the path positions alpha) and weights on [0, 1] for `steps` evaluations, as Captum builds them:
 * Gauss-Legendre mapped from [-1, 1], or the trapezoid rule on `steps` equally spaced points including both
 * ends. Both are exact for an integrand linear in alpha, i.e. IG of a quadratic model.
 */
export function unitIntervalRule(rule: IntegrationRule, steps: number): QuadratureRule {
  if (rule === 'gauss-legendre') {
    const { nodes, weights } = gaussLegendre(steps)
    return { nodes: nodes.map((x) => 0.5 * (x + 1)), weights: weights.map((w) => 0.5 * w) }
  }
  if (!Number.isInteger(steps) || steps < 2) {
    throw new ExplainInputError(`trapezoid needs >= 2 steps, got ${steps}`)
  }
  const nodes = new Float64Array(steps)
  const weights = new Float64Array(steps).fill(1 / (steps - 1))
  for (let k = 0; k < steps; k++) nodes[k] = k / (steps - 1)
  weights[0] = 0.5 / (steps - 1)
  weights[steps - 1] = 0.5 / (steps - 1)
  return { nodes, weights }
}
