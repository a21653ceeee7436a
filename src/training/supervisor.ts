import type { Db } from '../db/client'
import type { Logger } from '../logger'
import type { Enqueue, RunRepository } from '../modules/run/run.repository'
import { TRAIN_QUEUE } from './queue'

export interface SupervisorOptions {
  runs: RunRepository
  db: Db
  enqueue: Enqueue
  logger: Logger
  heartbeatTimeoutMs: number
  maxRetries: number
  intervalMs: number
}

/**
 * Keeps runs moving whatever happens to workers, from any API instance (every step is a guarded
 * update, so two instances doing it at once is harmless):
 * - a RUNNING run whose heartbeat is older than the timeout lost its worker (killed, crashed, host
 *   gone): it is retried or FAILED with the reason;
 * - a QUEUED run without a live job (its job was lost) gets a new job.
 */
export class Supervisor {
  private timer: NodeJS.Timeout | undefined
  private sweeping: Promise<void> | undefined

  constructor(private readonly opts: SupervisorOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined))
    }, this.opts.intervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.sweeping
  }

  /** One pass; exposed for tests and start-up. */
  async sweep(): Promise<void> {
    const { runs, logger } = this.opts
    try {
      const stale = await runs.findStale(this.opts.heartbeatTimeoutMs)
      for (const run of stale) {
        const seconds = Math.round(this.opts.heartbeatTimeoutMs / 1000)
        const reason = `worker lost: no heartbeat for more than ${seconds} s`
        logger.warn({ runId: run.id, attempt: run.attempt }, reason)
        await runs.abandon(run.id, run.attempt, reason, this.opts.maxRetries, this.opts.enqueue)
      }
      const orphans = await this.opts.db.$queryRaw<{ id: string }[]>`
        SELECT r.id::text AS id FROM "Run" r
        WHERE r.status = 'QUEUED' AND r."createdAt" < now() - interval '30 seconds'
          AND NOT EXISTS (
            SELECT 1 FROM pgboss.job j
            WHERE j.name = ${TRAIN_QUEUE} AND j.data->>'runId' = r.id::text
              AND j.state IN ('created', 'retry', 'active'))`
      for (const { id } of orphans) {
        logger.warn({ runId: id }, 'queued run had no job; enqueueing it again')
        await this.opts.db.$transaction(async (tx) =>
          this.opts.enqueue(id, {
            executeSql: async (text, values) => ({
              rows: await tx.$queryRawUnsafe<unknown[]>(text, ...values),
            }),
          }),
        )
      }
    } catch (err) {
      logger.warn({ err }, 'supervisor pass failed; will try again')
    }
  }
}
