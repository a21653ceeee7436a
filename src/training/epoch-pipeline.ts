/**
 * A run's epoch writes, taken off the training loop's critical path: each epoch is stored (and announced) while
 * the next one trains. Writes go out one at a time, in epoch order; the first failure stops the chain, and the
 * training loop hears of it at its next epoch boundary, or when it drains the pipeline before the run's
 * terminal write.
 */
export class EpochPipeline {
  private tail: Promise<void> = Promise.resolve()
  private failure: { error: unknown } | undefined

  /**
   * Queues `write` after every write queued before it. Throws at once when an earlier write failed: an epoch
   * after a refused one must not be stored.
   */
  push(write: () => Promise<void>): void {
    this.throwIfFailed()
    this.tail = this.tail
      .then(() => (this.failure ? undefined : write()))
      .catch((error: unknown) => {
        this.failure ??= { error }
      })
  }

  /** Rethrows the first failed write, if any. */
  throwIfFailed(): void {
    if (this.failure) throw this.failure.error
  }

  /** Waits for every queued write; rethrows the first one that failed. */
  async drain(): Promise<void> {
    await this.tail
    this.throwIfFailed()
  }
}
