/**
 * Per-key throttle with a trailing value: at most one emission per key every `ms`, and the latest
 * value is never lost (it is emitted when the window closes, or at once by flush()).
 */
export class Throttle<T> {
  private readonly last = new Map<string, number>()
  private readonly waiting = new Map<string, { value: T; timer: NodeJS.Timeout }>()

  constructor(
    private readonly ms: number,
    private readonly emit: (value: T) => void,
  ) {}

  push(key: string, value: T): void {
    const pending = this.waiting.get(key)
    if (pending) {
      pending.value = value
      return
    }
    const since = Date.now() - (this.last.get(key) ?? 0)
    if (since >= this.ms) {
      this.last.set(key, Date.now())
      this.emit(value)
      return
    }
    const timer = setTimeout(() => this.flush(key), this.ms - since)
    this.waiting.set(key, { value, timer })
  }

  /** Emits the waiting value of a key now (before a status change, say, so order is kept). */
  flush(key: string): void {
    const pending = this.waiting.get(key)
    if (!pending) return
    clearTimeout(pending.timer)
    this.waiting.delete(key)
    this.last.set(key, Date.now())
    this.emit(pending.value)
  }

  dispose(): void {
    for (const { timer } of this.waiting.values()) clearTimeout(timer)
    this.waiting.clear()
  }
}
