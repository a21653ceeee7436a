import { TokenBuckets } from '../../../src/server/rate-limit'

describe('TokenBuckets', () => {
  it('grants a burst of the whole allowance, then refills at the steady rate', () => {
    let now = 0
    const buckets = new TokenBuckets(3, 60_000, () => now)
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 0])
    expect(buckets.take('a')).toBe(20_000)
    now = 19_999
    expect(buckets.take('a')).toBeGreaterThan(0)
    now = 20_000
    expect(buckets.take('a')).toBe(0)
    expect(buckets.take('a')).toBeGreaterThan(0)
  })

  it('keeps one bucket per key and never holds more than the capacity', () => {
    let now = 0
    const buckets = new TokenBuckets(2, 1000, () => now)
    expect([buckets.take('a'), buckets.take('a')]).toEqual([0, 0])
    expect(buckets.take('b')).toBe(0)
    now = 1_000_000
    expect([buckets.take('a'), buckets.take('a')]).toEqual([0, 0])
    expect(buckets.take('a')).toBeGreaterThan(0)
  })
})
