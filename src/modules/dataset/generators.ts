import seedrandom from 'seedrandom'
import { DatasetGenerator, Task } from './dataset.enums'

export interface GeneratedData {
  task: Task
  featureNames: string[]
  rows: Float64Array[]
  targets: Float64Array
}

/** Weights of the LINEAR generator, documented in the schema: y = 1 + 3 x1 - 2 x2 + x3 + 0.5 x4 + 0 x5. */
export const LINEAR_WEIGHTS = [3, -2, 1, 0.5, 0] as const
export const LINEAR_INTERCEPT = 1

/**
 * Synthetic datasets with known structure, seeded: the same generator, size, noise and seed always
 * give the same rows (seedrandom's ARC4 stream, independent of platform).
 */
export function generate(kind: DatasetGenerator, rows: number, noise: number, seed: number): GeneratedData {
  const rng = seedrandom(String(seed))
  const gaussian = () => {
    // Box-Muller; 1 - u keeps log away from 0.
    const u = 1 - rng()
    const v = rng()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
  const out: Float64Array[] = []
  const targets = new Float64Array(rows)
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
      return { task: Task.REGRESSION, featureNames: names(10), rows: out, targets }
    }
    case DatasetGenerator.LINEAR: {
      for (let i = 0; i < rows; i++) {
        const x = Float64Array.from(LINEAR_WEIGHTS, () => gaussian())
        targets[i] =
          LINEAR_WEIGHTS.reduce<number>((s, w, j) => s + w * x[j]!, LINEAR_INTERCEPT) + noise * gaussian()
        out.push(x)
      }
      return { task: Task.REGRESSION, featureNames: names(LINEAR_WEIGHTS.length), rows: out, targets }
    }
    case DatasetGenerator.XOR: {
      for (let i = 0; i < rows; i++) {
        const x = Float64Array.of(rng() * 2 - 1, rng() * 2 - 1)
        const label = x[0]! * x[1]! > 0 ? 1 : 0
        targets[i] = rng() < noise ? 1 - label : label
        out.push(x)
      }
      return { task: Task.BINARY_CLASSIFICATION, featureNames: names(2), rows: out, targets }
    }
  }
}

const names = (m: number) => Array.from({ length: m }, (_, j) => `x${j + 1}`)
