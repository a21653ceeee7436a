import type { GraphQLSchema } from 'graphql'
import { createPubSub } from '@graphql-yoga/subscription'
import type PgBoss from 'pg-boss'
import type { Config } from './config'
import type { Db } from './db/client'
import { RunEventBus } from './events/bus'
import type { Logger } from './logger'
import { ApiKeyRepository } from './modules/apikey/apikey.repository'
import { ApiKeyResolver } from './modules/apikey/apikey.resolver'
import type { Principal } from './modules/apikey/apikey.scope'
import { ApiKeyService } from './modules/apikey/apikey.service'
import { DatasetRepository } from './modules/dataset/dataset.repository'
import { DatasetResolver } from './modules/dataset/dataset.resolver'
import { DatasetService } from './modules/dataset/dataset.service'
import { ExperimentRepository } from './modules/experiment/experiment.repository'
import { ExperimentResolver } from './modules/experiment/experiment.resolver'
import { ExplanationRepository } from './modules/explanation/explanation.repository'
import { ExplanationResolver } from './modules/explanation/explanation.resolver'
import { ExplanationService } from './modules/explanation/explanation.service'
import { GenerationResolver } from './modules/generation/generation.resolver'
import { GenerationService } from './modules/generation/generation.service'
import { ModelQueries, PredictionService } from './modules/run/prediction.service'
import { RunEventStream } from './modules/run/run.events'
import { createLoaders, Loaders } from './modules/run/run.loaders'
import { RunRepository } from './modules/run/run.repository'
import { RunResolver } from './modules/run/run.resolver'
import { RunService } from './modules/run/run.service'
import { ExperimentEventStream } from './modules/experiment/experiment.events'
import { SweepEventStream } from './modules/sweep/sweep.events'
import { SweepRepository } from './modules/sweep/sweep.repository'
import { SweepResolver } from './modules/sweep/sweep.resolver'
import { SweepService } from './modules/sweep/sweep.service'
import { RequestGuard } from './server/auth'
import { ResolverContainer } from './server/container'
import { buildLabSchema } from './server/schema'
import { familyOf } from './models/registry'
import { selectBackend } from './training/backend'
import { parseBodyOnThread, QueryPool, ThreadedModelQueries } from './query/query-pool'
import type { ParsedBody } from './server/json-body'
import type { HttpRequestParts } from './server/http'
import type { SplicedLists } from './modules/common/spliced-lists'
import { NO_PACKED_VARIABLES, type PackedVariables } from './modules/common/packed-rows'
import { WorkerPool } from './training/pool'
import { enqueueWith, openQueue } from './training/queue'
import { Supervisor } from './training/supervisor'

/** Per-operation GraphQL context: request-scoped loaders plus the long-lived event stream. */
export interface AppContext {
  /** Who sent the operation (a key, or anyone when auth is off). */
  principal: Principal
  loaders: Loaders
  runEvents: RunEventStream
  /** Text generation, for the generationEvents subscription. */
  generation: GenerationService
  sweepEvents: SweepEventStream
  experimentEvents: ExperimentEventStream
  /** Variables of the request body packed off the event loop (src/modules/common/packed-rows.ts). */
  packedVariables: PackedVariables
  /**
   * HTTP only: long lists answered as JSON prebuilt off the loop and spliced into the response
   * (src/modules/common/spliced-lists.ts). Undefined over WebSocket, where answers are completed as usual.
   */
  splicedLists: SplicedLists | undefined
}

/** The services of one API process, wired explicitly (no work at import time). */
export interface App {
  schema: GraphQLSchema
  datasets: DatasetService
  runs: RunService
  pool: WorkerPool | undefined
  /** predict, explainInstance and the generative queries: on query threads unless LAB_QUERY_THREADS=0. */
  queries: ModelQueries
  supervisor: Supervisor
  apiKeys: ApiKeyService
  /** Authenticates and authorizes every request (src/server/auth.ts). */
  guard: RequestGuard
  context: (principal: Principal, http?: HttpRequestParts) => AppContext
  /** Parses a large request body on a query thread; undefined with LAB_QUERY_THREADS=0. */
  parseLargeBody: ((bytes: Uint8Array) => Promise<ParsedBody>) | undefined
  close(): Promise<void>
}

export async function createApp(config: Config, db: Db, databaseUrl: string, logger: Logger): Promise<App> {
  const closers: (() => Promise<void>)[] = []
  const close = async () => {
    for (const c of closers.reverse())
      await c().catch((err: unknown) => logger.error({ err }, 'close failed'))
  }
  try {
    const boss: PgBoss = await openQueue(databaseUrl, { supervise: true })
    closers.push(() => boss.stop({ graceful: true, wait: true, close: true }))
    const enqueue = enqueueWith(boss)
    const bus = new RunEventBus(databaseUrl, logger.child({ component: 'events' }))
    await bus.start()
    closers.push(() => bus.stop())

    const datasetRepo = new DatasetRepository(db)
    const datasets = new DatasetService(datasetRepo, {
      maxRows: config.maxDatasetRows,
      maxCells: config.maxDatasetCells,
      maxFeatures: config.maxDatasetFeatures,
      maxTextBytes: config.maxTextBytes,
    })
    const runRepo = new RunRepository(db)
    const experiments = new ExperimentRepository(db)
    const runs = new RunService(runRepo, datasets, enqueue, {
      maxModelParameters: config.maxModelParameters,
      maxTrainingSteps: config.maxTrainingSteps,
      maxQueuedRunsPerKey: config.maxQueuedRunsPerKey,
    })
    const queryPool = createQueryPool(config, logger)
    const queries = createModelQueries(queryPool, runRepo, config.tfBackend)
    closers.push(async () => queries.dispose())
    const generation = new GenerationService(queries, runRepo, datasets, {
      maxGenerateTokens: config.maxGenerateTokens,
      maxExplainEvaluations: config.maxExplainEvaluations,
    })
    const explanations = new ExplanationService(new ExplanationRepository(db), runRepo, datasets, queries, {
      maxEvaluations: config.maxExplainEvaluations,
    })
    const runEvents = new RunEventStream(runRepo, bus, (runId) => explanations.forRun(runId))

    const supervisor = new Supervisor({
      runs: runRepo,
      enqueue,
      logger: logger.child({ component: 'supervisor' }),
      heartbeatTimeoutMs: config.heartbeatTimeoutMs,
      maxRetries: config.maxRunRetries,
      intervalMs: Math.max(500, Math.floor(config.heartbeatIntervalMs / 2)),
    })
    await supervisor.sweep()
    supervisor.start()
    closers.push(() => supervisor.stop())

    let pool: WorkerPool | undefined
    if (config.workers > 0) {
      pool = new WorkerPool({
        size: config.workers,
        databaseUrl,
        logger: logger.child({ component: 'pool' }),
        runs: runRepo,
        enqueue,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        nice: config.trainerNice,
        maxRetries: config.maxRunRetries,
        env: {
          LOG_LEVEL: config.logLevel,
          ...(config.tfBackend ? { LAB_TF_BACKEND: config.tfBackend } : {}),
          LAB_CHECKPOINT_EVERY_EPOCHS: String(config.checkpointEveryEpochs),
          LAB_CHECKPOINT_MIN_INTERVAL_MS: String(config.checkpointMinIntervalMs),
        },
      })
      pool.start()
      const started = pool
      closers.push(() => started.stop())
    }

    const sweepRepo = new SweepRepository(db)
    const sweeps = new SweepService(sweepRepo, runs, logger.child({ component: 'sweeps' }))
    // Events drive sweeps; the periodic pass only catches up (after a restart or a missed event).
    sweeps.startDriving(Math.max(1000, config.heartbeatIntervalMs))
    closers.push(() => sweeps.stop())
    // The driver reacts to its runs at once (status changes, epochs for early stopping).
    const offSweeps = bus.onAny((m) => sweeps.onRunEvent(m))
    closers.push(async () => offSweeps())
    const sweepEvents = new SweepEventStream(sweepRepo, runRepo, bus)
    const experimentEvents = new ExperimentEventStream(experiments, runRepo, bus)

    const apiKeys = new ApiKeyService(new ApiKeyRepository(db), logger.child({ component: 'api-keys' }))
    if (config.adminKey !== undefined) await apiKeys.seedAdmin(config.adminKey)
    if (config.auth === 'required' && !(await apiKeys.hasAdmin())) {
      logger.warn('LAB_AUTH=required and no ADMIN key exists: set LAB_ADMIN_KEY to create keys')
    }
    const guard = new RequestGuard({
      required: config.auth === 'required',
      keys: apiKeys,
      mutationsPerMinute: config.rateLimitMutationsPerMinute,
    })

    const container = new ResolverContainer().register(
      new DatasetResolver(datasets),
      new RunResolver(runs, queries),
      new ExperimentResolver(experiments, runs),
      new ExplanationResolver(explanations),
      new GenerationResolver(generation),
      new SweepResolver(sweeps, runs),
      new ApiKeyResolver(apiKeys),
    )
    const schema = await buildLabSchema({ container, pubSub: createPubSub() })
    return {
      schema,
      datasets,
      runs,
      pool,
      queries,
      supervisor,
      apiKeys,
      guard,
      context: (principal, http) => ({
        principal,
        packedVariables: http?.packed ?? NO_PACKED_VARIABLES,
        splicedLists: http?.splicedLists,
        loaders: createLoaders({ datasets, experiments, runs: runRepo, explanations, sweeps }),
        runEvents,
        generation,
        sweepEvents,
        experimentEvents,
      }),
      parseLargeBody: queryPool && ((bytes) => parseBodyOnThread(queryPool, bytes)),
      close,
    }
  } catch (err) {
    await close()
    throw err
  }
}

/** The query threads (LAB_QUERY_THREADS); none when it is 0. */
function createQueryPool(config: Config, logger: Logger): QueryPool | undefined {
  if (config.queryThreads === 0) return undefined
  return new QueryPool({
    threads: config.queryThreads,
    maxQueue: config.queryQueue,
    settings: {
      cacheSize: QUERY_THREAD_MODEL_CACHE,
      tfBackend: config.tfBackend,
      nice: config.queryThreadNice,
    },
    logger: logger.child({ component: 'query-pool' }),
  })
}

/** Model queries on the query threads, or on this process's own event loop when there are none. */
function createModelQueries(
  pool: QueryPool | undefined,
  runs: RunRepository,
  tfBackend: Config['tfBackend'],
): ModelQueries {
  if (pool) return new ThreadedModelQueries(runs, pool)
  return new PredictionService(runs, async (run, stored) => {
    await selectBackend(tfBackend)
    return familyOf(run.family).load(stored)
  })
}

/** Loaded models each query thread keeps (a model holds its weights as tensors of that thread). */
const QUERY_THREAD_MODEL_CACHE = 4
