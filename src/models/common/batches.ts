import { yieldToEventLoop } from './random'

/** How often, in milliseconds of training, a training loop gives the event loop a turn by default. */
export const DEFAULT_YIELD_EVERY_MS = 50

/**
 * Gives the event loop a turn (IPC messages, heartbeats, the abort signal) at most every `everyMs` of
 * synchronous training work, so one long epoch never starves the trainer process.
 */
export class YieldPacer {
  private last = performance.now()

  constructor(private readonly everyMs = DEFAULT_YIELD_EVERY_MS) {}

  /** Yields if `everyMs` have passed since the last turn. */
  async maybe(): Promise<void> {
    if (performance.now() - this.last >= this.everyMs) await this.now()
  }

  /** Yields now (between epochs). */
  async now(): Promise<void> {
    await yieldToEventLoop()
    this.last = performance.now()
  }
}

/**
 * Calls `step(start, size, batch)` for the consecutive batches of `rows` rows (the last one may be shorter),
 * checking `signal` before each and pacing yields in between. Returns false when the signal stopped it before
 * the last batch.
 */
export async function forEachBatch(
  rows: number,
  batchSize: number,
  signal: AbortSignal | undefined,
  pacer: YieldPacer,
  step: (start: number, size: number, batch: number) => void,
): Promise<boolean> {
  for (let start = 0, batch = 0; start < rows; start += batchSize, batch++) {
    if (signal?.aborted) return false
    step(start, Math.min(batchSize, rows - start), batch)
    await pacer.maybe()
  }
  return true
}
