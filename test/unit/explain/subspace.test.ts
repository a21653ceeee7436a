import { ExplainInputError } from '../../../src/explain/errors'
import { createRng } from '../../../src/explain/random'
import { principalAngles } from '../../../src/explain/subspace'

const deg = Math.PI / 180

/** The d x p matrix whose columns are `columns`. */
const fromColumns = (columns: number[][]): number[][] =>
  (columns[0] as number[]).map((_, i) => columns.map((c) => c[i] as number))

const multiply = (a: number[][], b: number[][]): number[][] =>
  a.map((row) =>
    (b[0] as number[]).map((_, j) => row.reduce((s, v, k) => s + v * ((b[k] as number[])[j] as number), 0)),
  )

function randomMatrix(rows: number, cols: number, seed: string): number[][] {
  const rng = createRng(seed, 'subspace-test')
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => 2 * rng() - 1))
}

describe('principalAngles', () => {
  it('identical spaces: every angle 0', () => {
    const a = randomMatrix(9, 3, 'same')
    const angles = principalAngles(a, a)
    expect(angles).toHaveLength(3)
    angles.forEach((t) => expect(t).toBeLessThan(1e-10))
  })

  it('orthogonal spaces: every angle 90', () => {
    const a = fromColumns([
      [1, 0, 0, 0],
      [0, 1, 0, 0],
    ])
    const b = fromColumns([
      [0, 0, 1, 0],
      [0, 0, 0, 2],
    ])
    principalAngles(a, b).forEach((t) => expect(Math.abs(t - 90)).toBeLessThan(1e-12))
  })

  it('a 30-degree rotation in a plane gives 30, beside a shared direction at 0', () => {
    expect(
      principalAngles(
        fromColumns([[1, 0, 0]]),
        fromColumns([[Math.cos(30 * deg), Math.sin(30 * deg), 0]]),
      )[0],
    ).toBeCloseTo(30, 12)
    const a = fromColumns([
      [1, 0, 0, 0],
      [0, 1, 0, 0],
    ])
    const b = fromColumns([
      [0, 3, 0, 0],
      [0, 0, Math.cos(30 * deg), Math.sin(30 * deg)],
    ])
    // The plane's own direction e1 is rotated towards e3 by 30 degrees; e2 is shared.
    const rotated = fromColumns([
      [Math.cos(30 * deg), 0, Math.sin(30 * deg), 0],
      [0, 1, 0, 0],
    ])
    const angles = principalAngles(a, rotated)
    expect(angles[0]).toBeLessThan(1e-12)
    expect(angles[1]).toBeCloseTo(30, 12)
    // e1 is orthogonal to span(e2, e3 cos 30 + e4 sin 30); e2 is shared.
    const [shared, orthogonal] = principalAngles(a, b) as [number, number]
    expect(shared).toBeLessThan(1e-12)
    expect(orthogonal).toBeCloseTo(90, 12)
  })

  it('small angles are accurate, not lost to cos ~ 1', () => {
    const t = 1e-9
    const angles = principalAngles(fromColumns([[1, 0, 0]]), fromColumns([[Math.cos(t), Math.sin(t), 0]]))
    expect((angles[0] as number) * deg).toBeCloseTo(t, 20)
    expect(Math.abs((angles[0] as number) * deg - t) / t).toBeLessThan(1e-6)
  })

  it('a space and a random invertible recombination of its columns: ~0; the order of the spaces does not matter', () => {
    const a = randomMatrix(9, 3, 'space')
    const mix = randomMatrix(3, 3, 'mix')
    const b = multiply(a, mix)
    principalAngles(a, b).forEach((t) => expect(t).toBeLessThan(1e-8))
    // A perturbed copy: angles above 0, the same whichever space comes first.
    const noisy = b.map((row, i) => row.map((v, j) => v + 0.05 * Math.sin(7 * i + 3 * j)))
    const one = principalAngles(a, noisy)
    const other = principalAngles(noisy, a)
    expect(one[2]).toBeGreaterThan(0.5)
    one.forEach((t, i) => expect(t).toBeCloseTo(other[i] as number, 10))
  })

  it('spaces of different dimension give min(p, q) angles, ascending', () => {
    const a = fromColumns([
      [1, 0, 0],
      [0, 1, 0],
    ])
    const b = fromColumns([[0, 1, 1]])
    const angles = principalAngles(a, b)
    expect(angles).toHaveLength(1)
    expect(angles[0]).toBeCloseTo(45, 12)
    const wide = principalAngles(
      fromColumns([
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
      ]),
      fromColumns([
        [0, 0, 0, 1],
        [1, 1, 0, 0],
      ]),
    )
    expect(wide[0]).toBeLessThan(1e-12)
    expect(wide[1]).toBeCloseTo(90, 12)
  })

  it('rejects mismatched, dependent or non-finite bases', () => {
    const a = randomMatrix(4, 2, 'reject')
    expect(() => principalAngles(a, randomMatrix(5, 2, 'other'))).toThrow(ExplainInputError)
    expect(() =>
      principalAngles(a, [
        [1, 2],
        [2, 4],
        [3, 6],
        [4, 8],
      ]),
    ).toThrow(/combination/)
    expect(() => principalAngles(a, fromColumns([[0, 0, 0, 0]]))).toThrow(/zero/)
    expect(() => principalAngles(a, [[1], [Number.NaN], [0], [0]])).toThrow(/finite/)
    expect(() => principalAngles([], [])).toThrow(ExplainInputError)
    expect(() => principalAngles([[1, 2]], [[1]])).toThrow(/dependent/)
  })
})
