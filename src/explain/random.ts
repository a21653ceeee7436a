import seedrandom from 'seedrandom'

/** A seeded uniform generator on [0, 1). */
export type Rng = () => number

/**
 * A generator for one purpose of one explanation. Each purpose gets its own stream derived from the seed, so
 * the draws of one method do not depend on which other methods ran before it.
 */
export function createRng(seed: number | string, purpose: string): Rng {
  const prng = seedrandom.alea(`${seed}:${purpose}`)
  return () => prng.double()
}

/** A uniform integer in [0, n). */
export function randomInt(n: number, rng: Rng): number {
  return Math.min(n - 1, Math.floor(rng() * n))
}

/** Fisher-Yates shuffle in place. */
export function shuffleInPlace(values: Int32Array | number[], rng: Rng): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = randomInt(i + 1, rng)
    const tmp = values[i] as number
    values[i] = values[j] as number
    values[j] = tmp
  }
}

/** A uniformly random permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n)
  for (let i = 0; i < n; i++) p[i] = i
  shuffleInPlace(p, rng)
  return p
}

/**
 * k distinct indices of 0..n-1 (all of them when k >= n), uniformly at random. Taking a prefix means a
 * smaller sample drawn with the same seed is a subset of a larger one.
 */
export function sampleIndices(n: number, k: number, rng: Rng): number[] {
  return Array.from(permutation(n, rng).subarray(0, Math.min(n, Math.max(0, k))))
}

/** `sampleIndices` applied to an array. */
export function sampleRows<T>(rows: readonly T[], k: number, rng: Rng): T[] {
  if (k >= rows.length) return rows.slice()
  return sampleIndices(rows.length, k, rng).map((i) => rows[i] as T)
}
