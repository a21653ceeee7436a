/** A consumer waiting in `next()` for the next value. */
interface Waiter<T> {
  resolve(result: IteratorResult<T, undefined>): void
  reject(err: unknown): void
}

/**
 * An async iterator fed from outside, for a subscription's event stream: `start(push, stop)` runs at once and
 * returns the clean-up, which runs once when the stream ends (`stop`, or the consumer's `return()`).
 *
 * Pushed values wait in a buffer until taken, and every one is taken before the end (or before the error
 * given to `stop`, which the next `next()` rejects with). This is what `Repeater` gave the run's event stream,
 * without its half a dozen promises per value: with 100 subscribers of a run, its `push` alone was 8 % of the
 * API's busy time (bench/README.md, training (b)). The caller keeps its own order (push is synchronous).
 */
export function eventChannel<T>(
  start: (push: (value: T) => void, stop: (err?: unknown) => void) => () => void,
): AsyncIterableIterator<T, undefined> {
  const buffer: T[] = []
  const waiters: Waiter<T>[] = []
  let ended = false
  let failure: { err: unknown } | undefined
  let cleanup: (() => void) | undefined
  let cleaned = false
  const finish = () => {
    if (cleaned) return
    cleaned = true
    cleanup?.()
  }
  const push = (value: T) => {
    if (ended) return
    const waiter = waiters.shift()
    if (waiter) waiter.resolve({ value, done: false })
    else buffer.push(value)
  }
  const stop = (err?: unknown) => {
    if (ended) return
    ended = true
    if (err !== undefined) failure = { err }
    // Waiters exist only while the buffer is empty.
    for (const waiter of waiters.splice(0)) settleEnd(waiter)
    finish()
  }
  const settleEnd = (waiter: Waiter<T>) => {
    if (failure) {
      const { err } = failure
      failure = undefined
      waiter.reject(err)
    } else waiter.resolve({ value: undefined, done: true })
  }
  const ownCleanup = start(push, stop)
  if (cleaned) ownCleanup()
  else cleanup = ownCleanup

  const iterator: AsyncIterableIterator<T, undefined> = {
    next: () => {
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift() as T, done: false })
      return new Promise<IteratorResult<T, undefined>>((resolve, reject) => {
        const waiter = { resolve, reject }
        if (ended) settleEnd(waiter)
        else waiters.push(waiter)
      })
    },
    return: () => {
      buffer.length = 0
      stop()
      return Promise.resolve({ value: undefined, done: true })
    },
    throw: (err: unknown) => {
      buffer.length = 0
      stop()
      return Promise.reject(err)
    },
    [Symbol.asyncIterator]: () => iterator,
  }
  return iterator
}
