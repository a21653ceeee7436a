import seedrandom from 'seedrandom'

import type { TrainData, TrainSpec } from '../../../src/models/mlp/spec'
import type { EpochMetric } from '../../../src/models/mlp/train'

/** A small, fast spec; tests override what they exercise. */
export function spec(overrides: Partial<TrainSpec> = {}): TrainSpec {
  return {
    task: 'REGRESSION',
    hiddenLayers: [8],
    activation: 'RELU',
    epochs: 3,
    batchSize: 16,
    learningRate: 0.01,
    optimizer: 'ADAM',
    validationSplit: 0.2,
    seed: 7,
    ...overrides,
  }
}

/** Rows of features uniform in [-scale, scale] around `offset`, target from `target(row)`. */
export function table(
  rowCount: number,
  featureCount: number,
  target: (row: Float64Array) => number,
  { seed = 'data', scale = 1, offset = 0 }: { seed?: string; scale?: number; offset?: number } = {},
): TrainData {
  const random = seedrandom.alea(seed)
  const features = new Float64Array(rowCount * featureCount)
  const targets = new Float64Array(rowCount)
  for (let r = 0; r < rowCount; r++) {
    const row = features.subarray(r * featureCount, (r + 1) * featureCount)
    for (let c = 0; c < featureCount; c++) row[c] = offset + scale * (2 * random() - 1)
    targets[r] = target(row)
  }
  return { features, targets, rowCount, featureCount }
}

/** y = 3 x0 - 2 x1 + 0.5 x2 + 1, features deliberately off-centre and scaled to exercise standardisation. */
export function linearData(rowCount = 400): TrainData {
  return table(
    rowCount,
    4,
    (x) => (3 * (x[0] as number) - 2 * (x[1] as number) + 0.5 * (x[2] as number)) / 10 + 1,
    {
      scale: 10,
      offset: 5,
    },
  )
}

/** Class 1 iff x0 + x1 > 0, with a margin so the set is separable. */
export function separableData(rowCount = 400): TrainData {
  const raw = table(rowCount, 3, (x) => ((x[0] as number) + (x[1] as number) > 0 ? 1 : 0))
  for (let r = 0; r < rowCount; r++) {
    const shift = raw.targets[r] === 1 ? 0.2 : -0.2
    raw.features[r * 3] = (raw.features[r * 3] as number) + shift
    raw.features[r * 3 + 1] = (raw.features[r * 3 + 1] as number) + shift
  }
  return raw
}

/** The rows of a table as Float64Array views, the form the explanation library passes. */
export function rowsOf(data: TrainData, indices: readonly number[]): Float64Array[] {
  return indices.map((r) => data.features.slice(r * data.featureCount, (r + 1) * data.featureCount))
}

/** A hook that records every metric and never stops. */
export function recorder(): { metrics: EpochMetric[]; onEpoch: (m: EpochMetric) => Promise<void> } {
  const metrics: EpochMetric[] = []
  return {
    metrics,
    onEpoch: async (m) => {
      metrics.push(m)
    },
  }
}
