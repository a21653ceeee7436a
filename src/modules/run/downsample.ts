/** Metrics stored in columns of their own (any other named metric lives in EpochMetric.values). */
export const COLUMN_METRICS = ['loss', 'valLoss', 'accuracy', 'valAccuracy', 'durationMs'] as const
export type ColumnMetric = (typeof COLUMN_METRICS)[number]

export const DEFAULT_MAX_POINTS = 1000
export const MAX_POINTS = 10_000

export interface Point {
  epoch: number
  value: number
}

/**
 * Reduces a series to at most `maxPoints` points for drawing: the first and last points, then for
 * each of the equal buckets between them its minimum and its maximum, in epoch order. Every spike
 * survives (the global extremes are the extremes of their buckets) and the result depends only on
 * the input. Shorter series come back whole.
 */
export function downsample(points: readonly Point[], maxPoints: number): Point[] {
  if (maxPoints < 4) throw new RangeError('maxPoints must be at least 4')
  if (points.length <= maxPoints) return [...points]
  const first = points[0]!
  const last = points[points.length - 1]!
  const inner = points.length - 2
  const buckets = Math.floor((maxPoints - 2) / 2)
  const out: Point[] = [first]
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * inner) / buckets)
    const end = 1 + Math.floor(((b + 1) * inner) / buckets)
    if (end <= start) continue
    let lo = start
    let hi = start
    for (let i = start + 1; i < end; i++) {
      if (points[i]!.value < points[lo]!.value) lo = i
      if (points[i]!.value > points[hi]!.value) hi = i
    }
    if (lo === hi) out.push(points[lo]!)
    else out.push(points[Math.min(lo, hi)]!, points[Math.max(lo, hi)]!)
  }
  out.push(last)
  return out
}
