import type { BatchGradient, BatchPredict } from '../../../src/explain/types'
import { createRng, permutation } from '../../../src/explain/random'

/** A model in closed form with its analytic gradient: known answers need no network. */
export interface ClosedFormModel {
  predict: BatchPredict
  gradient: BatchGradient
}

export function closedForm(
  f: (x: Float64Array) => number,
  grad: (x: Float64Array) => number[],
): ClosedFormModel {
  return {
    predict: (rows) => Float64Array.from(rows, f),
    gradient: (rows) => rows.map((x) => Float64Array.from(grad(x))),
  }
}

const relu = (v: number): number => (v > 0 ? v : 0)
/** ReLU'(0) = 0, as tfjs defines it. */
const step = (v: number): number => (v > 0 ? 1 : 0)

/** f = b0 + w . x */
export function linearModel(b0: number, w: readonly number[]): ClosedFormModel {
  return closedForm(
    (x) => w.reduce((s, wi, i) => s + wi * (x[i] as number), b0),
    () => [...w],
  )
}

/** Case 2: f = x1 x2. */
export const product = closedForm(
  (x) => (x[0] as number) * (x[1] as number),
  (x) => [x[1] as number, x[0] as number],
)

/** Case 3: f = x1^2 x2. */
export const squareTimes = closedForm(
  (x) => (x[0] as number) ** 2 * (x[1] as number),
  (x) => [2 * (x[0] as number) * (x[1] as number), (x[0] as number) ** 2],
)

/** Case 4: f = ReLU(ReLU(x1) - 1 - ReLU(x2)). */
export const reluNetwork = closedForm(
  (x) => relu(relu(x[0] as number) - 1 - relu(x[1] as number)),
  (x) => {
    const inner = relu(x[0] as number) - 1 - relu(x[1] as number)
    return [step(inner) * step(x[0] as number), -step(inner) * step(x[1] as number)]
  },
)

/** Case 5: f = 1 - ReLU(1 - x), flat at x = 2. */
export const saturated = closedForm(
  (x) => 1 - relu(1 - (x[0] as number)),
  (x) => [step(1 - (x[0] as number))],
)

/** Friedman #1 without noise; x6..x10 ignored. */
export function friedman1Value(x: Float64Array): number {
  const x3 = (x[2] as number) - 0.5
  return (
    10 * Math.sin(Math.PI * (x[0] as number) * (x[1] as number)) +
    20 * x3 * x3 +
    10 * (x[3] as number) +
    5 * (x[4] as number)
  )
}

export const friedman1 = closedForm(friedman1Value, (x) => {
  const x1 = x[0] as number
  const x2 = x[1] as number
  const c = 10 * Math.PI * Math.cos(Math.PI * x1 * x2)
  return [c * x2, c * x1, 40 * ((x[2] as number) - 0.5), 10, 5, 0, 0, 0, 0, 0]
})

/** n rows of m independent U[0, 1] features. */
export function uniformRows(n: number, m: number, seed: number | string): Float64Array[] {
  const rng = createRng(seed, 'uniform-rows')
  return Array.from({ length: n }, () => Float64Array.from({ length: m }, () => rng()))
}

/**
 * A Latin hypercube sample: still U[0, 1] in every coordinate, but each column hits every stratum of width
 * 1/n once, so background means converge like 1/n^1.5 instead of 1/sqrt(n).
 */
export function latinHypercube(n: number, m: number, seed: number | string): Float64Array[] {
  const rng = createRng(seed, 'latin-hypercube')
  const rows = Array.from({ length: n }, () => new Float64Array(m))
  for (let j = 0; j < m; j++) {
    const strata = permutation(n, rng)
    rows.forEach((row, i) => {
      row[j] = ((strata[i] as number) + rng()) / n
    })
  }
  return rows
}

export const sum = (values: ArrayLike<number>): number => Array.from(values).reduce((a, b) => a + b, 0)

/**
 * A ReLU network with seeded Glorot-uniform weights and biases (widths: input, hidden..., 1), with its exact
 * gradient by backpropagation: a real MLP, kinks and all, without TensorFlow.js. Biases are drawn too, so the
 * kinks fall inside the unit cube rather than through the origin.
 */
export function randomReluNetwork(widths: readonly number[], seed: number | string): ClosedFormModel {
  const rng = createRng(seed, 'relu-network')
  const layers = widths.slice(1).map((out, l) => {
    const fanIn = widths[l] as number
    const limit = Math.sqrt(6 / (fanIn + out))
    return {
      w: Array.from({ length: out }, () =>
        Float64Array.from({ length: fanIn }, () => (2 * rng() - 1) * limit),
      ),
      b: Float64Array.from({ length: out }, () => rng() - 0.5),
    }
  })
  /** Pre-activations of every layer. */
  const forward = (x: Float64Array): Float64Array[] => {
    const zs: Float64Array[] = []
    let h = x
    layers.forEach((layer, l) => {
      const z = Float64Array.from(layer.b)
      layer.w.forEach((row, o) => {
        for (let i = 0; i < row.length; i++) z[o] = (z[o] as number) + (row[i] as number) * (h[i] as number)
      })
      zs.push(z)
      h = l + 1 < layers.length ? z.map(relu) : z
    })
    return zs
  }
  return closedForm(
    (x) => (forward(x).at(-1) as Float64Array)[0] as number,
    (x) => {
      const zs = forward(x)
      let delta = Float64Array.of(1)
      for (let l = layers.length - 1; l >= 0; l--) {
        const layer = layers[l] as (typeof layers)[number]
        const back = new Float64Array(widths[l] as number)
        layer.w.forEach((row, o) => {
          for (let i = 0; i < row.length; i++)
            back[i] = (back[i] as number) + (row[i] as number) * (delta[o] as number)
        })
        delta = l > 0 ? back.map((v, i) => v * step((zs[l - 1] as Float64Array)[i] as number)) : back
      }
      return Array.from(delta)
    },
  )
}
