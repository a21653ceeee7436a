import { Repeater } from '@graphql-yoga/subscription'
import type { RunEventBus } from '../../events/bus'
import type { EpochMetricValue, RunEventMessage } from '../../events/run-events'
import { notFound } from '../../errors'
import { isId } from '../common/ids'
import { serialQueue } from '../common/serial'
import { Throttle } from '../common/throttle'
import type { RunRecord, RunRepository } from '../run/run.repository'
import { isTerminal, RunStatus } from '../run/run.status'
import { isSweepTerminal, SweepStatus } from './sweep.enums'
import type { SweepRepository } from './sweep.repository'

export interface RunProgressPayload {
  runId: string
  epoch: number
  epochs: number
  loss: number
  valLoss: number | null
  accuracy: number | null
  valAccuracy: number | null
}

export type SweepEventPayload =
  | { kind: 'started'; sweepId: string; run: RunRecord }
  | { kind: 'finished'; sweepId: string; run: RunRecord }
  | RunProgressPayload
  | { kind: 'status'; sweepId: string; status: SweepStatus; bestRun: RunRecord | null }

/** Most progress events per run per second a subscriber gets (the last epoch always arrives). */
export const PROGRESS_INTERVAL_MS = 250

export function progressOf(runId: string, epochs: number, m: EpochMetricValue): RunProgressPayload {
  return {
    runId,
    epoch: m.epoch,
    epochs,
    loss: m.loss,
    valLoss: m.valLoss,
    accuracy: m.accuracy,
    valAccuracy: m.valAccuracy,
  }
}

/**
 * A sweep's live view: the runs already going (as SweepRunStarted), then runs started and finished,
 * throttled progress of each run, and the sweep's status; completes after a terminal status.
 */
export class SweepEventStream {
  constructor(
    private readonly sweeps: SweepRepository,
    private readonly runs: RunRepository,
    private readonly bus: RunEventBus,
  ) {}

  async subscribe(sweepId: string): Promise<AsyncIterable<SweepEventPayload>> {
    const sweep = isId(sweepId) ? await this.sweeps.findById(sweepId) : null
    if (!sweep) throw notFound('sweep', sweepId)
    return new Repeater<SweepEventPayload>(async (push, stop) => {
      const serial = serialQueue((err) => stop(err))
      const announced = new Set<string>()
      /** Runs whose end this subscriber was told of, or that had ended before it subscribed. */
      const ended = new Set<string>()
      const epochsOf = new Map<string, number>()
      const progress = new Throttle<RunProgressPayload>(PROGRESS_INTERVAL_MS, (p) =>
        serial(async () => {
          await push(p)
        }),
      )
      let done = false
      const end = async (status: SweepStatus, bestRunId: string | null) => {
        if (done) return
        const bestRun = bestRunId ? await this.runs.findById(bestRunId) : null
        await push({ kind: 'status', sweepId, status, bestRun })
        done = true
        stop()
      }
      const announce = async (runId: string) => {
        if (announced.has(runId)) return
        const run = await this.runs.findById(runId)
        if (!run) return
        announced.add(runId)
        epochsOf.set(runId, run.epochs)
        await push({ kind: 'started', sweepId, run })
      }
      const finish = async (runId: string) => {
        if (ended.has(runId)) return
        const run = await this.runs.findById(runId)
        if (!run || !isTerminal(run.status)) return
        ended.add(runId)
        await push({ kind: 'finished', sweepId, run })
      }
      /**
       * After a lost LISTEN connection: every event of the gap is gone, so the store is compared with
       * what this subscriber was told - runs started, runs ended, the latest epoch of each running run -
       * before the sweep's own status.
       */
      const resync = async () => {
        for (const row of await this.sweeps.runs(sweepId)) {
          if (ended.has(row.id)) continue
          await announce(row.id)
          // Flushed progress is queued behind this step: what follows it is queued too, to keep the order.
          if (isTerminal(row.status as RunStatus)) {
            progress.flush(row.id)
            serial(() => finish(row.id))
          } else if (row.status === RunStatus.RUNNING && row.lastEpoch > 0) {
            const [latest] = await this.runs.history(row.id, row.lastEpoch - 1)
            if (latest) progress.push(row.id, progressOf(row.id, epochsOf.get(row.id) ?? 0, latest))
          }
        }
        const current = await this.sweeps.findById(sweepId)
        if (current && isSweepTerminal(current.status)) serial(() => end(current.status, current.bestRunId))
      }
      const handle = async (m: RunEventMessage | { type: 'resync' }) => {
        if (done) return
        switch (m.type) {
          case 'created':
            await announce(m.runId)
            return
          case 'epoch':
            if (ended.has(m.runId)) return
            progress.push(m.runId, progressOf(m.runId, epochsOf.get(m.runId) ?? m.metric.epoch, m.metric))
            return
          case 'status':
            if (!isTerminal(m.status)) return
            progress.flush(m.runId)
            serial(() => finish(m.runId))
            return
          case 'sweep': {
            const current = await this.sweeps.findById(sweepId)
            if (current && isSweepTerminal(current.status))
              serial(() => end(current.status, current.bestRunId))
            return
          }
          case 'resync':
            await resync()
            return
          case 'explanation':
            return
        }
      }
      const off = this.bus.onSweep(sweepId, (m) => serial(() => handle(m)))
      serial(async () => {
        const current = await this.sweeps.findById(sweepId)
        if (current && isSweepTerminal(current.status)) return end(current.status, current.bestRunId)
        for (const run of await this.sweeps.runs(sweepId)) {
          if (run.status === RunStatus.QUEUED || run.status === RunStatus.RUNNING) await announce(run.id)
          else ended.add(run.id)
        }
      })
      await stop
      done = true
      progress.dispose()
      off()
    })
  }
}
