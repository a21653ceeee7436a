import { gaussLegendre, unitIntervalRule } from '../../../src/explain/quadrature'

/** integral of x^k over [-1, 1]. */
const monomialIntegral = (k: number): number => (k % 2 === 1 ? 0 : 2 / (k + 1))

describe('Gauss-Legendre', () => {
  it('matches the tabulated 1, 2 and 3 point rules', () => {
    const one = gaussLegendre(1)
    expect(Array.from(one.nodes)).toEqual([0])
    expect(Array.from(one.weights)).toEqual([2])
    const two = gaussLegendre(2)
    expect(two.nodes[0]).toBeCloseTo(-1 / Math.sqrt(3), 15)
    expect(two.nodes[1]).toBeCloseTo(1 / Math.sqrt(3), 15)
    expect(two.weights[0]).toBeCloseTo(1, 15)
    const three = gaussLegendre(3)
    expect(three.nodes[0]).toBeCloseTo(-Math.sqrt(3 / 5), 15)
    expect(three.nodes[1]).toBe(0)
    expect(three.weights[0]).toBeCloseTo(5 / 9, 15)
    expect(three.weights[1]).toBeCloseTo(8 / 9, 15)
  })

  it.each([2, 5, 10, 20, 50, 64])('%i points integrate every polynomial of degree <= 2n-1 exactly', (n) => {
    const { nodes, weights } = gaussLegendre(n)
    for (let k = 0; k <= 2 * n - 1; k++) {
      let q = 0
      nodes.forEach((x, i) => (q += (weights[i] as number) * x ** k))
      expect(Math.abs(q - monomialIntegral(k))).toBeLessThan(1e-13)
    }
  })

  it.each([1, 2, 3, 5])('%i points miss degree 2n: the rule is no better than it should be', (n) => {
    const { nodes, weights } = gaussLegendre(n)
    let q = 0
    nodes.forEach((x, i) => (q += (weights[i] as number) * x ** (2 * n)))
    expect(Math.abs(q - monomialIntegral(2 * n))).toBeGreaterThan(1e-4)
  })

  it('has sorted, symmetric nodes inside (-1, 1)', () => {
    const { nodes, weights } = gaussLegendre(50)
    for (let i = 0; i < 50; i++) {
      expect(nodes[i]).toBeGreaterThan(-1)
      expect(nodes[i]).toBeLessThan(1)
      if (i > 0) expect(nodes[i]).toBeGreaterThan(nodes[i - 1] as number)
      expect(nodes[i]).toBe(-(nodes[49 - i] as number))
      expect(weights[i]).toBe(weights[49 - i])
    }
  })

  it('maps to [0, 1] with weights summing to 1', () => {
    const { nodes, weights } = unitIntervalRule('gauss-legendre', 50)
    expect(Array.from(weights).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14)
    expect(Math.min(...nodes)).toBeGreaterThan(0)
    expect(Math.max(...nodes)).toBeLessThan(1)
    // integral_0^1 a^7 da = 1/8 with far fewer points than 50.
    const four = unitIntervalRule('gauss-legendre', 4)
    let q = 0
    four.nodes.forEach((a, i) => (q += (four.weights[i] as number) * a ** 7))
    expect(q).toBeCloseTo(1 / 8, 15)
  })

  it('rejects a non-positive point count', () => {
    expect(() => gaussLegendre(0)).toThrow()
  })
})

describe('trapezoid rule', () => {
  it('uses both end points and is exact for linear integrands only', () => {
    const { nodes, weights } = unitIntervalRule('trapezoid', 5)
    expect(Array.from(nodes)).toEqual([0, 0.25, 0.5, 0.75, 1])
    expect(Array.from(weights)).toEqual([0.125, 0.25, 0.25, 0.25, 0.125])
    let linear = 0
    let quadratic = 0
    nodes.forEach((a, i) => {
      linear += (weights[i] as number) * (3 * a + 1)
      quadratic += (weights[i] as number) * a * a
    })
    expect(linear).toBeCloseTo(2.5, 15)
    // Error h^2/12 * (f'(1) - f'(0)) = (1/16)/12 * 2.
    expect(quadratic - 1 / 3).toBeCloseTo(1 / 96, 15)
  })

  it('needs at least two points', () => {
    expect(() => unitIntervalRule('trapezoid', 1)).toThrow()
  })
})
