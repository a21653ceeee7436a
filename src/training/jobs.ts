/** The pg-boss queue that carries one job per run attempt (its rows live in the `pgboss` schema). */
export const TRAIN_QUEUE = 'train-run'

/** A job only says which run to train; the run's row is the source of truth for its state. */
export interface TrainJob {
  runId: string
}
