import { Client } from 'pg'
import type { Logger } from '../logger'
import { RUN_EVENTS_CHANNEL, RunEventMessage } from './run-events'

type Listener = (message: RunEventMessage | { type: 'resync' }) => void

/**
 * Receives run events from PostgreSQL (LISTEN) and hands them to in-process subscribers, keyed by
 * run and by experiment. One connection per API process, whatever the number of subscribers.
 * After a lost connection it reconnects and tells every subscriber to `resync` from the store,
 * since notifications sent while it was away are gone.
 */
export class RunEventBus {
  private client: Client | undefined
  private readonly byRun = new Map<string, Set<Listener>>()
  private readonly byExperiment = new Map<string, Set<Listener>>()
  private readonly bySweep = new Map<string, Set<Listener>>()
  private readonly everything = new Set<Listener>()
  private stopped = false
  private reconnectTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly connectionString: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect()
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.connectionString, application_name: 'lab-events' })
    client.on('notification', (n) => {
      if (n.channel !== RUN_EVENTS_CHANNEL || !n.payload) return
      let message: RunEventMessage
      try {
        message = JSON.parse(n.payload) as RunEventMessage
      } catch {
        this.logger.warn({ payload: n.payload }, 'ignoring malformed run event')
        return
      }
      this.dispatch(message)
    })
    // A server that closes the connection (a restart, pg_terminate_backend) may end it without an error.
    const lost = (err?: unknown) => {
      // Our own stop() ends the connection too: that is no loss.
      if (this.stopped || this.client !== client) return
      this.logger.warn({ err }, 'event listener connection lost; reconnecting')
      this.scheduleReconnect()
    }
    client.on('error', lost)
    client.on('end', () => lost())
    try {
      await client.connect()
      await client.query(`LISTEN ${RUN_EVENTS_CHANNEL}`)
    } catch (err) {
      // A connection that failed half-way (the server went down again before LISTEN) is not kept open.
      await client.end().catch(() => {})
      throw err
    }
    this.client = client
  }

  private scheduleReconnect() {
    const old = this.client
    this.client = undefined
    old?.end().catch(() => {})
    if (this.stopped || this.reconnectTimer) return
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = undefined
      try {
        await this.connect()
        this.broadcast({ type: 'resync' })
      } catch (err) {
        this.logger.warn({ err }, 'event listener reconnect failed; retrying')
        this.scheduleReconnect()
      }
    }, 500)
  }

  private dispatch(message: RunEventMessage) {
    if (message.runId !== undefined) for (const l of this.byRun.get(message.runId) ?? []) l(message)
    for (const l of this.byExperiment.get(message.experimentId) ?? []) l(message)
    if (message.sweepId) for (const l of this.bySweep.get(message.sweepId) ?? []) l(message)
    for (const l of this.everything) l(message)
  }

  private broadcast(message: { type: 'resync' }) {
    for (const map of [this.byRun, this.byExperiment, this.bySweep]) {
      for (const set of map.values()) for (const l of set) l(message)
    }
    for (const l of this.everything) l(message)
  }

  /** Calls `listener` for every event of one run until the returned function is called. */
  onRun(runId: string, listener: Listener): () => void {
    return add(this.byRun, runId, listener)
  }

  onExperiment(experimentId: string, listener: Listener): () => void {
    return add(this.byExperiment, experimentId, listener)
  }

  /** Every event (the sweep driver reacts to its runs' progress with it). */
  onAny(listener: Listener): () => void {
    this.everything.add(listener)
    return () => this.everything.delete(listener)
  }

  /** Events of a sweep: its own status changes and every event of its runs. */
  onSweep(sweepId: string, listener: Listener): () => void {
    return add(this.bySweep, sweepId, listener)
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
    await this.client?.end().catch(() => {})
    this.client = undefined
  }
}

function add(map: Map<string, Set<Listener>>, key: string, listener: Listener): () => void {
  let set = map.get(key)
  if (!set) map.set(key, (set = new Set()))
  set.add(listener)
  return () => {
    set.delete(listener)
    if (set.size === 0) map.delete(key)
  }
}
