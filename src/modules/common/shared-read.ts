/**
 * One database read for many callers that ask for the same thing at the same moment, process-wide.
 *
 * Callers that ask for a key before the batch is sent share the read; the batch is sent on the next turn of
 * the event loop (setImmediate), once every caller woken by the same event has asked. A caller never joins a
 * read already sent: so what it gets was read after it asked, and it sees every commit it was told about
 * before asking (what a subscriber catching up after a notification relies on). Nothing is cached: the next
 * batch reads again.
 *
 * Why: when a run ends or starts, each of its hundreds of subscribers reads the same rows at once (its
 * history, its status, its explanation). Read one by one, they queue for the pool's few connections ahead of
 * every query and transaction of the API (a startRun then fails with "no database connection became free in
 * time"), and each costs the API's event loop its own round trip and rows to decode.
 */
export class SharedReads<K, V, A = void> {
  private batch: Map<K, { arg: A; waiters: Waiter<V, A>[] }> | undefined

  /**
   * @param read reads one key; `arg` is the merge of every caller's argument (see `merge`).
   * @param merge combines two callers' arguments into one read that serves both (e.g. the smaller
   *   `afterEpoch`); each caller then gets `pick(value, itsOwnArg)`.
   */
  constructor(
    private readonly read: (key: K, arg: A) => Promise<V>,
    private readonly merge: (a: A, b: A) => A = (a) => a,
    private readonly pick: (value: V, arg: A) => V = (value) => value,
  ) {}

  load(key: K, arg: A): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      if (!this.batch) {
        this.batch = new Map()
        setImmediate(() => this.send())
      }
      const entry = this.batch.get(key)
      const waiter = { arg, resolve, reject }
      if (entry) {
        entry.arg = this.merge(entry.arg, arg)
        entry.waiters.push(waiter)
      } else this.batch.set(key, { arg, waiters: [waiter] })
    })
  }

  private send(): void {
    const batch = this.batch
    this.batch = undefined
    for (const [key, { arg, waiters }] of batch ?? []) {
      this.read(key, arg).then(
        (value) => {
          for (const w of waiters) w.resolve(this.pick(value, w.arg))
        },
        (err: unknown) => {
          for (const w of waiters) w.reject(err)
        },
      )
    }
  }
}

interface Waiter<V, A> {
  arg: A
  resolve: (value: V) => void
  reject: (err: unknown) => void
}
