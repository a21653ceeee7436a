import { RunEventBus } from '../../events/bus'
import { EpochMetricValue, RunEventMessage } from '../../events/run-events'
import { badInput, notFound } from '../../errors'
import { shareEvent } from '../../server/shared-subscribe'
import { eventChannel } from '../common/event-channel'
import { isId } from '../common/ids'
import { serialQueue } from '../common/serial'
import { SharedReads } from '../common/shared-read'
import type { Explanation } from '../explanation/explanation.type'
import { RunRepository } from './run.repository'
import { isTerminal, RunStatus } from './run.status'

/** What `runEvents` yields; the GraphQL union picks the member by shape. */
export type RunEventPayload =
  | { runId: string; metric: EpochMetricValue }
  | { runId: string; status: RunStatus; error: string | null }
  | { runId: string; explanation: Explanation }
type StatusPayload = Extract<RunEventPayload, { status: RunStatus }>

/**
 * The payload of a live epoch or status message: one object for all the run's subscribers, so that each
 * selection of it is executed once (src/server/shared-subscribe.ts), not once per subscriber.
 */
const livePayloads = new WeakMap<RunEventMessage, RunEventPayload>()
function livePayload(m: Extract<RunEventMessage, { type: 'epoch' }>): RunEventPayload
function livePayload(m: Extract<RunEventMessage, { type: 'status' }>): StatusPayload
function livePayload(m: Extract<RunEventMessage, { type: 'epoch' | 'status' }>): RunEventPayload {
  let payload = livePayloads.get(m)
  if (!payload) {
    payload = shareEvent(
      m.type === 'epoch'
        ? { runId: m.runId, metric: m.metric }
        : { runId: m.runId, status: m.status, error: m.error },
    )
    livePayloads.set(m, payload)
  }
  return payload
}

/**
 * One subscriber's view of a run: the stored epochs after `afterEpoch`, then live events, each
 * epoch once and in order, completing after the terminal status.
 *
 * The subscriber listens before it reads the store, so nothing falls between the replay and the
 * live stream; epochs already replayed are skipped when they also arrive live, and a gap (or a lost
 * listener connection) is filled from the store. Events are handled strictly one after another.
 */
export class RunEventStream {
  /**
   * The reads every subscriber of a run makes at the same moments (when the run starts and ends, on a burst
   * of resubscriptions), made once for all of them: src/modules/common/shared-read.ts.
   */
  private readonly runs: SharedReads<string, Awaited<ReturnType<RunRepository['findById']>>>
  private readonly histories: SharedReads<string, EpochMetricValue[], number>
  private readonly explanations: SharedReads<string, Explanation | null>

  constructor(
    repo: RunRepository,
    private readonly bus: RunEventBus,
    /** The stored explanation of a run, for ExplanationReady events. */
    explanationOf: (runId: string) => Promise<Explanation | null>,
  ) {
    this.runs = new SharedReads((id) => repo.findById(id))
    // One read from the smallest afterEpoch asked serves every caller; each keeps its own epochs after.
    this.histories = new SharedReads(
      (id, after) => repo.history(id, after),
      (a, b) => Math.min(a, b),
      (epochs, after) => epochs.filter((e) => e.epoch > after),
    )
    this.explanations = new SharedReads((id) => explanationOf(id))
  }

  async subscribe(
    runId: string,
    afterEpoch: number | null | undefined,
  ): Promise<AsyncIterable<RunEventPayload>> {
    const after = afterEpoch ?? 0
    if (!Number.isInteger(after) || after < 0)
      throw badInput('afterEpoch must be 0 or more', { field: 'afterEpoch' })
    const exists = isId(runId) ? await this.runs.load(runId) : null
    if (!exists) throw notFound('run', runId)

    return eventChannel<RunEventPayload>((push, stop) => {
      let last = after
      let done = false
      let explained = false
      const pushExplanation = async () => {
        if (explained) return
        const explanation = await this.explanations.load(runId)
        if (!explanation) return
        explained = true
        push({ runId, explanation })
      }
      const queue = serialQueue((err) => {
        done = true
        stop(err)
      })
      // Nothing is handled after the terminal status has been sent.
      const serial = (step: () => Promise<void>) =>
        queue(async () => {
          if (!done) await step()
        })
      const end = async (status: StatusPayload) => {
        // A subscriber that missed the live ExplanationReady (it joined late) still gets it first.
        if (status.status === RunStatus.SUCCEEDED) await pushExplanation()
        push(status)
        done = true
        stop()
      }
      const catchUp = async () => {
        for (const metric of await this.histories.load(runId, last)) {
          last = metric.epoch
          push({ runId, metric })
        }
      }
      const endIfTerminal = async () => {
        const run = await this.runs.load(runId)
        if (!run || !isTerminal(run.status)) return
        // Epochs stored after the catch-up that came before this read are committed by now: send them first.
        await catchUp()
        await end({ runId, status: run.status, error: run.error })
      }
      const handle = async (m: RunEventMessage | { type: 'resync' }) => {
        switch (m.type) {
          case 'epoch':
            if (m.metric.epoch <= last) return
            if (m.metric.epoch === last + 1) {
              last = m.metric.epoch
              push(livePayload(m))
            } else await catchUp()
            return
          case 'status':
            if (isTerminal(m.status)) {
              // Every epoch committed before the terminal status; make sure none is missing.
              await catchUp()
              await end(livePayload(m))
              return
            }
            push(livePayload(m))
            return
          case 'rewound':
            // A retry without a usable checkpoint starts its history again from epoch 1 (one that resumes
            // from a checkpoint keeps it, and its epochs simply go on).
            last = 0
            return
          case 'explanation':
            await catchUp()
            await pushExplanation()
            return
          case 'resync':
            await catchUp()
            await endIfTerminal()
            return
          case 'created':
            return
        }
      }
      const off = this.bus.onRun(runId, (m) => serial(() => handle(m)))
      serial(async () => {
        await catchUp()
        await endIfTerminal()
      })
      return () => {
        done = true
        off()
      }
    })
  }
}
