import { Client } from 'pg'
import type { Logger } from '../logger'
import { TRAIN_JOBS_CHANNEL } from './jobs'

/** How long to wait before listening again after the connection was lost. */
const RECONNECT_MS = 1000

/**
 * Tells an idle trainer that a job was queued (LISTEN on {@link TRAIN_JOBS_CHANNEL}), so it fetches the job at
 * once instead of at its next poll: pg-boss polls every 0.5 s at the fastest, and a short run would wait longer
 * for its trainer than it takes to train. Only a hint - polling goes on, so a notification lost while the
 * connection is down (a database restart) delays a job by one poll at most.
 */
export class JobWakeups {
  private client: Client | undefined
  private stopped = false
  private reconnectTimer: NodeJS.Timeout | undefined
  private onJob: () => void = () => {}

  constructor(
    private readonly connectionString: string,
    private readonly logger: Logger,
  ) {}

  /** Starts listening, calling `onJob` for every job queued; never throws (without the hint the trainer polls). */
  async start(onJob: () => void): Promise<void> {
    this.onJob = onJob
    try {
      await this.connect()
    } catch (err) {
      this.logger.warn({ err }, 'cannot listen for new jobs; polling only until the database answers')
      this.scheduleReconnect()
    }
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.connectionString,
      application_name: 'lab-trainer-jobs',
    })
    client.on('notification', (n) => {
      if (n.channel === TRAIN_JOBS_CHANNEL) this.onJob()
    })
    const lost = () => {
      if (this.stopped || this.client !== client) return
      this.scheduleReconnect()
    }
    client.on('error', lost)
    client.on('end', lost)
    try {
      await client.connect()
      await client.query(`LISTEN ${TRAIN_JOBS_CHANNEL}`)
    } catch (err) {
      await client.end().catch(() => {})
      throw err
    }
    if (this.stopped) {
      await client.end().catch(() => {})
      return
    }
    this.client = client
  }

  private scheduleReconnect(): void {
    const old = this.client
    this.client = undefined
    old?.end().catch(() => {})
    if (this.stopped || this.reconnectTimer) return
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      this.connect().catch(() => this.scheduleReconnect())
    }, RECONNECT_MS)
    this.reconnectTimer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
    await this.client?.end().catch(() => {})
    this.client = undefined
  }
}
