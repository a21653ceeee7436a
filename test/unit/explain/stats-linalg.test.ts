import { leastSquares, leastSquaresMany } from '../../../src/explain/linalg'
import { ordinaryLeastSquares, ordinaryLeastSquaresMany } from '../../../src/explain/linear-surrogate'
import { EvaluationCounter } from '../../../src/explain/model'
import { createRng, permutation, sampleIndices } from '../../../src/explain/random'
import {
  logLossFromLogits,
  meanSquaredError,
  quantiles,
  rSquared,
  variance,
} from '../../../src/explain/stats'
import { uniformRows } from './closed-form'

describe('leastSquares (Householder QR)', () => {
  it('recovers an exact linear relation to rounding level', () => {
    const rows = uniformRows(50, 4, 'ls')
    const beta = [1.5, -2, 0.25, 7]
    const y = rows.map((r) => beta.reduce((s, b, j) => s + b * (r[j] as number), 0))
    const { coefficients, regularized } = leastSquares(rows, y, 4)
    expect(regularized).toBe(false)
    beta.forEach((b, j) => expect(Math.abs((coefficients[j] as number) - b)).toBeLessThan(1e-12))
  })

  it('solves the weighted problem: the weights decide between inconsistent equations', () => {
    // y = c on three rows with values 0, 0, 3: unweighted mean 1, weighted (1, 1, 4) mean 2.
    const rows = [[1], [1], [1]]
    expect(leastSquares(rows, [0, 0, 3], 1).coefficients[0]).toBeCloseTo(1, 14)
    expect(leastSquares(rows, [0, 0, 3], 1, [1, 1, 4]).coefficients[0]).toBeCloseTo(2, 14)
  })

  it('falls back to a tiny ridge on dependent columns: zero column gets 0, duplicates share', () => {
    const base = uniformRows(40, 1, 'dup')
    const rows = base.map((r) => [r[0] as number, r[0] as number, 0])
    const y = base.map((r) => 4 * (r[0] as number))
    const { coefficients, regularized } = leastSquares(rows, y, 3)
    expect(regularized).toBe(true)
    expect(coefficients[0]).toBeCloseTo(2, 6)
    expect(coefficients[1]).toBeCloseTo(2, 6)
    expect(coefficients[2]).toBe(0)
  })

  it('handles fewer rows than columns with the minimum-norm answer', () => {
    const { coefficients } = leastSquares([[1, 1]], [2], 2)
    expect(coefficients[0]).toBeCloseTo(1, 6)
    expect(coefficients[1]).toBeCloseTo(1, 6)
  })
})

describe('leastSquaresMany and ordinaryLeastSquaresMany (one factorisation, several targets)', () => {
  const rows = uniformRows(40, 3, 'many')
  const targets = [0, 1, 2, 3].map((t) =>
    rows.map((r, i) => (t + 1) * (r[0] as number) - t * (r[2] as number) + Math.sin(i * (t + 1))),
  )

  it('gives each target exactly (bit for bit) the single-target solution, full rank or not', () => {
    const weights = rows.map((_, i) => 1 + (i % 3))
    const many = leastSquaresMany(rows, targets, 3, weights)
    targets.forEach((y, t) => expect(many[t]).toEqual(leastSquares(rows, y, 3, weights)))
    // Dependent columns (the third a copy of the first): the ridge fallback, for every target alike.
    const dependent = rows.map((r) => Float64Array.from([r[0] as number, r[1] as number, r[0] as number]))
    const fallback = leastSquaresMany(dependent, targets, 3)
    expect(fallback.every((s) => s.regularized)).toBe(true)
    targets.forEach((y, t) => expect(fallback[t]).toEqual(leastSquares(dependent, y, 3)))
  })

  it('fits every target column as ordinaryLeastSquares fits it alone, intercepts included', () => {
    const many = ordinaryLeastSquaresMany(rows, targets, 3)
    expect(many).toHaveLength(targets.length)
    targets.forEach((y, t) => expect(many[t]).toEqual(ordinaryLeastSquares(rows, y, 3)))
    // Not one fit repeated: the targets differ, so must the weights.
    expect(many[1]!.weights[0]).not.toBeCloseTo(many[0]!.weights[0]!, 3)
  })
})

describe('statistics', () => {
  it('R^2 is 1 - SSE/SST, negative for a fit worse than the mean, defined for constant targets', () => {
    expect(rSquared([1, 2, 3], [1, 2, 3])).toBe(1)
    expect(rSquared([1, 2, 3], [2, 2, 2])).toBe(0)
    expect(rSquared([1, 2, 3], [3, 2, 1])).toBeCloseTo(-3, 14)
    // A squared correlation would say 1 here; R^2 sees the offset.
    expect(rSquared([1, 2, 3], [2, 3, 4])).toBeCloseTo(1 - 3 / 2, 14)
    expect(rSquared([5, 5, 5], [5, 5, 5])).toBe(1)
    expect(rSquared([5, 5, 5], [5, 6, 5])).toBe(0)
  })

  it('quantiles use scipy mquantiles plotting positions (alphap = betap = 0.4)', () => {
    const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1)
    const [lo, hi] = quantiles(oneToHundred, [0.05, 0.95])
    expect(lo).toBeCloseTo(5.41, 12)
    expect(hi).toBeCloseTo(95.59, 12)
    expect(quantiles([3, 1, 2], [0.5])[0]).toBeCloseTo(2, 14)
  })

  it('log-loss on logits is the binary cross-entropy and stays finite for huge logits', () => {
    const p = 1 / (1 + Math.exp(-0.3))
    expect(logLossFromLogits([1, 0], [0.3, 0.3])).toBeCloseTo(-(Math.log(p) + Math.log(1 - p)) / 2, 14)
    expect(logLossFromLogits([1], [1000])).toBe(0)
    expect(logLossFromLogits([0], [1000])).toBeCloseTo(1000, 10)
    expect(meanSquaredError([1, 2], [0, 4])).toBe(2.5)
    expect(variance([1, 2, 3, 4])).toBe(1.25)
  })

  it('seeded sampling is reproducible and a smaller sample is a prefix of a larger one', () => {
    const a = permutation(100, createRng(7, 'x'))
    const b = permutation(100, createRng(7, 'x'))
    expect(Array.from(a)).toEqual(Array.from(b))
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(Array.from(permutation(100, createRng(8, 'x')))).not.toEqual(Array.from(a))
    const small = sampleIndices(100, 5, createRng(1, 'y'))
    const large = sampleIndices(100, 20, createRng(1, 'y'))
    expect(large.slice(0, 5)).toEqual(small)
  })
})

describe('EvaluationCounter', () => {
  it('counts rows, splits batches and checks output length', () => {
    const calls: number[] = []
    const counter = new EvaluationCounter(
      (rows) => {
        calls.push(rows.length)
        return Float64Array.from(rows, (r) => (r[0] as number) * 2)
      },
      (rows) => rows.map(() => Float64Array.of(2)),
      4,
    )
    const out = counter.predict(Array.from({ length: 10 }, (_, i) => Float64Array.of(i)))
    expect(Array.from(out)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18])
    expect(calls).toEqual([4, 4, 2])
    counter.gradient([Float64Array.of(1), Float64Array.of(2)])
    expect(counter.predictRows).toBe(10)
    expect(counter.gradientRows).toBe(2)
    expect(counter.evaluations).toBe(12)
    const broken = new EvaluationCounter(() => new Float64Array(1))
    expect(() => broken.predict([Float64Array.of(1), Float64Array.of(2)])).toThrow(/1 values for 2 rows/)
    expect(() => broken.gradient([Float64Array.of(1)])).toThrow(/gradient/)
  })
})
