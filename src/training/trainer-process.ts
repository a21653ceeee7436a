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
import type { Checkpoint, EpochReport, RunSpec, TrainedRun } from '../models/family'
import type { DatasetContent } from '../modules/dataset/dataset.content'
import { familyOf } from '../models/registry'
import { isFatalBackendError } from './fatal'
import { RunFinisher } from './finisher'
import { storedError } from '../modules/common/stored-error'
import { CheckpointError } from '../models/common/checkpoint'
import { RunCheckpoints, StaleAttempt } from './checkpoints'
import { EpochPipeline } from './epoch-pipeline'
import { JobWakeups } from './job-wakeups'
import { describeDbFailure, isDatabaseUnavailable } from '../modules/common/db-errors'

/** How often a trainer asks whether its run was cancelled while it explains the model. */
const CANCEL_POLL_MS = 1000

/** How long a trainer waits between attempts to reach a database that is down (it backs off up to this). */
const OUTAGE_RETRY_MAX_MS = 5000

// After the pool is gone (its IPC channel closed), a send would raise an 'error' event nobody handles.
const send = (m: TrainerMessage) => {
  if (process.connected) process.send?.(m)
}

/** Why the trainer stops: what a run it hands back says, and whether the retry policy applies. */
interface StopCause {
  reason: string
  retries: number
}

const POOL_SHUTDOWN: StopCause = { reason: 'its worker shut down', retries: Number.POSITIVE_INFINITY }
// The API that ran the pool died (kill -9, OOM): the run did nothing wrong, and the next start picks it up.
const POOL_VANISHED: StopCause = {
  reason: 'its worker pool went away (the process that started the trainer ended)',
  retries: Number.POSITIVE_INFINITY,
}

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
  const checkpointPolicy = {
    everyEpochs: config.checkpointEveryEpochs,
    minIntervalMs: config.checkpointMinIntervalMs,
  }
  let shuttingDown = false
  let stopCause = POOL_SHUTDOWN
  let current: Promise<void> | undefined
  /** Set after a fatal backend error: the trainer exits after the run, and its pool starts a fresh one. */
  let recycle = false
  /** Aborts the current run's training or explanation at once (shutdown, or a cancel seen while explaining). */
  let abortCurrent: (() => void) | undefined
  const wakeups = new JobWakeups(databaseUrl, logger)

  /**
   * Runs a database write again while the database is unavailable (down, restarting), backing off, so what
   * the trainer must record is recorded once the database is back instead of being lost with the process.
   */
  async function untilDatabaseAnswers<T>(what: string, write: () => Promise<T>): Promise<T> {
    let delay = 250
    let warned = false
    for (;;) {
      try {
        const result = await write()
        if (warned) logger.info({ what }, 'the database is back')
        return result
      } catch (err) {
        if (!isDatabaseUnavailable(err)) throw err
        if (!warned) logger.warn({ err, what }, 'the database is unavailable; retrying until it is back')
        warned = true
        await new Promise((resolve) => setTimeout(resolve, delay))
        delay = Math.min(delay * 2, OUTAGE_RETRY_MAX_MS)
      }
    }
  }

  /**
   * The database went away under a run: once it is back, the run is handed back for another attempt (per the
   * retry policy) or FAILED, with the outage as its reason - never left RUNNING for the heartbeat check.
   */
  async function handBackAfterOutage(runId: string, attempt: number, err: unknown): Promise<void> {
    const reason = `database unavailable during training: ${describeDbFailure(err)}`
    logger.warn({ runId, attempt, err }, reason)
    await untilDatabaseAnswers('hand the run back', () =>
      runs.abandon(runId, attempt, reason, config.maxRunRetries, enqueue),
    )
  }

  /** Claims a run; when the database fails mid-claim, a claim that did commit is handed back. */
  async function claim(runId: string): Promise<RunRecord | null> {
    try {
      return await runs.claim(runId, workerId, backend)
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err
      const owner = await untilDatabaseAnswers('check the claim', () => runs.ownerOf(runId))
      if (owner?.status === RunStatus.RUNNING && owner.workerId === workerId) {
        await handBackAfterOutage(runId, owner.attempt, err)
      }
      return null
    }
  }

  async function runJob(runId: string): Promise<void> {
    // The rows load while the claim commits (the run's clock starts at the claim): a claim that fails is rare
    // (a cancel while queued deletes the job), and then the rows are dropped unused.
    const content = datasets.findContentOfRun(runId)
    content.catch(() => {}) // awaited after a successful claim; unused otherwise
    const run = await claim(runId)
    if (!run) return // cancelled while queued, another worker has it, or the database failed under the claim
    send({ type: TrainerMessageType.Started, runId, attempt: run.attempt })
    const log = logger.child({ runId, attempt: run.attempt })
    const controller = new AbortController()
    const state = { cancelRequested: false }
    abortCurrent = () => controller.abort()
    const cancel = () => {
      state.cancelRequested = true
      controller.abort()
    }
    // A cancel reaches a training run at its next epoch; the explanation has no epochs, so ask for it too.
    const cancelPoll = setInterval(() => {
      void runs.isCancelRequested(run.id).then(
        (asked) => {
          if (asked) cancel()
        },
        () => {},
      )
    }, CANCEL_POLL_MS)
    cancelPoll.unref()
    try {
      const epochs = await trainAndFinish(run, content, controller.signal, state, log, cancel)
      log.info({ epochs }, 'run ended')
    } catch (err) {
      if (err instanceof StaleAttempt) {
        log.warn('run was taken over by a newer attempt; stopping without writing')
        return
      }
      if (isDatabaseUnavailable(err)) {
        await handBackAfterOutage(run.id, run.attempt, err)
        return
      }
      log.warn({ err }, 'training failed')
      const error = storedError(err, log)
      await untilDatabaseAnswers('fail the run', () =>
        runs.finish(run.id, run.attempt, RunStatus.FAILED, { error }),
      )
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

  /**
   * Trains (from the run's checkpoint when it has one), then explains and stores - or, when stopped on the way,
   * cancels or hands the run back with a checkpoint of its last completed epoch.
   */
  async function trainAndFinish(
    run: RunRecord,
    loading: Promise<DatasetContent | null>,
    signal: AbortSignal,
    state: { cancelRequested: boolean },
    log: typeof logger,
    /** Marks the run cancelled and aborts what it is doing (training or explaining). */
    cancel: () => void,
  ): Promise<number> {
    const checkpoints = new RunCheckpoints(runs, run, checkpointPolicy, log)
    const [content, resume] = await Promise.all([loading, checkpoints.resumePoint()])
    if (!content) throw new TrainingError('the dataset of this run no longer exists', 'INVALID_DATA')
    // Each epoch is stored while the next one trains (in order, one write at a time); a write that failed
    // or was refused (a newer attempt owns the run) stops training at the next epoch boundary.
    const epochs = new EpochPipeline()
    const store = async (report: EpochReport): Promise<void> => {
      // Epochs an earlier attempt stored are trained again from its checkpoint, but never stored or
      // announced twice: subscribers see each epoch once.
      if (checkpoints.isReplay(report.epoch)) return checkpoints.replayed(report)
      const outcome = await runs.recordEpoch(run.id, run.attempt, report)
      if (outcome === 'stale') throw new StaleAttempt()
      // The reply comes while a later epoch trains: stop that one at once, as the cancel poll does, so a run
      // stops within one epoch of its cancel although its writes trail the training by one.
      if (outcome.cancelRequested) cancel()
    }
    const train = (resume: Checkpoint | undefined): Promise<TrainedRun> =>
      familyOf(run.family).train({
        content,
        spec: toRunSpec(run),
        signal,
        ...(resume ? { resume } : {}),
        hooks: {
          onEpoch: async (report, takeCheckpoint) => {
            // The previous epoch's write ran while this epoch trained (it is usually done by now); its reply
            // may carry a cancel, and an epoch trained after a cancel is not stored: a run stops within one
            // epoch of its cancel, as when writes did not trail the training.
            await epochs.drain()
            if (state.cancelRequested) return 'stop'
            epochs.push(() => store(report))
            if (shuttingDown) return 'stop'
            if (checkpoints.isDue(report.epoch)) {
              // A stored checkpoint never runs ahead of the stored epochs (a resume replays up to lastEpoch).
              await epochs.drain()
              await checkpoints.save(takeCheckpoint)
            }
            return undefined
          },
        },
      })
    let result: TrainedRun
    try {
      try {
        result = await train(resume)
      } catch (err) {
        if (!(resume && err instanceof CheckpointError)) throw err
        log.warn({ err }, 'the checkpoint cannot be used; starting over from epoch 1')
        await checkpoints.rewind()
        result = await train(undefined)
      }
    } catch (err) {
      // A failed write (stale attempt, database gone) is the cause when training stopped because of it.
      await epochs.drain()
      throw err
    }
    try {
      // Every accepted epoch is stored before the run's checkpoint, hand-back or terminal status.
      await epochs.drain()
      if (result.cancelled && shuttingDown && !state.cancelRequested)
        await checkpoints.save(() => result.checkpoint())
      // Explaining can take long: should this process die meanwhile, the retry goes straight to the explanation.
      else if (!result.cancelled && run.explainMethods.length > 0)
        await checkpoints.save(() => result.checkpoint())
      const stopped =
        state.cancelRequested ||
        (result.cancelled && shuttingDown) ||
        (await finisher.finish(run, result, signal)) === 'aborted'
      if (!stopped) return result.history.length
      // A cancel wins over a shutdown (the user asked for it); a shutdown hands the run back to the queue,
      // which keeps its history when it has a checkpoint to continue from.
      if (state.cancelRequested) await runs.finish(run.id, run.attempt, RunStatus.CANCELLED, {})
      else await runs.abandon(run.id, run.attempt, stopCause.reason, stopCause.retries, enqueue)
      return result.history.length
    } finally {
      result.dispose()
    }
  }

  const shutdown = (cause: StopCause = POOL_SHUTDOWN) => {
    if (shuttingDown) return
    shuttingDown = true
    stopCause = cause
    // Inside an epoch or an explanation: stop now and hand the run back, rather than be killed after the grace.
    abortCurrent?.()
    void (async () => {
      await boss.offWork(TRAIN_QUEUE).catch(() => {})
      await wakeups.stop()
      await current?.catch(() => {})
      await boss.stop({ graceful: true, wait: true, close: true }).catch(() => {})
      await closeDb(db).catch(() => {})
      process.exit(0)
    })()
  }
  process.on('message', (m: PoolMessage) => {
    if (m?.type === PoolMessageType.Shutdown) shutdown()
  })
  // A trainer has a session of its own (pool.ts), so a terminal's Ctrl-C reaches the API, which asks over IPC;
  // a signal sent to the trainer itself is treated as the pool's request.
  process.on('SIGINT', () => shutdown())
  process.on('SIGTERM', () => shutdown())
  // The pool keeps our run's heartbeat; without it the run would wait RUNNING for the heartbeat check. We
  // still have the database: hand the run back ourselves, so the next start of the API picks it up.
  process.on('disconnect', () => shutdown(POOL_VANISHED))
  // pg-boss 10 does not await the complete()/fail() it calls after a job (manager.js `onFetch`): a job ending
  // while the database is down rejects unhandled. The job is only a handle (the run's row is the truth, and
  // every run is ended or handed back above), so that is logged; anything else still ends the trainer.
  process.on('unhandledRejection', (reason) => {
    if (isDatabaseUnavailable(reason)) {
      logger.warn({ err: reason }, 'a queue call failed while the database was unavailable')
      return
    }
    logger.error({ err: reason }, 'unhandled rejection; the trainer exits')
    process.exit(1)
  })

  const queueWorker = await boss.work<TrainJob>(
    TRAIN_QUEUE,
    { batchSize: 1, pollingIntervalSeconds: 0.5 },
    async ([job]) => {
      if (!job || shuttingDown) return
      current = runJob(job.data.runId)
      await current
      if (recycle) shutdown()
    },
  )
  // A queued job wakes the worker's fetch loop (busy: it fetches right after the run instead of sleeping).
  await wakeups.start(() => boss.notifyWorker(queueWorker))
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
