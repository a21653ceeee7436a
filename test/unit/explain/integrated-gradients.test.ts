import {
  integratedGradients,
  type IntegratedGradientsOptions,
  type IntegratedGradientsResult,
} from '../../../src/explain/integrated-gradients'
import { EvaluationCounter } from '../../../src/explain/model'
import { std } from '../../../src/explain/stats'
import type { IntegrationRule } from '../../../src/explain/quadrature'
import {
  closedForm,
  linearModel,
  product,
  randomReluNetwork,
  reluNetwork,
  saturated,
  squareTimes,
  sum,
  uniformRows,
  type ClosedFormModel,
} from './closed-form'

const ig = (
  model: ClosedFormModel,
  x: number[],
  baseline: number[],
  steps?: number,
  rule?: IntegrationRule,
): number[] => {
  const result = integratedGradients({
    ...model,
    rows: [Float64Array.from(x)],
    baseline: Float64Array.from(baseline),
    steps,
    rule,
  })
  return Array.from(result.attributions[0] as Float64Array)
}

const expectClose = (actual: number[], expected: number[], tolerance: number): void => {
  expect(actual).toHaveLength(expected.length)
  actual.forEach((a, i) => expect(Math.abs(a - (expected[i] as number))).toBeLessThanOrEqual(tolerance))
}

describe('Integrated Gradients: known answers', () => {
  const w = [2, -3, 0.5, 4]
  const linear = linearModel(1.25, w)
  const x = [0.3, 1.7, -2, 0.9]
  const baseline = [0.5, 0.5, 0.5, 0.5]

  it.each([
    ['gauss-legendre', 1],
    ['gauss-legendre', 7],
    ['gauss-legendre', 50],
    ['trapezoid', 2],
    ['trapezoid', 11],
    ['trapezoid', 50],
  ] as const)("case 1, linear model: IG_i = w_i (x_i - x_i') with %s, %i steps", (rule, steps) => {
    expectClose(
      ig(linear, x, baseline, steps, rule),
      w.map((wi, i) => wi * ((x[i] as number) - (baseline[i] as number))),
      1e-12,
    )
  })

  it('case 2, f = x1 x2: IG_1 = (x1 - r1)(x2 + r2)/2, IG_2 = (x2 - r2)(x1 + r1)/2', () => {
    const r = [0.4, -1.1]
    const p = [2.5, 3]
    const expected = [((2.5 - 0.4) * (3 - 1.1)) / 2, ((3 + 1.1) * (2.5 + 0.4)) / 2]
    expectClose(ig(product, p, r, 50, 'gauss-legendre'), expected, 1e-12)
    // The integrand is linear in alpha, so even the two-point trapezoid is exact.
    expectClose(ig(product, p, r, 2, 'trapezoid'), expected, 1e-12)
  })

  it('case 3, f = x1^2 x2 at (1, 1) from 0: IG = (2/3, 1/3), not the Shapley (1/2, 1/2)', () => {
    expectClose(ig(squareTimes, [1, 1], [0, 0]), [2 / 3, 1 / 3], 1e-14)
    // Trapezoid on the quadratic integrand 2 a^2: error h^2/12 (f'(1) - f'(0)) = 4 / (12 * 49^2).
    const trapezoid = ig(squareTimes, [1, 1], [0, 0], 50, 'trapezoid')
    expect((trapezoid[0] as number) - 2 / 3).toBeCloseTo(4 / (12 * 49 * 49), 12)
  })

  it.each([2, 20, 50, 64])(
    'case 4, ReLU network at (3, 1): IG = (1.5, -0.5) with %i steps of either rule',
    (n) => {
      // The kink is at alpha = 1/2; symmetric rules with an even count put exactly half the weight past it.
      expectClose(ig(reluNetwork, [3, 1], [0, 0], n), [1.5, -0.5], 1e-12)
      expectClose(ig(reluNetwork, [3, 1], [0, 0], n, 'trapezoid'), [1.5, -0.5], 1e-12)
    },
  )

  it('case 5, f = 1 - ReLU(1 - x) at 2: the gradient is 0 but IG = 1', () => {
    expect(saturated.gradient([Float64Array.of(2)])[0]?.[0]).toBe(0)
    expectClose(ig(saturated, [2], [0]), [1], 1e-12)
  })

  it('case 6: null model, ignored feature and a feature at its baseline get exactly 0', () => {
    const constant = closedForm(
      () => 3,
      () => [0, 0],
    )
    expect(ig(constant, [1, 2], [0, 0])).toEqual([0, 0])
    const ignoresThird = linearModel(0, [2, -1, 0])
    expect(ig(ignoresThird, [1, 1, 5], [0, 0, 0])[2]).toBe(0)
    // f = x1 x2 uses x2, but x2 equals its baseline.
    expect(ig(product, [3, 0.7], [0, 0.7])[1]).toBe(0)
  })

  it('case 6: swapping two symmetric features swaps their attributions', () => {
    const symmetric = closedForm(
      (v) => (v[0] as number) * (v[1] as number) + Math.sin(v[0] as number) + Math.sin(v[1] as number),
      (v) => [(v[1] as number) + Math.cos(v[0] as number), (v[0] as number) + Math.cos(v[1] as number)],
    )
    const a = ig(symmetric, [0.3, 1.9], [0.1, -0.4])
    const b = ig(symmetric, [1.9, 0.3], [-0.4, 0.1])
    expect(b[0]).toBe(a[1])
    expect(b[1]).toBe(a[0])
  })
})

describe('Integrated Gradients: completeness and batching', () => {
  const smooth = closedForm(
    (v) => Math.exp(0.5 * (v[0] as number)) * Math.sin(v[1] as number) + (v[2] as number) ** 3,
    (v) => [
      0.5 * Math.exp(0.5 * (v[0] as number)) * Math.sin(v[1] as number),
      Math.exp(0.5 * (v[0] as number)) * Math.cos(v[1] as number),
      3 * (v[2] as number) ** 2,
    ],
  )
  const rows = uniformRows(30, 3, 'ig-rows')
  const baseline = Float64Array.of(0.5, 0.5, 0.5)

  it('reports the completeness gap, at rounding level for Gauss-Legendre on a smooth model', () => {
    const result = integratedGradients({ ...smooth, rows, baseline })
    result.attributions.forEach((a, i) => {
      const expectedGap = Math.abs(sum(a) - ((result.predictions[i] as number) - result.baselinePrediction))
      expect(result.gaps[i]).toBe(expectedGap)
      expect(result.gaps[i]).toBeLessThan(1e-13)
    })
    // Trapezoid is O(h^2): visibly larger, still small.
    const trapezoid = integratedGradients({ ...smooth, rows, baseline, rule: 'trapezoid' })
    expect(Math.max(...trapezoid.gaps)).toBeGreaterThan(1e-7)
    expect(Math.max(...trapezoid.gaps)).toBeLessThan(1e-3)
  })

  it('sends whole paths per gradient call and gives the same result whatever the batch size', () => {
    const sizes: number[] = []
    const model = {
      predict: smooth.predict,
      gradient: (r: readonly Float64Array[]) => {
        sizes.push(r.length)
        return smooth.gradient(r)
      },
    }
    const big = integratedGradients({ ...model, rows, baseline, steps: 50 })
    const callsBig = sizes.length
    sizes.length = 0
    const small = integratedGradients({ ...model, rows, baseline, steps: 50, maxBatchRows: 60 })
    expect(callsBig).toBe(1)
    expect(sizes).toEqual(new Array(30).fill(50))
    expect(small.attributions).toEqual(big.attributions)
  })

  it('rejects rows of the wrong width', () => {
    expect(() => integratedGradients({ ...smooth, rows: [Float64Array.of(1, 2)], baseline })).toThrow(
      /expected 3/,
    )
  })
})

describe('Integrated Gradients: the adaptive, kink-aware path', () => {
  const adaptiveIg = (
    model: ClosedFormModel,
    x: number[],
    baseline: number[],
    tolerance = 1e-9,
  ): { values: number[]; steps: number; gap: number } => {
    const result = integratedGradients({
      ...model,
      rows: [Float64Array.from(x)],
      baseline: Float64Array.from(baseline),
      adaptive: { tolerance },
    })
    return {
      values: Array.from(result.attributions[0] as Float64Array),
      steps: result.steps[0] as number,
      gap: result.gaps[0] as number,
    }
  }

  it('keeps the known answers: cases 1, 2, 4 and 5 exactly at the first 8 panels, case 3 to its tolerance', () => {
    const linear = adaptiveIg(linearModel(1.25, [2, -3, 0.5, 4]), [0.3, 1.7, -2, 0.9], [0.5, 0.5, 0.5, 0.5])
    expectClose(linear.values, [2 * -0.2, -3 * 1.2, 0.5 * -2.5, 4 * 0.4], 1e-12)
    expect(linear.steps).toBe(8)
    const r = [0.4, -1.1]
    expectClose(
      adaptiveIg(product, [2.5, 3], r).values,
      [((2.5 - 0.4) * (3 - 1.1)) / 2, ((3 + 1.1) * (2.5 + 0.4)) / 2],
      1e-12,
    )
    // Case 3's integrand is quadratic, which the midpoint rule is not exact for: refined until the gap is met.
    const third = adaptiveIg(squareTimes, [1, 1], [0, 0], 1e-6)
    expectClose(third.values, [2 / 3, 1 / 3], 1e-5)
    expect(third.gap).toBeLessThanOrEqual(1e-6)
    expect(third.steps).toBeGreaterThan(8)
    expectClose(adaptiveIg(reluNetwork, [3, 1], [0, 0]).values, [1.5, -0.5], 1e-12)
    expectClose(adaptiveIg(saturated, [2], [0]).values, [1], 1e-12)
    expect(adaptiveIg(linearModel(0, [2, -1, 0]), [1, 1, 5], [0, 0, 0]).values[2]).toBe(0)
  })

  it('finds a kink the first panels miss: f = ReLU(x - 0.3) from 0 to 1', () => {
    const kinked = closedForm(
      (v) => Math.max(0, (v[0] as number) - 0.3),
      (v) => [(v[0] as number) > 0.3 ? 1 : 0],
    )
    const coarse = integratedGradients({
      ...kinked,
      rows: [Float64Array.of(1)],
      baseline: Float64Array.of(0),
      steps: 8,
    })
    const fine = adaptiveIg(kinked, [1], [0], 1e-4)
    // 8 Gauss-Legendre points put a weight of their own around the kink: a visible gap.
    expect(coarse.gaps[0]).toBeGreaterThan(1e-3)
    expect(Math.abs((fine.values[0] as number) - 0.7)).toBeLessThanOrEqual(1e-4 * 0.7)
    expect(fine.gap).toBeLessThanOrEqual(1e-4 * 0.7)
  })

  describe('on a random ReLU network (a real MLP, many kinks on each path)', () => {
    const network = randomReluNetwork([6, 32, 16, 1], 'ig-relu-net')
    const rows = uniformRows(25, 6, 'ig-relu-rows').map((r) => r.map((v) => 4 * v - 2))
    const baseline = new Float64Array(6)
    const run = (extra: Partial<IntegratedGradientsOptions>) => {
      const counter = new EvaluationCounter(network.predict, network.gradient)
      const result = integratedGradients({
        predict: counter.predict,
        gradient: counter.gradient,
        rows,
        baseline,
        ...extra,
      })
      return { result, gradientRows: counter.gradientRows }
    }
    const reference = run({ adaptive: { tolerance: 1e-10, maxSteps: 1 << 16 } }).result
    const fixed = run({ steps: 50 })
    const adaptive = run({ adaptive: { tolerance: 0.01 } })
    const delta = (i: number) => Math.abs((reference.predictions[i] as number) - reference.baselinePrediction)
    const featureError = (r: IntegratedGradientsResult, i: number) =>
      Math.max(
        ...Array.from(r.attributions[i] as Float64Array, (v, j) =>
          Math.abs(v - ((reference.attributions[i] as Float64Array)[j] as number)),
        ),
      )

    it("meets the bound on every row: gap <= 1 % of max(|f(x) - f(x')|, sd(f)/5)", () => {
      const floor = 0.01 * (std(adaptive.result.predictions) / 5)
      adaptive.result.gaps.forEach((g, i) => {
        expect(g).toBeLessThanOrEqual(Math.max(0.01 * delta(i), floor) + 1e-12)
        expect(adaptive.result.steps[i]).toBeLessThan(1024)
      })
      expect(Math.max(...reference.gaps.map((g, i) => g / delta(i)))).toBeLessThan(1e-8)
    })

    it('is closer to the exact path integral than 50 Gauss-Legendre points, feature by feature', () => {
      const worst = (r: IntegratedGradientsResult) =>
        Math.max(...rows.map((_, i) => featureError(r, i) / delta(i)))
      expect(worst(adaptive.result)).toBeLessThan(worst(fixed.result))
      const medianGap = (r: IntegratedGradientsResult) => {
        const rel = rows.map((_, i) => (r.gaps[i] as number) / delta(i)).sort((a, b) => a - b)
        return rel[rel.length >> 1] as number
      }
      expect(medianGap(adaptive.result)).toBeLessThan(medianGap(fixed.result))
    })

    it('reports the gradient points each row used, which are what it cost', () => {
      const used = adaptive.result.steps.reduce((s, v) => s + v, 0)
      expect(adaptive.gradientRows).toBe(used)
      expect(Array.from(fixed.result.steps)).toEqual(new Array(rows.length).fill(50))
      // Tighter tolerance, more points.
      expect(run({ adaptive: { tolerance: 0.001 } }).gradientRows).toBeGreaterThan(adaptive.gradientRows)
    })

    it('stops at maxSteps', () => {
      const capped = run({ adaptive: { tolerance: 0, maxSteps: 20 } }).result
      for (const s of capped.steps) expect(s).toBeLessThanOrEqual(20)
    })
  })
})
