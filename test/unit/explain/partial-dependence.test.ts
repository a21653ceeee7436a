import { EvaluationCounter } from '../../../src/explain/model'
import { partialDependence, partialDependenceGrid } from '../../../src/explain/partial-dependence'
import { quantiles } from '../../../src/explain/stats'
import { friedman1, linearModel, uniformRows } from './closed-form'

describe('partial dependence grid (scikit-learn rules)', () => {
  it('spans the 5th to 95th percentile with 20 equally spaced points', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1)
    const grid = partialDependenceGrid(values)
    expect(grid).toHaveLength(20)
    expect(grid[0]).toBeCloseTo(5.41, 12)
    expect(grid[19]).toBeCloseTo(95.59, 12)
    expect((grid[1] as number) - (grid[0] as number)).toBeCloseTo((95.59 - 5.41) / 19, 12)
  })

  it('keeps the distinct levels of a discrete feature, outliers included', () => {
    expect(partialDependenceGrid([2, 0, 1, 1, 0, 2, 0, 9])).toEqual([0, 1, 2, 9])
    expect(partialDependenceGrid([1, 1, 1])).toEqual([1])
  })

  it('collapses to one point when the percentiles coincide', () => {
    const mostlyZero = [...new Array<number>(400).fill(0), ...Array.from({ length: 20 }, (_, i) => i + 1)]
    expect(quantiles(mostlyZero, [0.05, 0.95])).toEqual([0, 0])
    expect(partialDependenceGrid(mostlyZero)).toEqual([0])
  })
})

describe('partial dependence', () => {
  it('of a linear model is b0 + w_j g + sum_{k != j} w_k mean(x_k)', () => {
    const w = [2, -3, 0.5]
    const rows = uniformRows(200, 3, 'pd-linear')
    const means = [0, 1, 2].map((k) => rows.reduce((s, r) => s + (r[k] as number), 0) / rows.length)
    const pd = partialDependence({
      predict: linearModel(1, w).predict,
      rows,
      featureIndex: 1,
      featureName: 'x2',
    })
    expect(pd.feature).toBe('x2')
    expect(pd.grid).toHaveLength(20)
    pd.grid.forEach((g, k) => {
      const expected = 1 + 2 * (means[0] as number) - 3 * g + 0.5 * (means[2] as number)
      expect(Math.abs((pd.values[k] as number) - expected)).toBeLessThan(1e-12)
    })
  })

  it('of Friedman #1 shows the quadratic in x3, the line in x4 and a flat x6', () => {
    const rows = uniformRows(300, 10, 'pd-friedman')
    const counter = new EvaluationCounter(friedman1.predict)
    const at = (j: number) =>
      partialDependence({ predict: counter.predict, rows, featureIndex: j, featureName: `x${j + 1}` })
    const x3 = at(2)
    const x4 = at(3)
    const x6 = at(5)
    expect(counter.evaluations).toBe(3 * 20 * 300)
    // Differences between grid points cancel every other (additive) term exactly.
    x3.grid.forEach((g, k) => {
      const d = (x3.values[k] as number) - (x3.values[0] as number)
      expect(d).toBeCloseTo(20 * ((g - 0.5) ** 2 - ((x3.grid[0] as number) - 0.5) ** 2), 10)
    })
    x4.grid.forEach((g, k) => {
      expect((x4.values[k] as number) - (x4.values[0] as number)).toBeCloseTo(
        10 * (g - (x4.grid[0] as number)),
        10,
      )
    })
    expect(new Set(x6.values).size).toBe(1)
  })

  it('rejects an unknown column', () => {
    const rows = uniformRows(5, 2, 'bad')
    expect(() =>
      partialDependence({ predict: friedman1.predict, rows, featureIndex: 2, featureName: 'x3' }),
    ).toThrow(/column 2/)
  })
})
