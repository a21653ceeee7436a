import { SharedReads } from '../../../src/modules/common/shared-read'

/** A read whose answers the test releases by hand, recording what was asked. */
function controlledRead<V>() {
  const calls: { key: string; arg: number; resolve: (v: V) => void; reject: (e: unknown) => void }[] = []
  const read = (key: string, arg: number) =>
    new Promise<V>((resolve, reject) => calls.push({ key, arg, resolve, reject }))
  return { calls, read }
}

const nextTurn = () => new Promise((r) => setImmediate(r))

describe('SharedReads', () => {
  it('makes one read for the callers of one key that ask on the same turn, one per key', async () => {
    const { calls, read } = controlledRead<string>()
    const reads = new SharedReads<string, string, number>(read)
    const a = reads.load('run-1', 0)
    const b = reads.load('run-1', 0)
    const c = reads.load('run-2', 0)
    expect(calls).toHaveLength(0) // nothing is sent before the turn ends
    await nextTurn()
    expect(calls.map((c) => c.key)).toEqual(['run-1', 'run-2'])
    calls[0]!.resolve('one')
    calls[1]!.resolve('two')
    await expect(Promise.all([a, b, c])).resolves.toEqual(['one', 'one', 'two'])
  })

  it('never joins a read already sent: a caller asking later gets a read sent after it asked', async () => {
    const { calls, read } = controlledRead<string>()
    const reads = new SharedReads<string, string, number>(read)
    const early = reads.load('run-1', 0)
    await nextTurn()
    expect(calls).toHaveLength(1)
    // The first read is still in flight: a caller told of a commit now must not get its (older) answer.
    const late = reads.load('run-1', 0)
    await nextTurn()
    expect(calls).toHaveLength(2)
    calls[1]!.resolve('after the commit')
    calls[0]!.resolve('before the commit')
    await expect(early).resolves.toBe('before the commit')
    await expect(late).resolves.toBe('after the commit')
  })

  it('reads once with the merged argument and gives each caller its own part', async () => {
    const { calls, read } = controlledRead<number[]>()
    const reads = new SharedReads<string, number[], number>(
      read,
      (a, b) => Math.min(a, b),
      (epochs, after) => epochs.filter((e) => e > after),
    )
    const from5 = reads.load('run-1', 5)
    const from2 = reads.load('run-1', 2)
    const from7 = reads.load('run-1', 7)
    await nextTurn()
    expect(calls.map((c) => c.arg)).toEqual([2])
    calls[0]!.resolve([3, 4, 5, 6, 7, 8])
    await expect(from5).resolves.toEqual([6, 7, 8])
    await expect(from2).resolves.toEqual([3, 4, 5, 6, 7, 8])
    await expect(from7).resolves.toEqual([8])
  })

  it('rejects every caller of a failed read, and the next read is tried again', async () => {
    const { calls, read } = controlledRead<string>()
    const reads = new SharedReads<string, string, number>(read)
    const a = reads.load('run-1', 0)
    const b = reads.load('run-1', 0)
    await nextTurn()
    calls[0]!.reject(new Error('connection lost'))
    await expect(a).rejects.toThrow('connection lost')
    await expect(b).rejects.toThrow('connection lost')
    const again = reads.load('run-1', 0)
    await nextTurn()
    calls[1]!.resolve('fine')
    await expect(again).resolves.toBe('fine')
  })
})
