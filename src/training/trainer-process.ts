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
import { RunFinisher } from './finisher'
import { storedError } from '../modules/common/stored-error'

/** Thrown from the epoch hook when the run was taken from this attempt (a newer attempt owns it). */
class StaleAttempt extends Error {}

const send = (m: TrainerMessage) => process.send?.(m)

async function main() {
  const config = loadConfig()
  const logger = createLogger(config.logLevel, 'trainer')
  const databaseUrl = config.databaseUrl
  if (!databaseUrl) throw new Error('the trainer needs DATABASE_URL')
  const db = createDb(databaseUrl, { max: 3 })
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

  async function runJob(runId: string): Promise<void> {
    const run = await runs.claim(runId, workerId, backend)
    if (!run) return // cancelled while queued, or another worker has it
    send({ type: TrainerMessageType.Started, runId, attempt: run.attempt })
    const log = logger.child({ runId, attempt: run.attempt })
    try {
      const content = await datasets.findContent(run.datasetId)
      if (!content) throw new TrainingError('the dataset of this run no longer exists', 'INVALID_DATA')
      let cancelRequested = false
      const result: TrainedRun = await familyOf(run.family).train({
        content,
        spec: toRunSpec(run),
        hooks: {
          onEpoch: async (report) => {
            const outcome = await runs.recordEpoch(run.id, run.attempt, report)
            if (outcome === 'stale') throw new StaleAttempt()
            cancelRequested = outcome.cancelRequested
            return cancelRequested || shuttingDown ? 'stop' : undefined
          },
        },
      })
      try {
        if (cancelRequested) {
          await runs.finish(run.id, run.attempt, RunStatus.CANCELLED, {})
        } else if (result.cancelled && shuttingDown) {
          await runs.abandon(run.id, run.attempt, 'its worker shut down', Number.POSITIVE_INFINITY, enqueue)
        } else {
          await finisher.finish(run, result)
        }
      } finally {
        result.dispose()
      }
      log.info({ epochs: result.history.length }, 'run ended')
    } catch (err) {
      if (err instanceof StaleAttempt) {
        log.warn('run was taken over by a newer attempt; stopping without writing')
        return
      }
      log.warn({ err }, 'training failed')
      await runs.finish(run.id, run.attempt, RunStatus.FAILED, { error: storedError(err, log) })
    } finally {
      send({ type: TrainerMessageType.Finished, runId })
    }
  }

  process.on('message', (m: PoolMessage) => {
    if (m?.type !== PoolMessageType.Shutdown || shuttingDown) return
    shuttingDown = true
    void (async () => {
      await boss.offWork(TRAIN_QUEUE).catch(() => {})
      await current?.catch(() => {})
      await boss.stop({ graceful: true, wait: true, close: true }).catch(() => {})
      await closeDb(db)
      process.exit(0)
    })()
  })
  // The pool is our lifeline: if it is gone, so are we (our run gets failed by the heartbeat check).
  process.on('disconnect', () => process.exit(1))

  await boss.work<TrainJob>(TRAIN_QUEUE, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
    if (!job || shuttingDown) return
    current = runJob(job.data.runId)
    await current
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
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
