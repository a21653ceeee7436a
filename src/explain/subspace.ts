/**
 * Principal angles between subspaces, to compare what a model learned with what generated the data (the
 * column space of a decoder's sensitivity matrix against the mixing matrix A of x = A v + noise).
 */
import { ExplainInputError } from './errors'

/** Residual norm, relative to the column's own norm, below which a column counts as linearly dependent. */
const DEPENDENCE_TOLERANCE = 1e-10

/**
 * Principal angles between the column spaces of `a` (d x p, given as d rows of p values) and `b` (d x q),
 * in degrees, ascending; min(p, q) of them. Both bases are orthonormalised by modified Gram-Schmidt (twice,
 * which is enough for orthogonality to rounding); then the cosines are the singular values of Qa' Qb and the
 * sines those of Qb - Qa (Qa' Qb), the part of the smaller space outside the larger (Knyazev and Argentati
 * 2002). Each angle is atan2(sine, cosine): cosines alone lose small angles (cos 1e-8 rounds to 1), sines
 * alone lose angles near 90 degrees. Singular values come from one-sided Jacobi rotations, accurate for
 * these small matrices. Throws when a basis has linearly dependent columns: dropping one silently would
 * change the number of angles.
 */
export function principalAngles(a: number[][], b: number[][]): number[] {
  if (a.length !== b.length) {
    throw new ExplainInputError(`a has ${a.length} rows and b has ${b.length}: both need one per dimension`)
  }
  const qa = orthonormalColumns(a, 'a')
  const qb = orthonormalColumns(b, 'b')
  // Angles are symmetric in the two spaces; take `small` as the one with fewer columns.
  const [large, small] = qa.length >= qb.length ? [qa, qb] : [qb, qa]
  const projections = small.map((s) => large.map((l) => dot(l, s)))
  const outside = small.map((s, c) => {
    const r = Float64Array.from(s)
    const coeffs = projections[c] as number[]
    large.forEach((l, k) => axpy(-(coeffs[k] as number), l, r))
    return r
  })
  const cosines = singularValues(projections.map((p) => Float64Array.from(p))).sort((x, y) => y - x)
  const sines = singularValues(outside).sort((x, y) => x - y)
  const angles: number[] = []
  for (let i = 0; i < small.length; i++) {
    const radians = Math.atan2(Math.min(1, sines[i] as number), Math.min(1, cosines[i] as number))
    angles.push((radians * 180) / Math.PI)
  }
  return angles.sort((x, y) => x - y)
}

/** The columns of `m` (rows of equal width), orthonormalised by modified Gram-Schmidt with reorthogonalisation. */
function orthonormalColumns(m: number[][], what: string): Float64Array[] {
  if (m.length === 0) throw new ExplainInputError(`${what} needs at least one row`)
  const width = (m[0] as number[]).length
  if (width === 0) throw new ExplainInputError(`${what} needs at least one column`)
  m.forEach((row, i) => {
    if (row.length !== width) {
      throw new ExplainInputError(`${what}[${i}] has ${row.length} values, expected ${width}`)
    }
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) throw new ExplainInputError(`${what}[${i}][${j}] is not a finite number`)
    })
  })
  if (width > m.length) {
    throw new ExplainInputError(`${what} has ${width} columns in ${m.length} dimensions: they are dependent`)
  }
  const q: Float64Array[] = []
  for (let c = 0; c < width; c++) {
    const v = Float64Array.from(m, (row) => row[c] as number)
    const norm = Math.sqrt(dot(v, v))
    for (let pass = 0; pass < 2; pass++) for (const u of q) axpy(-dot(u, v), u, v)
    const residual = Math.sqrt(dot(v, v))
    if (!(residual > DEPENDENCE_TOLERANCE * norm)) {
      throw new ExplainInputError(`column ${c} of ${what} is zero or a combination of the others`)
    }
    for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) / residual
    q.push(v)
  }
  return q
}

/**
 * Singular values of the matrix whose columns are `columns` (destroyed), by one-sided Jacobi (Hestenes):
 * rotate pairs of columns until all are orthogonal; the column norms are then the singular values.
 */
function singularValues(columns: Float64Array[]): number[] {
  const n = columns.length
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false
    for (let i = 0; i < n - 1; i++) {
      for (let j = i + 1; j < n; j++) {
        const ci = columns[i] as Float64Array
        const cj = columns[j] as Float64Array
        const alpha = dot(ci, ci)
        const beta = dot(cj, cj)
        const gamma = dot(ci, cj)
        if (Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue
        rotated = true
        const zeta = (beta - alpha) / (2 * gamma)
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta))
        const c = 1 / Math.sqrt(1 + t * t)
        const s = c * t
        for (let k = 0; k < ci.length; k++) {
          const x = ci[k] as number
          const y = cj[k] as number
          ci[k] = c * x - s * y
          cj[k] = s * x + c * y
        }
      }
    }
    if (!rotated) break
  }
  return columns.map((col) => Math.sqrt(dot(col, col)))
}

function dot(x: Float64Array, y: Float64Array): number {
  let s = 0
  for (let i = 0; i < x.length; i++) s += (x[i] as number) * (y[i] as number)
  return s
}

/** y += f x */
function axpy(f: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] = (y[i] as number) + f * (x[i] as number)
}
