/**
 * The epoch loop every family's training shares: resume from a checkpoint, stop on the signal or when the
 * platform says 'stop', time the batches, capture the training state after each epoch and hand the report and
 * a way to checkpoint it to the platform. A family supplies only what one epoch of its model does.
 */
import type { Checkpoint, MetricValue, TakeCheckpoint } from '../family'
import { YieldPacer } from './batches'
import { restoreTrainingState, TrainingParts, TrainingState } from './checkpoint'
import { TrainingError } from './spec'

export interface EpochLoopOptions<R extends { durationMs: number }> {
  parts: TrainingParts
  /** The last epoch to train (a resumed run starts after its checkpoint's epoch). */
  epochs: number
  /** Rows trained on per epoch, for `samplesPerSecond`. */
  rows: number
  /** The family's train options: where to resume, the abort signal, how often to yield. */
  control: {
    resume?: Checkpoint | undefined
    signal?: AbortSignal | undefined
    yieldEveryMs?: number | undefined
  }
  /**
   * Trains one epoch's batches and reads their totals. Returns undefined when the signal stopped it before
   * the last batch; otherwise the report of the epoch, made by a function the loop calls after timing the
   * batches (so validation counts in the epoch's `durationMs`, not in `samplesPerSecond`).
   */
  trainEpoch(epoch: number, pacer: YieldPacer): Promise<(() => R) | undefined>
  hooks: { onEpoch(report: R, checkpoint: TakeCheckpoint): Promise<void | 'stop'> | void | 'stop' }
}

export interface EpochLoopResult<R> {
  history: R[]
  /** True when the signal aborted or onEpoch returned 'stop'. */
  cancelled: boolean
  /** The training state after the last reported epoch; the caller owns (and disposes) it. */
  lastState: TrainingState | undefined
  /** Rows per second of batch time over the completed epochs. */
  samplesPerSecond: number
}

export async function runEpochLoop<R extends { durationMs: number }>(
  options: EpochLoopOptions<R>,
): Promise<EpochLoopResult<R>> {
  const { parts, control, hooks } = options
  const { signal } = control
  let lastState: TrainingState | undefined
  try {
    const resumedAt = control.resume
      ? (await restoreTrainingState(control.resume, parts, options.epochs)).epoch
      : 0
    const history: R[] = []
    let cancelled = false
    let batchMs = 0
    let samples = 0
    const pacer = new YieldPacer(control.yieldEveryMs)
    for (let epoch = resumedAt + 1; epoch <= options.epochs && !cancelled; epoch++) {
      if (signal?.aborted) {
        cancelled = true
        break
      }
      const epochStart = performance.now()
      const makeReport = await options.trainEpoch(epoch, pacer)
      if (!makeReport) {
        cancelled = true
        break
      }
      batchMs += performance.now() - epochStart
      samples += options.rows
      const report = makeReport()
      report.durationMs = performance.now() - epochStart
      history.push(report)
      lastState?.dispose()
      const state = (lastState = await TrainingState.capture(epoch, parts))
      if ((await hooks.onEpoch(report, () => state.toCheckpoint())) === 'stop') cancelled = true
      await pacer.now()
    }
    return {
      history,
      cancelled,
      lastState,
      samplesPerSecond: batchMs > 0 ? (samples / batchMs) * 1000 : 0,
    }
  } catch (err) {
    lastState?.dispose()
    throw err
  }
}

/** Fails the run with NON_FINITE_LOSS, naming the first metric of the epoch that is NaN or infinite. */
export function assertFiniteMetrics(metrics: readonly MetricValue[], epoch: number): void {
  const bad = metrics.find((m) => !Number.isFinite(m.value))
  if (bad) {
    throw new TrainingError(`${bad.name} became ${bad.value} at epoch ${epoch}`, 'NON_FINITE_LOSS', epoch)
  }
}
