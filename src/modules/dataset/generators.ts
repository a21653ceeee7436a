import seedrandom from 'seedrandom'
import { DatasetGenerator, Task } from './dataset.enums'

export interface GeneratedData {
  task: Task
  featureNames: string[]
  rows: Float64Array[]
  /** One per row; length 0 for UNSUPERVISED. */
  targets: Float64Array
  /** The known generative factors, one value per row each; empty for the supervised generators. */
  factors: { name: string; values: Float64Array }[]
  imageShape: [number, number] | null
  /** What else defines the rows, recorded in the dataset's source (LATENT_LINEAR: k, d and A). */
  parameters: Record<string, unknown>
}

/** Parameters only some generators take. */
export interface GeneratorOptions {
  /** LATENT_LINEAR: k, the number of factors. */
  latents?: number | undefined
  /** LATENT_LINEAR: d, the number of features. */
  features?: number | undefined
}

/** Weights of the LINEAR generator, documented in the schema: y = 1 + 3 x1 - 2 x2 + x3 + 0.5 x4 + 0 x5. */
export const LINEAR_WEIGHTS = [3, -2, 1, 0.5, 0] as const
export const LINEAR_INTERCEPT = 1

/** LATENT_LINEAR's sizes: defaults and bounds (features >= latents as well). */
export const LATENT_LINEAR = {
  defaultLatents: 2,
  defaultFeatures: 8,
  maxLatents: 64,
  maxFeatures: 1024,
} as const

/**
 * SPRITES' geometry. Images are SIZE x SIZE, row-major, pixel (r, c) covering [c, c+1] x [r, r+1] with
 * y pointing down. A shape at scale s fits a box of half-side HALF_EXTENT * s around its centre; the centre
 * runs over POSITIONS equal steps from HALF_EXTENT to SIZE - HALF_EXTENT, so even the largest shape stays
 * whole inside the image (nothing is clipped). Pixels are the fraction of SUPERSAMPLE^2 sample points
 * of the pixel that fall inside the shape, so sub-pixel moves show and the pixel mass is the shape's area.
 */
export const SPRITES = {
  size: 16,
  /** Factor `shape`: 0 square, 1 ellipse, 2 triangle. */
  shapes: ['square', 'ellipse', 'triangle'] as const,
  /** Factor `scale`, as in dSprites. */
  scales: [0.5, 0.6, 0.7, 0.8, 0.9, 1] as const,
  /** Factors `posX`, `posY` take the values i / (positions - 1), i = 0 .. positions - 1. */
  positions: 16,
  halfExtent: 4,
  /** The ellipse's vertical semi-axis over its horizontal one. */
  ellipseAspect: 0.6,
  supersample: 8,
} as const

/**
 * Synthetic datasets with known structure, seeded: the same generator, size, noise, options and seed
 * always give the same rows (seedrandom's ARC4 stream, independent of platform). Options are checked by
 * the caller; missing ones take their defaults.
 */
export function generate(
  kind: DatasetGenerator,
  rows: number,
  noise: number,
  seed: number,
  options: GeneratorOptions = {},
): GeneratedData {
  const rng = seedrandom(String(seed))
  const gaussian = gaussianFrom(rng)
  const out: Float64Array[] = []
  const targets = new Float64Array(rows)
  const supervised = { factors: [], imageShape: null, parameters: {} }
  switch (kind) {
    case DatasetGenerator.FRIEDMAN1: {
      for (let i = 0; i < rows; i++) {
        const x = Float64Array.from({ length: 10 }, () => rng())
        targets[i] =
          10 * Math.sin(Math.PI * x[0]! * x[1]!) +
          20 * (x[2]! - 0.5) ** 2 +
          10 * x[3]! +
          5 * x[4]! +
          noise * gaussian()
        out.push(x)
      }
      return { task: Task.REGRESSION, featureNames: names('x', 10), rows: out, targets, ...supervised }
    }
    case DatasetGenerator.LINEAR: {
      for (let i = 0; i < rows; i++) {
        const x = Float64Array.from(LINEAR_WEIGHTS, () => gaussian())
        targets[i] =
          LINEAR_WEIGHTS.reduce<number>((s, w, j) => s + w * x[j]!, LINEAR_INTERCEPT) + noise * gaussian()
        out.push(x)
      }
      const featureNames = names('x', LINEAR_WEIGHTS.length)
      return { task: Task.REGRESSION, featureNames, rows: out, targets, ...supervised }
    }
    case DatasetGenerator.XOR: {
      for (let i = 0; i < rows; i++) {
        const x = Float64Array.of(rng() * 2 - 1, rng() * 2 - 1)
        const label = x[0]! * x[1]! > 0 ? 1 : 0
        targets[i] = rng() < noise ? 1 - label : label
        out.push(x)
      }
      return {
        task: Task.BINARY_CLASSIFICATION,
        featureNames: names('x', 2),
        rows: out,
        targets,
        ...supervised,
      }
    }
    case DatasetGenerator.SPRITES:
      return sprites(rows, rng)
    case DatasetGenerator.COPY_TEXT:
      throw new Error('COPY_TEXT makes a text corpus: call copyText')
    case DatasetGenerator.LATENT_LINEAR:
      return latentLinear(
        rows,
        noise,
        seed,
        options.latents ?? LATENT_LINEAR.defaultLatents,
        options.features ?? LATENT_LINEAR.defaultFeatures,
        rng,
        gaussian,
      )
  }
}

/** Pixel feature names of SPRITES, row-major: p_ROW_COLUMN from p_0_0 (top left). */
export const spriteFeatureNames = (): string[] =>
  Array.from({ length: SPRITES.size * SPRITES.size }, (_, i) => {
    return `p_${Math.floor(i / SPRITES.size)}_${i % SPRITES.size}`
  })

/**
 * Renders one sprite: `shape` an index into SPRITES.shapes, `scale` one of SPRITES.scales (any value in
 * (0, 1] works), `posX`, `posY` in [0, 1] placing the centre of the shape's bounding box.
 */
export function renderSprite(shape: number, scale: number, posX: number, posY: number): Float64Array {
  const { size, halfExtent, supersample, ellipseAspect } = SPRITES
  const h = halfExtent * scale
  const cx = halfExtent + (size - 2 * halfExtent) * posX
  const cy = halfExtent + (size - 2 * halfExtent) * posY
  const inside =
    shape === 0
      ? (dx: number, dy: number) => Math.abs(dx) <= h && Math.abs(dy) <= h
      : shape === 1
        ? (dx: number, dy: number) => (dx / h) ** 2 + (dy / (ellipseAspect * h)) ** 2 <= 1
        : // Apex up at (0, -h), base from (-h, h) to (h, h).
          (dx: number, dy: number) => dy <= h && Math.abs(dx) <= (dy + h) / 2
  const image = new Float64Array(size * size)
  const weight = 1 / (supersample * supersample)
  // Only the pixels the bounding box touches can be lit.
  const lo = (c: number) => Math.max(0, Math.floor(c - h))
  const hi = (c: number) => Math.min(size - 1, Math.ceil(c + h))
  for (let r = lo(cy); r <= hi(cy); r++) {
    for (let c = lo(cx); c <= hi(cx); c++) {
      let hits = 0
      for (let sy = 0; sy < supersample; sy++) {
        const dy = r + (sy + 0.5) / supersample - cy
        for (let sx = 0; sx < supersample; sx++) {
          if (inside(c + (sx + 0.5) / supersample - cx, dy)) hits++
        }
      }
      image[r * size + c] = hits * weight
    }
  }
  return image
}

/**
 * dSprites-like images: one white shape on black; shape, scale, posX and posY drawn independently and
 * uniformly for every row. No orientation factor: rotating 16-pixel shapes adds little but aliasing.
 */
function sprites(rows: number, rng: () => number): GeneratedData {
  const { shapes, scales, positions } = SPRITES
  const factor = () => new Float64Array(rows)
  const shape = factor()
  const scale = factor()
  const posX = factor()
  const posY = factor()
  const out: Float64Array[] = []
  const draw = (count: number) => Math.floor(rng() * count)
  for (let i = 0; i < rows; i++) {
    shape[i] = draw(shapes.length)
    scale[i] = scales[draw(scales.length)]!
    posX[i] = draw(positions) / (positions - 1)
    posY[i] = draw(positions) / (positions - 1)
    out.push(renderSprite(shape[i]!, scale[i]!, posX[i]!, posY[i]!))
  }
  return {
    task: Task.UNSUPERVISED,
    featureNames: spriteFeatureNames(),
    rows: out,
    targets: new Float64Array(0),
    factors: [
      { name: 'shape', values: shape },
      { name: 'scale', values: scale },
      { name: 'posX', values: posX },
      { name: 'posY', values: posY },
    ],
    imageShape: [SPRITES.size, SPRITES.size],
    parameters: {},
  }
}

/** x = A v + noise * e: v ~ U[-sqrt 3, sqrt 3]^k (unit variance), e ~ N(0, I_d). */
function latentLinear(
  rows: number,
  noise: number,
  seed: number,
  k: number,
  d: number,
  rng: () => number,
  gaussian: () => number,
): GeneratedData {
  const a = latentLinearMatrix(seed, k, d)
  const factors = Array.from({ length: k }, () => new Float64Array(rows))
  const out: Float64Array[] = []
  const v = new Float64Array(k)
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < k; j++) {
      v[j] = Math.sqrt(3) * (2 * rng() - 1)
      factors[j]![i] = v[j]!
    }
    const x = new Float64Array(d)
    for (let f = 0; f < d; f++) {
      const row = a[f]!
      let s = 0
      for (let j = 0; j < k; j++) s += row[j]! * v[j]!
      x[f] = s + noise * gaussian()
    }
    out.push(x)
  }
  return {
    task: Task.UNSUPERVISED,
    featureNames: names('x', d),
    rows: out,
    targets: new Float64Array(0),
    factors: factors.map((values, j) => ({ name: `v${j + 1}`, values })),
    imageShape: null,
    parameters: { latents: k, features: d, matrix: a },
  }
}

/**
 * LATENT_LINEAR's mixing matrix A (d x k, `features` x `latents`), seeded: a unit-norm tight frame, every
 * row of norm 1 and A'A = (d/k) I. So each feature has variance 1 + noise^2, and every factor carries the
 * same share of the variance, none hidden below the noise (with a random A one factor's direction can
 * carry so little variance that a VAE rightly leaves it unused, as probabilistic PCA does a small eigenvalue).
 *
 * Built from blocks of k rows: when k divides d, d/k random orthogonal k x k matrices stacked. Otherwise
 * (d = q k + r, 0 < r < k) the first q - 1 blocks are random orthogonal matrices and the last k + r rows are
 * the real harmonic frame of k + r vectors in R^k (rows of unit norm with orthogonal columns of squared
 * norm (k + r)/k) turned by one more random orthogonal matrix; the Gram matrices add up to (d/k) I.
 * The stream is derived from the seed but separate from the rows' one.
 */
export function latentLinearMatrix(seed: number, latents: number, features: number): number[][] {
  const k = latents
  const d = features
  if (!Number.isInteger(k) || !Number.isInteger(d) || k < 1 || d < k) {
    throw new RangeError(`latentLinearMatrix needs integers 1 <= latents <= features, got ${k}, ${d}`)
  }
  const rng = seedrandom(`${seed}:latent-linear-matrix`)
  const gaussian = gaussianFrom(rng)
  const q = Math.floor(d / k)
  const r = d % k
  const a: number[][] = []
  const rotations = r === 0 ? q : q - 1
  for (let b = 0; b < rotations; b++) a.push(...randomOrthogonal(k, gaussian))
  if (r > 0) {
    const turn = randomOrthogonal(k, gaussian)
    for (const row of harmonicFrame(k + r, k)) {
      a.push(turn[0]!.map((_, c) => row.reduce((s, x, i) => s + x * turn[i]![c]!, 0)))
    }
  }
  return a
}

/**
 * A Haar-random orthogonal k x k matrix: Gram-Schmidt (twice, for accuracy) on the columns of a Gaussian
 * matrix. Rows and columns are orthonormal.
 */
function randomOrthogonal(k: number, gaussian: () => number): number[][] {
  const columns = Array.from({ length: k }, () => Array.from({ length: k }, () => gaussian()))
  for (let c = 0; c < k; c++) {
    const col = columns[c]!
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < c; p++) {
        const prev = columns[p]!
        const dot = col.reduce((s, x, i) => s + x * prev[i]!, 0)
        for (let i = 0; i < k; i++) col[i]! -= dot * prev[i]!
      }
    }
    const norm = Math.hypot(...col)
    for (let i = 0; i < k; i++) col[i]! /= norm
  }
  return Array.from({ length: k }, (_, i) => columns.map((col) => col[i]!))
}

/**
 * The real harmonic frame of n > k vectors in R^k: row j is sqrt(2/k) (cos, sin)(2 pi j l / n) for
 * l = 1 .. floor(k/2), led by sqrt(1/k) when k is odd. Rows have norm 1; as 2l < n and l + l' < n the columns
 * are orthogonal with squared norm n/k.
 */
function harmonicFrame(n: number, k: number): number[][] {
  return Array.from({ length: n }, (_, j) => {
    const row: number[] = k % 2 === 1 ? [Math.sqrt(1 / k)] : []
    for (let l = 1; l <= Math.floor(k / 2); l++) {
      const theta = (2 * Math.PI * j * l) / n
      row.push(Math.sqrt(2 / k) * Math.cos(theta), Math.sqrt(2 / k) * Math.sin(theta))
    }
    return row
  })
}

/** Box-Muller on a uniform stream; 1 - u keeps log away from 0. */
function gaussianFrom(rng: () => number): () => number {
  return () => {
    const u = 1 - rng()
    const v = rng()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
}

const names = (prefix: string, m: number) => Array.from({ length: m }, (_, j) => `${prefix}${j + 1}`)

/** COPY_TEXT's alphabet and lag bounds. */
export const COPY_TEXT = {
  alphabet: 'abcdefghijklmnopqrstuvwxyz',
  defaultLag: 5,
  maxLag: 1000,
} as const

/**
 * COPY_TEXT: `length` characters over {@link COPY_TEXT}'s alphabet. The first `lag` are uniform; after them,
 * character t equals character t - lag with probability 1 - noise, and is otherwise a uniform draw among the
 * other letters - so the copy rate is exactly 1 - noise in expectation, the known answer an attribution to the
 * context should find (all of the next character's information sits `lag` positions back). Seeded.
 */
export function copyText(length: number, lag: number, noise: number, seed: number): string {
  const rng = seedrandom(`${seed}:copy-text`)
  const letters = COPY_TEXT.alphabet
  const a = letters.length
  const ids = new Int32Array(length)
  for (let t = 0; t < length; t++) {
    if (t < lag) {
      ids[t] = Math.floor(rng() * a)
      continue
    }
    const source = ids[t - lag]!
    // Both draws happen for every character, so the stream does not depend on noise's branches.
    const copy = rng() >= noise
    const other = (source + 1 + Math.floor(rng() * (a - 1))) % a
    ids[t] = copy ? source : other
  }
  return Array.from(ids, (i) => letters[i]!).join('')
}
