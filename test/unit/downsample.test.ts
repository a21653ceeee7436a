import { downsample, Point } from '../../src/modules/run/downsample'

const series = (values: number[]): Point[] => values.map((value, i) => ({ epoch: i + 1, value }))

describe('downsample', () => {
  it('returns short series whole', () => {
    const s = series([3, 1, 2])
    expect(downsample(s, 10)).toEqual(s)
  })

  it('keeps at most maxPoints, the first and last points and the extremes, in epoch order', () => {
    const values = Array.from(
      { length: 100_000 },
      (_, i) => Math.sin(i / 500) + (i === 31_337 ? 50 : 0) - (i === 77_000 ? 40 : 0),
    )
    const out = downsample(series(values), 1000)
    expect(out.length).toBeLessThanOrEqual(1000)
    expect(out.length).toBeGreaterThan(900)
    expect(out[0]).toEqual({ epoch: 1, value: values[0] })
    expect(out.at(-1)).toEqual({ epoch: 100_000, value: values.at(-1) })
    expect(out.map((p) => p.epoch)).toContain(31_338)
    expect(out.map((p) => p.epoch)).toContain(77_001)
    for (let i = 1; i < out.length; i++) expect(out[i]!.epoch).toBeGreaterThan(out[i - 1]!.epoch)
    expect(Math.max(...out.map((p) => p.value))).toBe(Math.max(...values))
    expect(Math.min(...out.map((p) => p.value))).toBe(Math.min(...values))
  })

  it('is deterministic', () => {
    const values = Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 1013) / 1013)
    expect(downsample(series(values), 64)).toEqual(downsample(series(values), 64))
  })

  it('keeps an extreme at either end', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i)
    const out = downsample(series(values), 4)
    expect(out.length).toBeLessThanOrEqual(4)
    expect(out[0]!.value).toBe(0)
    expect(out.at(-1)!.value).toBe(999)
  })
})
