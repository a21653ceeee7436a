/**
 * A trainer: one child process of a worker pool. It takes run jobs from the queue one at a time,
 * trains in this process (never in the API's), stores each epoch before announcing it, and ends
 * every run it claims in a terminal status - or hands it back to the queue when told to shut down.
 */
import os from 'node:os'
import { loadConfig } from '../config'
import { closeDb, createDb } from '../db/client'
import { createLogger } from '../logger'
import { DatasetRepository } from '../modules/dataset/dataset.repository'
import { RunRecord, RunRepository } from '../modules/run/run.repository'
import { RunStatus } from '../modules/run/run.status'
import { selectBackend } from './backend'
import { PoolMessage, PoolMessageType, TrainerMessage, TrainerMessageType } from './protocol'
import { enqueueWith, openQueue, TRAIN_QUEUE, TrainJob } from './queue'
import { TrainingError } from '../models/common/spec'
import type { RunSpec, TrainedRun } from '../models/family'
import { familyOf } from '../models/registry'
import { isFatalBackendError } from './fatal'
import { RunFinisher } from './finisher'
import { storedError } from '../modules/common/stored-error'

/** How often a trainer asks whether its run was cancelled while it explains the model. */
const CANCEL_POLL_MS = 1000

/** Thrown from the epoch hook when the run was taken from this attempt (a newer attempt owns it). */
class StaleAttempt extends Error {}

const send = (m: TrainerMessage) => process.send?.(m)

async function main() {
  const config = loadConfig()
  const logger = createLogger(config.logLevel, 'trainer')
  const databaseUrl = config.databaseUrl
  if (!databaseUrl) throw new Error('the trainer needs DATABASE_URL')
  const db = createDb(databaseUrl, { max: 3, statementTimeoutMs: config.dbStatementTimeoutMs })
  const runs = new RunRepository(db)
  const datasets = new DatasetRepository(db)
  const backend = await selectBackend(config.tfBackend)
  const boss = await openQueue(databaseUrl, { supervise: false })
  const enqueue = enqueueWith(boss)
  const finisher = new RunFinisher(db, logger, {
    maxEvalRows: config.explainMaxRows,
    sampleSize: config.explainSampleSize,
  })
  const workerId = `${os.hostname()}:${process.pid}`
  let shuttingDown = false
  let current: Promise<void> | undefined
  /** Set after a fatal backend error: the trainer exits after the run, and its pool starts a fresh one. */
  let recycle = false
  /** Aborts the current run's training or explanation at once (shutdown, or a cancel seen while explaining). */
  let abortCurrent: (() => void) | undefined

  async function runJob(runId: string): Promise<void> {
    const run = await runs.claim(runId, workerId, backend)
    if (!run) return // cancelled while queued, or another worker has it
    send({ type: TrainerMessageType.Started, runId, attempt: run.attempt })
    const log = logger.child({ runId, attempt: run.attempt })
    const controller = new AbortController()
    const state = { cancelRequested: false }
    abortCurrent = () => controller.abort()
    // A cancel reaches a training run at its next epoch; the explanation has no epochs, so ask for it too.
    const cancelPoll = setInterval(() => {
      void runs.isCancelRequested(run.id).then(
        (asked) => {
          if (!asked) return
          state.cancelRequested = true
          controller.abort()
        },
        () => {},
      )
    }, CANCEL_POLL_MS)
    cancelPoll.unref()
    try {
      const epochs = await trainAndFinish(run, controller.signal, state)
      log.info({ epochs }, 'run ended')
    } catch (err) {
      if (err instanceof StaleAttempt) {
        log.warn('run was taken over by a newer attempt; stopping without writing')
        return
      }
      log.warn({ err }, 'training failed')
      await runs.finish(run.id, run.attempt, RunStatus.FAILED, { error: storedError(err, log) })
      if (isFatalBackendError(err)) {
        // The backend's memory is corrupt or exhausted: every later run here would fail the same way.
        log.error({ err }, 'the TensorFlow.js backend is broken; this trainer exits for a fresh one')
        recycle = true
      }
    } finally {
      clearInterval(cancelPoll)
      abortCurrent = undefined
      send({ type: TrainerMessageType.Finished, runId })
    }
  }

  /** Trains, then explains and stores - or, when stopped on the way, cancels or hands the run back. */
  async function trainAndFinish(
    run: RunRecord,
    signal: AbortSignal,
    state: { cancelRequested: boolean },
  ): Promise<number> {
    const content = await datasets.findContent(run.datasetId)
    if (!content) throw new TrainingError('the dataset of this run no longer exists', 'INVALID_DATA')
    const result: TrainedRun = await familyOf(run.family).train({
      content,
      spec: toRunSpec(run),
      signal,
      hooks: {
        onEpoch: async (report) => {
          const outcome = await runs.recordEpoch(run.id, run.attempt, report)
          if (outcome === 'stale') throw new StaleAttempt()
          state.cancelRequested ||= outcome.cancelRequested
          return state.cancelRequested || shuttingDown ? 'stop' : undefined
        },
      },
    })
    try {
      const stopped =
        state.cancelRequested ||
        (result.cancelled && shuttingDown) ||
        (await finisher.finish(run, result, signal)) === 'aborted'
      if (!stopped) return result.history.length
      // A cancel wins over a shutdown (the user asked for it); a shutdown hands the run back to the queue.
      if (state.cancelRequested) await runs.finish(run.id, run.attempt, RunStatus.CANCELLED, {})
      else await runs.abandon(run.id, run.attempt, 'its worker shut down', Number.POSITIVE_INFINITY, enqueue)
      return result.history.length
    } finally {
      result.dispose()
    }
  }

  const shutdown = () => {
    if (shuttingDown) return
    shuttingDown = true
    // Inside an epoch or an explanation: stop now and hand the run back, rather than be killed after the grace.
    abortCurrent?.()
    void (async () => {
      await boss.offWork(TRAIN_QUEUE).catch(() => {})
      await current?.catch(() => {})
      await boss.stop({ graceful: true, wait: true, close: true }).catch(() => {})
      await closeDb(db)
      process.exit(0)
    })()
  }
  process.on('message', (m: PoolMessage) => {
    if (m?.type === PoolMessageType.Shutdown) shutdown()
  })
  // Ctrl-C in a terminal reaches the whole process group, trainers included: treat it as the pool's request.
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
  // The pool is our lifeline: if it is gone, so are we (our run gets failed by the heartbeat check).
  process.on('disconnect', () => process.exit(1))

  await boss.work<TrainJob>(TRAIN_QUEUE, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
    if (!job || shuttingDown) return
    current = runJob(job.data.runId)
    await current
    if (recycle) shutdown()
  })
  send({ type: TrainerMessageType.Ready, backend })
  logger.info({ backend, workerId }, 'trainer waiting for runs')
}

function toRunSpec(run: RunRecord): RunSpec {
  return {
    family: run.family,
    hiddenLayers: run.hiddenLayers,
    activation: run.activation,
    epochs: run.epochs,
    batchSize: run.batchSize,
    learningRate: run.learningRate,
    optimizer: run.optimizer,
    validationSplit: run.validationSplit,
    seed: run.seed,
    latentDim: run.latentDim,
    beta: run.beta,
    likelihood: run.likelihood,
    architecture: run.architecture,
    contextLength: run.contextLength,
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
