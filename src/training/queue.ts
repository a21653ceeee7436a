import PgBoss from 'pg-boss'
import type { TxSql } from '../modules/run/run.repository'

import { TRAIN_JOBS_CHANNEL, TRAIN_QUEUE, type TrainJob } from './jobs'

export { TRAIN_JOBS_CHANNEL, TRAIN_QUEUE, type TrainJob } from './jobs'

/**
 * Opens pg-boss on the application database (its tables live in the `pgboss` schema). The job only
 * says which run to train; the run's row is the source of truth for its state, so pg-boss never
 * retries on its own (retryLimit 0) - the supervisor decides about retries.
 */
export async function openQueue(connectionString: string, opts: { supervise: boolean }): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString,
    max: 3,
    supervise: opts.supervise,
    schedule: false,
    migrate: true,
    application_name: 'lab-queue',
  })
  boss.on('error', () => {
    // Transient connection errors are retried by pg-boss; callers log through their own paths.
  })
  await boss.start()
  await boss.createQueue(TRAIN_QUEUE, {
    name: TRAIN_QUEUE,
    retryLimit: 0,
    // A job is a handle for the worker; training may take long, and liveness is judged by heartbeats.
    expireInSeconds: 60 * 60 * 23,
  })
  return boss
}

/**
 * Enqueues a run's job through the caller's transaction, so the run and its job commit together; the
 * notification that wakes idle trainers is sent at the same commit.
 */
export function enqueueWith(boss: PgBoss) {
  return async (runId: string, sql: TxSql): Promise<void> => {
    await boss.send(TRAIN_QUEUE, { runId } satisfies TrainJob, { db: sql as PgBoss.Db, retryLimit: 0 })
    await sql.executeSql(`SELECT pg_notify('${TRAIN_JOBS_CHANNEL}', '') IS NULL AS sent`, [])
  }
}
