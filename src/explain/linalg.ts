/**
 * A small, dependency-free least-squares solver: Householder QR, which never forms X'X and so loses no
 * precision to squaring the condition number. Problems here are small (p <= a few hundred columns).
 */

/** Relative size of a diagonal entry of R below which the columns are treated as linearly dependent. */
const RANK_TOLERANCE = 1e-10

/** Ridge added, relative to the largest squared column norm, when the columns are linearly dependent. */
const FALLBACK_RIDGE = 1e-10

/** Result of {@link leastSquares}. */
export interface LeastSquaresSolution {
  coefficients: Float64Array
  /** True when the columns were linearly dependent and the tiny ridge fallback was used. */
  regularized: boolean
}

/**
 * Minimises sum_i w_i (b_i - a_i . x)^2 over x, where `a` holds the n rows of the design (each of length p).
 * Full-rank problems are solved exactly by QR. For rank-deficient designs (a constant column, duplicated
 * columns, fewer rows than columns) a ridge of 1e-10 times the largest squared column norm is added, which
 * returns the minimum-norm solution to within that relative size: a zero column gets a zero coefficient and
 * duplicated columns share their effect equally.
 */
export function leastSquares(
  a: readonly ArrayLike<number>[],
  b: ArrayLike<number>,
  p: number,
  weights?: ArrayLike<number>,
): LeastSquaresSolution {
  return leastSquaresMany(a, [b], p, weights)[0] as LeastSquaresSolution
}

/**
 * {@link leastSquares} for several right-hand sides on one design: the design is factorised once and each
 * reflection applied to every right-hand side, so each solution is exactly (bit for bit) the one
 * `leastSquares` gives for it alone, at the cost of one factorisation instead of one per right-hand side.
 */
export function leastSquaresMany(
  a: readonly ArrayLike<number>[],
  bs: readonly ArrayLike<number>[],
  p: number,
  weights?: ArrayLike<number>,
): LeastSquaresSolution[] {
  const n = a.length
  const exact = householderSolve(...weightedSystem(a, bs, p, weights, 0), n)
  if (exact !== null) return exact.map((coefficients) => ({ coefficients, regularized: false }))

  const [cols, rhs] = weightedSystem(a, bs, p, weights, p)
  let maxNorm2 = 0
  for (const c of cols) {
    let s = 0
    for (let i = 0; i < n; i++) s += (c[i] as number) ** 2
    maxNorm2 = Math.max(maxNorm2, s)
  }
  const ridge = Math.sqrt(FALLBACK_RIDGE * (maxNorm2 > 0 ? maxNorm2 : 1))
  for (let j = 0; j < p; j++) (cols[j] as Float64Array)[n + j] = ridge
  const regularized = householderSolve(cols, rhs, n + p)
  if (regularized === null) throw new Error('least squares: ridge fallback is still singular')
  return regularized.map((coefficients) => ({ coefficients, regularized: true }))
}

/** Column-major copy of the design with rows scaled by sqrt(w) (weighted becomes ordinary least squares). */
function weightedSystem(
  a: readonly ArrayLike<number>[],
  bs: readonly ArrayLike<number>[],
  p: number,
  weights: ArrayLike<number> | undefined,
  extraRows: number,
): [Float64Array[], Float64Array[]] {
  const n = a.length
  const cols: Float64Array[] = []
  for (let j = 0; j < p; j++) cols.push(new Float64Array(n + extraRows))
  const rhs = bs.map(() => new Float64Array(n + extraRows))
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : Math.sqrt(weights[i] as number)
    const row = a[i] as ArrayLike<number>
    for (let j = 0; j < p; j++) (cols[j] as Float64Array)[i] = w * (row[j] as number)
    bs.forEach((b, r) => {
      ;(rhs[r] as Float64Array)[i] = w * (b[i] as number)
    })
  }
  return [cols, rhs]
}

/**
 * Solves min |A x - b| for the first m rows of the column-major A (destroyed) and each b of `rhs` (destroyed),
 * or null when A is numerically rank deficient.
 */
function householderSolve(cols: Float64Array[], rhs: Float64Array[], m: number): Float64Array[] | null {
  const p = cols.length
  if (m < p) return null
  const diag = new Float64Array(p)
  for (let k = 0; k < p; k++) {
    const ck = cols[k] as Float64Array
    let norm2 = 0
    for (let i = k; i < m; i++) norm2 += (ck[i] as number) ** 2
    const norm = Math.sqrt(norm2)
    if (norm === 0) {
      diag[k] = 0
      continue
    }
    const akk = ck[k] as number
    const alpha = akk > 0 ? -norm : norm
    // v = x - alpha e1 stored in place of column k; |v|^2 = 2 norm (norm + |akk|).
    ck[k] = akk - alpha
    const vNorm2 = 2 * norm * (norm + Math.abs(akk))
    for (let j = k + 1; j < p; j++) {
      const cj = cols[j] as Float64Array
      let s = 0
      for (let i = k; i < m; i++) s += (ck[i] as number) * (cj[i] as number)
      const f = (2 * s) / vNorm2
      for (let i = k; i < m; i++) cj[i] = (cj[i] as number) - f * (ck[i] as number)
    }
    for (const b of rhs) {
      let s = 0
      for (let i = k; i < m; i++) s += (ck[i] as number) * (b[i] as number)
      const f = (2 * s) / vNorm2
      for (let i = k; i < m; i++) b[i] = (b[i] as number) - f * (ck[i] as number)
    }
    diag[k] = alpha
  }
  let maxDiag = 0
  for (let k = 0; k < p; k++) maxDiag = Math.max(maxDiag, Math.abs(diag[k] as number))
  if (maxDiag === 0) return p === 0 ? rhs.map(() => new Float64Array(0)) : null
  for (let k = 0; k < p; k++) if (Math.abs(diag[k] as number) <= RANK_TOLERANCE * maxDiag) return null
  return rhs.map((b) => {
    const x = new Float64Array(p)
    for (let k = p - 1; k >= 0; k--) {
      let s = b[k] as number
      for (let j = k + 1; j < p; j++) s -= ((cols[j] as Float64Array)[k] as number) * (x[j] as number)
      x[k] = s / (diag[k] as number)
    }
    return x
  })
}
