import seedrandom from 'seedrandom'

/** A uniform [0, 1) generator fully determined by `seed` and `purpose`. */
export function seededRandom(seed: number, purpose: string): () => number {
  // Mixing in the purpose keeps the streams independent: seed 2's split is not seed 1's shuffle shifted by one.
  return seedrandom.alea(`${seed}/${purpose}`)
}

/**
 * A seed for a tfjs random op, derived from the run seed. Never 0: tfjs's truncated-normal generator treats a
 * falsy seed as "no seed" and silently falls back to Math.random (seen in tfjs-core 4.22 `MPRandGauss`).
 */
export function deriveSeed(seed: number, purpose: string): number {
  return 1 + Math.floor(seededRandom(seed, purpose)() * 2147483646)
}

/** 0..n-1 in a Fisher-Yates order drawn from `random`. */
export function shuffledRange(n: number, random: () => number): Int32Array {
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) out[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = out[i] as number
    out[i] = out[j] as number
    out[j] = t
  }
  return out
}

/**
 * The order of an epoch's training rows: seeded by the epoch, not a stream running through the epochs, so a
 * resumed run shuffles like the original.
 */
export function epochOrder(seed: number, epoch: number, n: number): Int32Array {
  return shuffledRange(n, seededRandom(seed, `epoch-shuffle/${epoch}`))
}

/**
 * The seeded split: row indices shuffled with a generator derived from `seed`, the last
 * `rowCount - floor(rowCount * (1 - validationSplit))` of them held out (Keras's rounding). At least one row is
 * always kept for training.
 */
export function splitRows(
  rowCount: number,
  validationSplit: number,
  seed: number,
): { trainIndices: number[]; holdoutIndices: number[] } {
  const shuffled = Array.from(shuffledRange(rowCount, seededRandom(seed, 'validation-split')))
  const trainCount = Math.max(1, Math.floor(rowCount * (1 - validationSplit)))
  return { trainIndices: shuffled.slice(0, trainCount), holdoutIndices: shuffled.slice(trainCount) }
}

/** Gives the event loop a turn (IPC messages, heartbeats, abort signals) between chunks of training. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
