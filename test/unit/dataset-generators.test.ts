import { buildContent } from '../../src/modules/dataset/dataset.content'
import { DatasetGenerator, Task } from '../../src/modules/dataset/dataset.enums'
import {
  generate,
  GeneratedData,
  latentLinearMatrix,
  renderSprite,
  SPRITES,
} from '../../src/modules/dataset/generators'

const factor = (d: GeneratedData, name: string): Float64Array => {
  const found = d.factors.find((f) => f.name === name)
  if (!found) throw new Error(`no factor ${name}`)
  return found.values
}

const distinct = (values: ArrayLike<number>) => [...new Set(Array.from(values))].sort((a, b) => a - b)

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length
  let ma = 0
  let mb = 0
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n
    mb += b[i]! / n
  }
  let sab = 0
  let saa = 0
  let sbb = 0
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb)
    saa += (a[i]! - ma) ** 2
    sbb += (b[i]! - mb) ** 2
  }
  return sab / Math.sqrt(saa * sbb)
}

/** Pearson's chi-square statistic of the contingency table of two discrete columns. */
function chiSquare(a: ArrayLike<number>, b: ArrayLike<number>): { statistic: number; df: number } {
  const av = distinct(a)
  const bv = distinct(b)
  const table = av.map(() => bv.map(() => 0))
  for (let i = 0; i < a.length; i++) table[av.indexOf(a[i]!)]![bv.indexOf(b[i]!)]!++
  const n = a.length
  const rows = table.map((r) => r.reduce((s, x) => s + x, 0))
  const cols = bv.map((_, j) => table.reduce((s, r) => s + r[j]!, 0))
  let statistic = 0
  table.forEach((r, i) =>
    r.forEach((observed, j) => {
      const expected = (rows[i]! * cols[j]!) / n
      statistic += (observed - expected) ** 2 / expected
    }),
  )
  return { statistic, df: (av.length - 1) * (bv.length - 1) }
}

/** Pixel mass and centroid (x from the left edge, y from the top, in pixels) of a SIZE x SIZE image. */
function moments(image: ArrayLike<number>): { mass: number; x: number; y: number } {
  let mass = 0
  let x = 0
  let y = 0
  for (let r = 0; r < SPRITES.size; r++) {
    for (let c = 0; c < SPRITES.size; c++) {
      const v = image[r * SPRITES.size + c]!
      mass += v
      x += v * (c + 0.5)
      y += v * (r + 0.5)
    }
  }
  return { mass, x: x / mass, y: y / mass }
}

/** Exact area of each shape at a scale, in square pixels. */
function area(shape: number, scale: number): number {
  const h = SPRITES.halfExtent * scale
  return [4 * h * h, Math.PI * SPRITES.ellipseAspect * h * h, 2 * h * h][shape]!
}

describe('SPRITES', () => {
  const rows = 3000
  const d = generate(DatasetGenerator.SPRITES, rows, 0, 11)

  it('is deterministic per seed', () => {
    expect(generate(DatasetGenerator.SPRITES, 50, 0, 11)).toEqual(
      generate(DatasetGenerator.SPRITES, 50, 0, 11),
    )
    const other = generate(DatasetGenerator.SPRITES, 50, 0, 12)
    expect(other.rows).not.toEqual(generate(DatasetGenerator.SPRITES, 50, 0, 11).rows)
    // The first rows do not depend on how many rows follow.
    expect(generate(DatasetGenerator.SPRITES, 50, 0, 11).rows).toEqual(d.rows.slice(0, 50))
  })

  it('is an UNSUPERVISED 16x16 image dataset with four factors, and valid content', () => {
    expect(d.task).toBe(Task.UNSUPERVISED)
    expect(d.imageShape).toEqual([16, 16])
    expect(d.featureNames).toHaveLength(256)
    expect(d.featureNames.slice(0, 2)).toEqual(['p_0_0', 'p_0_1'])
    expect(d.featureNames[16]).toBe('p_1_0')
    expect(d.featureNames[255]).toBe('p_15_15')
    expect(d.targets).toHaveLength(0)
    expect(d.factors.map((f) => f.name)).toEqual(['shape', 'scale', 'posX', 'posY'])
    const content = buildContent({
      ...d,
      targetName: null,
      targets: null,
      limits: { maxRows: rows, maxCells: rows * 260 },
    })
    expect(content.imageShape).toEqual([16, 16])
    expect(content.factors).toHaveLength(rows * 4)
  })

  it('has pixels in [0, 1], every image lit, and anti-aliased edges', () => {
    // One expect per statistic: an expect per pixel costs minutes.
    let min = Infinity
    let max = -Infinity
    let fewestLit = Infinity
    let partial = 0
    for (const image of d.rows) {
      expect(image).toHaveLength(256)
      let lit = 0
      for (const v of image) {
        min = Math.min(min, v)
        max = Math.max(max, v)
        if (v > 0) lit++
        if (v > 0 && v < 1) partial++
      }
      fewestLit = Math.min(fewestLit, lit)
    }
    expect(min).toBe(0)
    expect(max).toBe(1)
    expect(fewestLit).toBeGreaterThan(3)
    expect(partial).toBeGreaterThan(rows)
  })

  it('draws each factor over all its values, uniformly and independently', () => {
    expect(distinct(factor(d, 'shape'))).toEqual([0, 1, 2])
    expect(distinct(factor(d, 'scale'))).toEqual([0.5, 0.6, 0.7, 0.8, 0.9, 1])
    const positions = Array.from({ length: 16 }, (_, i) => i / 15)
    expect(distinct(factor(d, 'posX'))).toEqual(positions)
    expect(distinct(factor(d, 'posY'))).toEqual(positions)
    // Uniform: no level far from its expected count (3000/16 = 187.5, sd about 13).
    for (const name of ['shape', 'scale', 'posX', 'posY']) {
      const values = Array.from(factor(d, name))
      const levels = distinct(values)
      for (const level of levels) {
        const count = values.filter((v) => v === level).length
        expect(Math.abs(count - rows / levels.length)).toBeLessThan(5 * Math.sqrt(rows / levels.length))
      }
    }
    // Independent: every pair uncorrelated and its contingency table unremarkable (chi-square below
    // its 99.9% quantile, which is at most df + 4.5 sqrt(2 df) for these df).
    const names = ['shape', 'scale', 'posX', 'posY']
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) {
        const a = factor(d, names[i]!)
        const b = factor(d, names[j]!)
        expect(Math.abs(correlation(a, b))).toBeLessThan(0.07)
        const { statistic, df } = chiSquare(a, b)
        expect(statistic).toBeLessThan(df + 4.5 * Math.sqrt(2 * df))
      }
    }
  })

  it('shows a shape whose pixel centroid follows posX and posY', () => {
    const shape = factor(d, 'shape')
    const scale = factor(d, 'scale')
    const posX = factor(d, 'posX')
    const posY = factor(d, 'posY')
    const span = SPRITES.size - 2 * SPRITES.halfExtent
    let worst = 0
    d.rows.forEach((image, i) => {
      const m = moments(image)
      // The triangle points up: its centroid is a third of its half-height below its box's centre.
      const drop = shape[i] === 2 ? (SPRITES.halfExtent * scale[i]!) / 3 : 0
      worst = Math.max(
        worst,
        Math.abs(m.x - (SPRITES.halfExtent + span * posX[i]!)),
        Math.abs(m.y - (SPRITES.halfExtent + span * posY[i]! + drop)),
      )
    })
    expect(worst).toBeLessThan(0.1)
    // And the centroid really moves: from posX 0 to 1 it travels 8 pixels.
    const left = moments(renderSprite(1, 0.7, 0, 0.5))
    const right = moments(renderSprite(1, 0.7, 1, 0.5))
    expect(right.x - left.x).toBeCloseTo(8, 1)
    expect(right.y).toBeCloseTo(left.y, 10)
  })

  it('grows the lit area with scale, as the area of the shape, never clipped', () => {
    for (let shape = 0; shape < 3; shape++) {
      for (const [posX, posY] of [
        [0, 0],
        [1, 1],
        [0.4, 0.6],
      ] as const) {
        const masses = SPRITES.scales.map((s) => moments(renderSprite(shape, s, posX, posY)).mass)
        for (let i = 1; i < masses.length; i++) expect(masses[i]!).toBeGreaterThan(masses[i - 1]!)
        // Even at the corners the whole shape is there: the mass is its area (anti-aliasing error < 5%).
        SPRITES.scales.forEach((s, i) => {
          expect(Math.abs(masses[i]! - area(shape, s)) / area(shape, s)).toBeLessThan(0.05)
        })
      }
    }
    // The full-size square at the top left fills exactly the 8x8 pixels of the corner.
    const square = renderSprite(0, 1, 0, 0)
    for (let r = 0; r < 16; r++) {
      for (let c = 0; c < 16; c++) expect(square[r * 16 + c]).toBe(r < 8 && c < 8 ? 1 : 0)
    }
  })

  it('tells its shapes apart: the ellipse is wider than high, the triangle is heavier at the bottom', () => {
    const spread = (image: Float64Array, axis: 'x' | 'y') => {
      const m = moments(image)
      let s = 0
      for (let r = 0; r < 16; r++) {
        for (let c = 0; c < 16; c++) {
          const at = axis === 'x' ? c + 0.5 - m.x : r + 0.5 - m.y
          s += image[r * 16 + c]! * at * at
        }
      }
      return s / m.mass
    }
    const square = renderSprite(0, 1, 0.5, 0.5)
    const ellipse = renderSprite(1, 1, 0.5, 0.5)
    const triangle = renderSprite(2, 1, 0.5, 0.5)
    expect(spread(square, 'x')).toBeCloseTo(spread(square, 'y'), 6)
    expect(spread(ellipse, 'x')).toBeGreaterThan(2 * spread(ellipse, 'y'))
    const rowMass = (image: Float64Array, r: number) =>
      image.slice(r * 16, r * 16 + 16).reduce((s, v) => s + v, 0)
    // Centre at 8: the box spans rows 4..11; the triangle widens downwards.
    for (let r = 5; r < 12; r++) expect(rowMass(triangle, r)).toBeGreaterThan(rowMass(triangle, r - 1))
  })
})

/** Solves the k x k system M b = y (Gaussian elimination with partial pivoting). */
function solve(m: number[][], y: number[]): number[] {
  const k = y.length
  const a = m.map((row, i) => [...row, y[i]!])
  for (let c = 0; c < k; c++) {
    let pivot = c
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[pivot]![c]!)) pivot = r
    ;[a[c], a[pivot]] = [a[pivot]!, a[c]!]
    for (let r = 0; r < k; r++) {
      if (r === c) continue
      const f = a[r]![c]! / a[c]![c]!
      for (let j = c; j <= k; j++) a[r]![j]! -= f * a[c]![j]!
    }
  }
  return a.map((row, i) => row[k]! / row[i]!)
}

describe('LATENT_LINEAR', () => {
  it.each([
    [2, 8],
    [3, 9],
    [3, 10],
    [3, 11],
    [4, 4],
    [1, 5],
    [5, 7],
    [6, 13],
    [7, 64],
    [64, 1024],
    [64, 100],
  ])('builds a unit-norm tight frame A (d x k) for k = %i, d = %i', (k, d) => {
    const a = latentLinearMatrix(5, k, d)
    expect(a).toHaveLength(d)
    for (const row of a) {
      expect(row).toHaveLength(k)
      expect(Math.hypot(...row)).toBeCloseTo(1, 12)
    }
    let worst = 0
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        const gram = a.reduce((s, row) => s + row[i]! * row[j]!, 0)
        worst = Math.max(worst, Math.abs(gram - (i === j ? d / k : 0)))
      }
    }
    expect(worst).toBeLessThan(1e-10)
  })

  it('derives A from the seed alone', () => {
    expect(latentLinearMatrix(5, 3, 10)).toEqual(latentLinearMatrix(5, 3, 10))
    expect(latentLinearMatrix(6, 3, 10)).not.toEqual(latentLinearMatrix(5, 3, 10))
    // A random rotation, not the identity: the first block is not axis-aligned.
    const a = latentLinearMatrix(5, 3, 9)
    expect(Math.max(...a.slice(0, 3).flat().map(Math.abs))).toBeLessThan(0.999)
    expect(() => latentLinearMatrix(1, 3, 2)).toThrow(RangeError)
  })

  it('defaults to 2 factors in 8 features, and records A', () => {
    const d = generate(DatasetGenerator.LATENT_LINEAR, 10, 0, 3)
    expect(d.task).toBe(Task.UNSUPERVISED)
    expect(d.featureNames).toEqual(['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8'])
    expect(d.factors.map((f) => f.name)).toEqual(['v1', 'v2'])
    expect(d.targets).toHaveLength(0)
    expect(d.imageShape).toBeNull()
    expect(d.parameters).toEqual({ latents: 2, features: 8, matrix: latentLinearMatrix(3, 2, 8) })
  })

  it('without noise, features are exactly A v; factors are uniform with unit variance', () => {
    const k = 3
    const features = 10
    const rows = 4000
    const d = generate(DatasetGenerator.LATENT_LINEAR, rows, 0, 21, { latents: k, features })
    const a = latentLinearMatrix(21, k, features)
    let worst = 0
    d.rows.forEach((x, i) => {
      a.forEach((row, f) => {
        const expected = row.reduce((s, w, j) => s + w * d.factors[j]!.values[i]!, 0)
        worst = Math.max(worst, Math.abs(x[f]! - expected))
      })
    })
    expect(worst).toBeLessThan(1e-12)
    for (const { values } of d.factors) {
      const mean = values.reduce((s, v) => s + v, 0) / rows
      const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / rows
      expect(Math.abs(mean)).toBeLessThan(0.05)
      expect(variance).toBeCloseTo(1, 1)
      expect(Math.min(...values)).toBeGreaterThanOrEqual(-Math.sqrt(3))
      expect(Math.max(...values)).toBeLessThanOrEqual(Math.sqrt(3))
      expect(Math.min(...values)).toBeLessThan(-1.7)
      expect(Math.max(...values)).toBeGreaterThan(1.7)
    }
    // Each feature has unit variance: the rows of A have norm 1.
    for (let f = 0; f < features; f++) {
      const column = d.rows.map((x) => x[f]!)
      const mean = column.reduce((s, v) => s + v, 0) / rows
      expect(column.reduce((s, v) => s + (v - mean) ** 2, 0) / rows).toBeCloseTo(1, 1)
    }
    // The factors are independent of one another.
    expect(Math.abs(correlation(d.factors[0]!.values, d.factors[1]!.values))).toBeLessThan(0.06)
  })

  it('with noise, regressing the features on the stored factors recovers A and the noise level', () => {
    const k = 3
    const features = 7
    const rows = 5000
    const noise = 0.3
    const d = generate(DatasetGenerator.LATENT_LINEAR, rows, noise, 4, { latents: k, features })
    const a = latentLinearMatrix(4, k, features)
    const v = (i: number, j: number) => d.factors[j]!.values[i]!
    const vtv = Array.from({ length: k }, (_, p) =>
      Array.from({ length: k }, (_, q) => d.rows.reduce((s, _x, i) => s + v(i, p) * v(i, q), 0)),
    )
    for (let f = 0; f < features; f++) {
      const vtx = Array.from({ length: k }, (_, p) => d.rows.reduce((s, x, i) => s + v(i, p) * x[f]!, 0))
      const b = solve(vtv, vtx)
      b.forEach((bj, j) => expect(Math.abs(bj - a[f]![j]!)).toBeLessThan(0.03))
      const residual = d.rows.map((x, i) => x[f]! - b.reduce((s, bj, j) => s + bj * v(i, j), 0))
      const sd = Math.sqrt(residual.reduce((s, r) => s + r * r, 0) / (rows - k))
      expect(sd).toBeGreaterThan(noise * 0.95)
      expect(sd).toBeLessThan(noise * 1.05)
    }
  })
})
