import type { Logger } from '../logger'
import type { Enqueue, RunRepository } from '../modules/run/run.repository'
import { isDatabaseUnavailable } from '../modules/common/db-errors'
import { TRAIN_QUEUE } from './queue'

/** A QUEUED run this old without a job lost it (a fresh one may not have committed its job yet). */
const ORPHAN_AFTER_MS = 30_000

export interface SupervisorOptions {
  runs: RunRepository
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
 *   gone): it is retried or FAILED with the reason - unless the database itself was away meanwhile
 *   (restarted, or unreachable from here), which stops heartbeats of live workers too;
 * - a QUEUED run without a live job (its job was lost) gets a new job.
 */
export class Supervisor {
  private timer: NodeJS.Timeout | undefined
  private sweeping: Promise<void> | undefined
  /** When a pass last found the database unavailable (Date.now()); heartbeats missed around it prove nothing. */
  private lastOutageAt = Number.NEGATIVE_INFINITY

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
      // While the database was unreachable from here, nobody could write heartbeats either: judging them
      // before it has been back for a whole timeout would fail runs whose trainers are alive and waiting.
      const judge = Date.now() - this.lastOutageAt > this.opts.heartbeatTimeoutMs
      const stale = judge ? await runs.findStale(this.opts.heartbeatTimeoutMs) : []
      for (const run of stale) {
        const seconds = Math.round(this.opts.heartbeatTimeoutMs / 1000)
        const reason = `worker lost: no heartbeat for more than ${seconds} s`
        logger.warn({ runId: run.id, attempt: run.attempt }, reason)
        await runs.abandon(run.id, run.attempt, reason, this.opts.maxRetries, this.opts.enqueue)
      }
      for (const id of await runs.findQueuedWithoutJob(TRAIN_QUEUE, ORPHAN_AFTER_MS)) {
        logger.warn({ runId: id }, 'queued run had no job; enqueueing it again')
        await runs.enqueueAgain(id, this.opts.enqueue)
      }
    } catch (err) {
      if (isDatabaseUnavailable(err)) this.lastOutageAt = Date.now()
      logger.warn({ err }, 'supervisor pass failed; will try again')
    }
  }
}
