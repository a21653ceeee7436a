import { integratedGradients } from '../../../src/explain/integrated-gradients'
import type { IntegrationRule } from '../../../src/explain/quadrature'
import {
  closedForm,
  linearModel,
  product,
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
