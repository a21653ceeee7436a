/** The pg-boss queue that carries one job per run attempt (its rows live in the `pgboss` schema). */
export const TRAIN_QUEUE = 'train-run'

/** A job only says which run to train; the run's row is the source of truth for its state. */
export interface TrainJob {
  runId: string
}

/**
 * Notified (at commit) with every job queued: idle trainers fetch it at once rather than at their next poll.
 * The payload is empty; the queue stays the truth.
 */
export const TRAIN_JOBS_CHANNEL = 'lab_train_jobs'
