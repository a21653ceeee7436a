import { Repeater } from '@graphql-yoga/subscription'
import type { RunEventBus } from '../../events/bus'
import type { RunEventMessage } from '../../events/run-events'
import { checkName } from '../dataset/dataset.content'
import { serialQueue } from '../common/serial'
import { Throttle } from '../common/throttle'
import type { RunRecord, RunRepository } from '../run/run.repository'
import { RunStatus } from '../run/run.status'
import { PROGRESS_INTERVAL_MS, progressOf, RunProgressPayload } from '../sweep/sweep.events'
import type { ExperimentRepository } from './experiment.repository'

export type ExperimentEventPayload =
  | { kind: 'created'; run: RunRecord }
  | { runId: string; status: RunStatus; error: string | null }
  | RunProgressPayload

/**
 * Everything a live experiment table needs: runs created, every status change, and each run's
 * progress at most every 250 ms (its latest epoch is never lost). Never completes on its own.
 */
export class ExperimentEventStream {
  constructor(
    private readonly experiments: ExperimentRepository,
    private readonly runs: RunRepository,
    private readonly bus: RunEventBus,
  ) {}

  async subscribe(experimentName: string): Promise<AsyncIterable<ExperimentEventPayload>> {
    const name = checkName(experimentName, 'experiment')
    // Watching an experiment before its first run is fine: it is created, as startRun would.
    const experiment = await this.experiments.ensure(name)
    const since = new Date()
    return new Repeater<ExperimentEventPayload>(async (push, stop) => {
      const serial = serialQueue((err) => stop(err))
      const epochsOf = new Map<string, number>()
      /** The last status this subscriber was told of each run it heard of. */
      const told = new Map<string, RunStatus>()
      const progress = new Throttle<RunProgressPayload>(PROGRESS_INTERVAL_MS, (p) =>
        serial(async () => {
          await push(p)
        }),
      )
      const epochs = async (runId: string) => {
        let n = epochsOf.get(runId)
        if (n === undefined) {
          n = (await this.runs.findById(runId))?.epochs ?? 0
          epochsOf.set(runId, n)
        }
        return n
      }
      const handle = async (m: RunEventMessage | { type: 'resync' }) => {
        switch (m.type) {
          case 'created': {
            const run = await this.runs.findById(m.runId)
            if (run && !told.has(run.id)) {
              epochsOf.set(run.id, run.epochs)
              told.set(run.id, run.status)
              await push({ kind: 'created', run })
            }
            return
          }
          case 'resync':
            // Notifications sent while the listener was away are gone: compare what the store says with
            // what this subscriber was told, and send the difference.
            for (const run of await this.runs.changedInExperiment(experiment.id, since)) {
              epochsOf.set(run.id, run.epochs)
              const before = told.get(run.id)
              told.set(run.id, run.status)
              if (before === undefined) await push({ kind: 'created', run })
              // A new run's 'created' already says QUEUED.
              const news = before === undefined ? run.status !== RunStatus.QUEUED : before !== run.status
              if (news) {
                // Progress still waiting in the throttle goes first; the status is queued behind it.
                progress.flush(run.id)
                serial(async () => {
                  await push({ runId: run.id, status: run.status, error: run.error })
                })
              }
              if (run.status === RunStatus.RUNNING && run.lastEpoch > 0) {
                const [latest] = await this.runs.history(run.id, run.lastEpoch - 1)
                if (latest) progress.push(run.id, progressOf(run.id, run.epochs, latest))
              }
            }
            return
          case 'epoch':
            progress.push(m.runId, progressOf(m.runId, await epochs(m.runId), m.metric))
            return
          case 'status':
            told.set(m.runId, m.status)
            progress.flush(m.runId)
            serial(async () => {
              await push({ runId: m.runId, status: m.status, error: m.error })
            })
            return
          default:
            return
        }
      }
      const off = this.bus.onExperiment(experiment.id, (m) => serial(() => handle(m)))
      await stop
      progress.dispose()
      off()
    })
  }
}
