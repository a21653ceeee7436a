import { fitLinearSurrogate } from '../../../src/explain/linear-surrogate'
import { std } from '../../../src/explain/stats'
import { closedForm, friedman1, linearModel, uniformRows } from './closed-form'

const names = (m: number) => Array.from({ length: m }, (_, j) => `x${j + 1}`)

describe('linear surrogate', () => {
  it('case 1: recovers b0 and w of a linear model with R^2 = 1; standardized weight = w sd(x)', () => {
    const w = [3, -1.5, 0, 12.25]
    // Offsets and scales far from 0 and 1, which a naive normal-equation solve would feel.
    const rows = uniformRows(300, 4, 'lin').map((r) => r.map((v, j) => 1000 * j + v * (j + 1) * 10))
    const surrogate = fitLinearSurrogate({
      predict: linearModel(-4, w).predict,
      rows,
      featureNames: names(4),
    })
    expect(Math.abs(surrogate.intercept + 4)).toBeLessThan(1e-8)
    surrogate.coefficients.forEach((c, j) => {
      expect(c.feature).toBe(`x${j + 1}`)
      expect(Math.abs(c.weight - (w[j] as number))).toBeLessThan(1e-11)
      const sd = std(rows.map((r) => r[j] as number))
      expect(Math.abs(c.standardizedWeight - (w[j] as number) * sd)).toBeLessThan(1e-9)
    })
    expect(surrogate.fidelityR2).toBeGreaterThan(1 - 1e-12)
  })

  it('case 6: a null model gets zero weights, its constant as intercept, and R^2 = 1', () => {
    const constant = closedForm(
      () => 2.5,
      () => [],
    )
    const surrogate = fitLinearSurrogate({
      predict: constant.predict,
      rows: uniformRows(50, 3, 'c'),
      featureNames: names(3),
    })
    expect(surrogate.intercept).toBeCloseTo(2.5, 12)
    surrogate.coefficients.forEach((c) => expect(Math.abs(c.weight)).toBeLessThan(1e-12))
    expect(surrogate.fidelityR2).toBe(1)
  })

  it('gives a constant column weight 0 and still fits the rest', () => {
    const rows = uniformRows(100, 3, 'const-col').map((r) =>
      Float64Array.of(r[0] as number, 7, r[2] as number),
    )
    const surrogate = fitLinearSurrogate({
      predict: linearModel(1, [2, 5, -3]).predict,
      rows,
      featureNames: names(3),
    })
    expect(surrogate.coefficients[1]?.weight).toBe(0)
    expect(surrogate.coefficients[0]?.weight).toBeCloseTo(2, 10)
    expect(surrogate.coefficients[2]?.weight).toBeCloseTo(-3, 10)
    // The constant column's effect, 5 * 7, moves into the intercept.
    expect(surrogate.intercept).toBeCloseTo(36, 10)
    expect(surrogate.fidelityR2).toBeGreaterThan(1 - 1e-12)
  })

  it('Friedman #1: R^2 near 0.751 and x3 (a symmetric quadratic) gets a coefficient near 0', () => {
    const rows = uniformRows(10000, 10, 'friedman-linear')
    const surrogate = fitLinearSurrogate({ predict: friedman1.predict, rows, featureNames: names(10) })
    expect(Math.abs(surrogate.fidelityR2 - 0.751)).toBeLessThan(0.02)
    const weight = (j: number) => surrogate.coefficients[j]?.weight as number
    expect(Math.abs(weight(2))).toBeLessThan(0.3)
    expect(Math.abs(weight(3) - 10)).toBeLessThan(0.3)
    expect(Math.abs(weight(4) - 5)).toBeLessThan(0.3)
    for (let j = 5; j < 10; j++) expect(Math.abs(weight(j))).toBeLessThan(0.3)
  })

  it('fits the outputs given instead of calling the model, and needs two rows', () => {
    const rows = uniformRows(20, 2, 'given')
    const outputs = Float64Array.from(rows, (r) => 3 * (r[1] as number))
    const surrogate = fitLinearSurrogate({
      predict: () => {
        throw new Error('not called')
      },
      rows,
      featureNames: names(2),
      outputs,
    })
    expect(surrogate.coefficients[1]?.weight).toBeCloseTo(3, 12)
    expect(() =>
      fitLinearSurrogate({
        predict: linearModel(0, [1]).predict,
        rows: [Float64Array.of(1)],
        featureNames: ['a'],
      }),
    ).toThrow(/at least 2 rows/)
  })
})
