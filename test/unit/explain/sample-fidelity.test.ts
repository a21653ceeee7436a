import { ExplainInputError } from '../../../src/explain/errors'
import { gaussLegendre } from '../../../src/explain/quadrature'
import { createRng, type Rng } from '../../../src/explain/random'
import { ksStatistic, pearson, sampleFidelity } from '../../../src/explain/sample-fidelity'

/** A standard normal draw by Box-Muller. */
function normal(rng: Rng): number {
  const u = 1 - rng()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng())
}

/** Phi(x) for x >= 0: 1/2 plus the integral of the density over [0, x] by 40-point Gauss-Legendre. */
function normalCdf(x: number): number {
  const { nodes, weights } = gaussLegendre(40)
  let integral = 0
  nodes.forEach((t, k) => {
    const u = (x / 2) * (t + 1)
    integral += (x / 2) * weights[k]! * Math.exp((-u * u) / 2)
  })
  return 0.5 + integral / Math.sqrt(2 * Math.PI)
}

const rowsOf = (...columns: number[][]): Float64Array[] =>
  columns[0]!.map((_, i) => Float64Array.from(columns, (c) => c[i]!))

describe('ksStatistic', () => {
  it('is exact on the empirical CDFs with ties inside and across the samples', () => {
    // F_a steps to 1/4, 3/4, 1 at 1, 2, 3; F_b to 3/4, 1 at 2, 4. Gaps 1/4, 0, 1/4, 0: sup 1/4. Stepping
    // one copy of 2 at a time would report a spurious 1/2.
    expect(ksStatistic([1, 2, 2, 3], [2, 2, 2, 4])).toBe(0.25)
    expect(ksStatistic([2, 2, 2, 4], [1, 2, 2, 3])).toBe(0.25)
    // At 0: 2/3 against 1/3.
    expect(ksStatistic([0, 0, 1], [1, 0, 1])).toBeCloseTo(1 / 3, 15)
    expect(ksStatistic([1, 2], [3, 4])).toBe(1)
    expect(ksStatistic([5, 5, 5], [5])).toBe(0)
    // Different sizes: gaps 1/3 at 0, 1/6 at 1, then 1 - 1/3 = 2/3 at 2, the largest.
    expect(ksStatistic([1, 2], [0, 3, 4])).toBeCloseTo(2 / 3, 15)
  })

  it('rejects an empty sample', () => {
    expect(() => ksStatistic([], [1])).toThrow(ExplainInputError)
  })
})

describe('pearson', () => {
  it('matches a correlation worked by hand and is null for a constant column', () => {
    // Deviations (-1.5, -0.5, 0.5, 1.5) and (-1.5, 0.5, -0.5, 1.5): 4 / 5.
    expect(pearson([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 14)
    expect(pearson([1, 2, 3], [9, 7, 5])).toBeCloseTo(-1, 14)
    expect(pearson([1, 2, 3], [4, 4, 4])).toBeNull()
  })
})

describe('sampleFidelity', () => {
  it('scores identical sets 1 and 1', () => {
    const rng = createRng(1, 'same')
    const rows = Array.from({ length: 200 }, () => {
      const a = normal(rng)
      return Float64Array.of(a, a + normal(rng), rng())
    })
    const r = sampleFidelity(rows, rows, ['a', 'b', 'c'])
    expect(r.ksComplement).toBe(1)
    expect(r.correlationSimilarity).toBeCloseTo(1, 14)
    expect(r.pairs).toBe(3)
    expect(r.features.map((f) => f.feature)).toEqual(['a', 'b', 'c'])
  })

  it('N(0, 1) samples against N(3, 1) data: KSComplement 1 - (2 Phi(1.5) - 1)', () => {
    // sup_x |Phi(x) - Phi(x - 3)| is reached half-way, at x = 1.5.
    const phi = normalCdf(1.5)
    expect(phi).toBeCloseTo(0.9331927987, 9)
    const expected = 1 - (2 * phi - 1)
    const rng = createRng(2, 'shift')
    const n = 20000
    const samples = Array.from({ length: n }, () => Float64Array.of(normal(rng)))
    const real = Array.from({ length: n }, () => Float64Array.of(3 + normal(rng)))
    const r = sampleFidelity(samples, real, ['x'])
    // The gap of the empirical CDFs at 1.5 has sd sqrt(2 Phi(1.5) (1 - Phi(1.5)) / n) = 0.0025.
    expect(Math.abs(r.features[0]!.ksComplement - expected)).toBeLessThan(0.01)
    expect(r.ksComplement).toBe(r.features[0]!.ksComplement)
    // One feature: no pair to correlate.
    expect(r.correlationSimilarity).toBeNull()
    expect(r.pairs).toBe(0)
  })

  it('perfectly correlated samples against anticorrelated data score 0; a known gap scores by hand', () => {
    const x = [1, 2, 3, 4, 5]
    const samples = rowsOf(
      x,
      x.map((v) => 2 * v + 1),
    )
    const real = rowsOf(
      x,
      x.map((v) => -v),
    )
    expect(sampleFidelity(samples, real, ['x', 'y']).correlationSimilarity).toBeCloseTo(0, 14)
    // rho 0.8 against rho 1: 1 - 0.2 / 2.
    const r = sampleFidelity(rowsOf([1, 2, 3, 4], [1, 3, 2, 4]), rowsOf([1, 2, 3], [2, 4, 6]), ['x', 'y'])
    expect(r.correlationSimilarity).toBeCloseTo(0.9, 14)
    expect(r.samples).toBe(4)
    expect(r.rows).toBe(3)
  })

  it('skips pairs with a column constant in either set, null when none is left', () => {
    const samples = rowsOf([1, 2, 3, 4], [2, 4, 6, 8], [7, 7, 7, 7])
    const real = rowsOf([1, 2, 3, 4], [8, 6, 4, 2], [1, 2, 3, 8])
    const r = sampleFidelity(samples, real, ['a', 'b', 'c'])
    // Only (a, b) is left: 1 against -1.
    expect(r.pairs).toBe(1)
    expect(r.correlationSimilarity).toBeCloseTo(0, 14)
    // The constant column still has a KS score: at 3 the data's CDF is 3/4 and the samples' (all 7) is 0.
    expect(r.features[2]!.ksComplement).toBeCloseTo(1 - 0.75, 14)
    const none = sampleFidelity(rowsOf([1, 1], [2, 3]), rowsOf([1, 2], [5, 5]), ['a', 'b'])
    expect(none.correlationSimilarity).toBeNull()
    expect(none.pairs).toBe(0)
  })

  it('rejects inconsistent input with ExplainInputError', () => {
    const rows = rowsOf([1, 2], [3, 4])
    expect(() => sampleFidelity([], rows, ['a', 'b'])).toThrow(/samples has no rows/)
    expect(() => sampleFidelity(rows, rows, ['a'])).toThrow(/expected 1/)
    expect(() => sampleFidelity(rows, [Float64Array.of(1, Number.POSITIVE_INFINITY)], ['a', 'b'])).toThrow(
      /finite/,
    )
    expect(() => sampleFidelity(rows, rows, [])).toThrow(ExplainInputError)
  })
})
