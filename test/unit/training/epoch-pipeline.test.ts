import { EpochPipeline } from '../../../src/training/epoch-pipeline'

/** A write that settles when the test says so, and records when it started. */
function gate(log: string[], name: string) {
  let open: () => void = () => {}
  let fail: (err: Error) => void = () => {}
  const settled = new Promise<void>((resolve, reject) => {
    open = resolve
    fail = reject
  })
  return {
    write: () => {
      log.push(`start ${name}`)
      return settled.then(() => void log.push(`end ${name}`))
    },
    open,
    fail,
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve))

describe('EpochPipeline', () => {
  it('runs the writes one at a time, in the order they were pushed, without the caller waiting', async () => {
    const log: string[] = []
    const pipeline = new EpochPipeline()
    const [a, b, c] = ['1', '2', '3'].map((n) => gate(log, n))
    pipeline.push(a!.write)
    pipeline.push(b!.write)
    pipeline.push(c!.write)
    await turn()
    expect(log).toEqual(['start 1'])
    // Opening a later write first changes nothing: it starts only after the earlier ones ended.
    c!.open()
    b!.open()
    await turn()
    expect(log).toEqual(['start 1'])
    a!.open()
    await pipeline.drain()
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3'])
  })

  it('stops at the first failed write: later writes never start, and push and drain rethrow it', async () => {
    const log: string[] = []
    const pipeline = new EpochPipeline()
    const [a, b] = ['1', '2'].map((n) => gate(log, n))
    const refused = new Error('refused')
    pipeline.push(a!.write)
    pipeline.push(b!.write)
    a!.fail(refused)
    b!.open()
    await expect(pipeline.drain()).rejects.toBe(refused)
    expect(log).toEqual(['start 1'])
    expect(() => pipeline.push(async () => void log.push('never'))).toThrow(refused)
    expect(() => pipeline.throwIfFailed()).toThrow(refused)
    await expect(pipeline.drain()).rejects.toBe(refused)
    expect(log).toEqual(['start 1'])
  })

  it('drains at once when nothing is queued, and again after more writes', async () => {
    const pipeline = new EpochPipeline()
    await expect(pipeline.drain()).resolves.toBeUndefined()
    const done: number[] = []
    for (let epoch = 1; epoch <= 5; epoch++) pipeline.push(async () => void done.push(epoch))
    await pipeline.drain()
    expect(done).toEqual([1, 2, 3, 4, 5])
  })
})
