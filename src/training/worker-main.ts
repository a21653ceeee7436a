/**
 * `npm run worker`: trainer processes without the API, for more training hosts. Point DATABASE_URL
 * at the same PostgreSQL as the API; LAB_WORKERS sets how many trainers (default 1).
 */
import { loadConfigOrExit, stopOnSignals } from '../config'
import { closeDb, createDb } from '../db/client'
import { applyMigrations } from '../db/migrate'
import { createLogger } from '../logger'
import { RunRepository } from '../modules/run/run.repository'
import { WorkerPool } from './pool'
import { enqueueWith, openQueue } from './queue'

async function main() {
  const config = loadConfigOrExit()
  const logger = createLogger(config.logLevel, 'worker')
  if (!config.databaseUrl) {
    console.error(
      'npm run worker needs DATABASE_URL: the PostgreSQL the API uses (see README, "More workers")',
    )
    process.exit(2)
  }
  const databaseUrl = config.databaseUrl
  await applyMigrations(databaseUrl, { logger })
  const db = createDb(databaseUrl, { max: 3, statementTimeoutMs: config.dbStatementTimeoutMs })
  const boss = await openQueue(databaseUrl, { supervise: false })
  const pool = new WorkerPool({
    size: Math.max(1, config.workers),
    databaseUrl,
    logger,
    runs: new RunRepository(db),
    enqueue: enqueueWith(boss),
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    nice: config.trainerNice,
    maxRetries: config.maxRunRetries,
    env: { LOG_LEVEL: config.logLevel, ...(config.tfBackend ? { LAB_TF_BACKEND: config.tfBackend } : {}) },
  })
  pool.start()
  logger.info({ trainers: pool.pids().length }, 'workers started')
  stopOnSignals(
    async () => {
      logger.info('stopping workers: running jobs are handed back to the queue')
      await pool.stop()
      await boss.stop({ graceful: true, wait: true, close: true })
      await closeDb(db)
    },
    (err) => logger.error({ err }, 'shutdown failed'),
  )
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
