import { eventChannel } from '../../src/modules/common/event-channel'

async function drain<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const v of it) out.push(v)
  return out
}

describe('eventChannel', () => {
  it('hands over every value pushed before stop, in order, then ends and cleans up once', async () => {
    let cleanups = 0
    let push: (v: number) => void = () => {}
    let stop: (err?: unknown) => void = () => {}
    const it = eventChannel<number>((p, s) => {
      push = p
      stop = s
      return () => cleanups++
    })
    push(1)
    const first = await it.next()
    expect(first).toEqual({ value: 1, done: false })
    const waiting = it.next()
    push(2)
    push(3)
    stop()
    push(4) // after stop: dropped
    expect(await waiting).toEqual({ value: 2, done: false })
    expect(await drain(it)).toEqual([3])
    expect(await it.next()).toEqual({ value: undefined, done: true })
    expect(cleanups).toBe(1)
  })

  it("rejects with stop's error once the buffer is drained, then ends", async () => {
    const it = eventChannel<string>((push, stop) => {
      push('a')
      setImmediate(() => stop(new Error('lost')))
      return () => {}
    })
    expect(await it.next()).toEqual({ value: 'a', done: false })
    await expect(it.next()).rejects.toThrow('lost')
    expect(await it.next()).toEqual({ value: undefined, done: true })
  })

  it("the consumer's return() runs the clean-up, ends waiting and later reads, and drops later pushes", async () => {
    let cleanups = 0
    let push: (v: number) => void = () => {}
    const it = eventChannel<number>((p) => {
      push = p
      return () => cleanups++
    })
    push(1)
    await it.return?.()
    push(2)
    expect(await it.next()).toEqual({ value: undefined, done: true })
    await it.return?.()
    expect(cleanups).toBe(1)
  })

  it('runs the clean-up of a stream stopped while it starts', async () => {
    let cleanups = 0
    const it = eventChannel<number>((push, stop) => {
      push(7)
      stop()
      return () => cleanups++
    })
    expect(cleanups).toBe(1)
    expect(await drain(it)).toEqual([7])
  })
})
