import type { RunStatus } from '../modules/run/run.status'

/** PostgreSQL NOTIFY channel that carries every run event across processes and hosts. */
export const RUN_EVENTS_CHANNEL = 'lab_run_events'

export interface EpochMetricValue {
  epoch: number
  loss: number
  valLoss: number | null
  accuracy: number | null
  valAccuracy: number | null
  durationMs: number
  /** Every metric the family reported for the epoch, in its order (loss and the columns above included). */
  values: { name: string; value: number }[]
}

/**
 * Messages on {@link RUN_EVENTS_CHANNEL}. Each is published in the same transaction as the write it
 * announces, so a listener never hears of a row it cannot read yet.
 */
export type RunEventMessage =
  | { type: 'epoch'; runId: string; experimentId: string; sweepId: string | null; metric: EpochMetricValue }
  | {
      type: 'status'
      runId: string
      experimentId: string
      sweepId: string | null
      status: RunStatus
      error: string | null
    }
  | { type: 'explanation'; runId: string; experimentId: string; sweepId: string | null }
  /** The run's stored epochs were deleted (a retry without a usable checkpoint): its next epoch is 1 again. */
  | { type: 'rewound'; runId: string; experimentId: string; sweepId: string | null }
  | { type: 'created'; runId: string; experimentId: string; sweepId: string | null }
  | { type: 'sweep'; runId?: undefined; experimentId: string; sweepId: string; status: string }
