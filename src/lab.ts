import type { Config } from './config'
import { App, createApp } from './app'
import { closeDb, createDb, Db } from './db/client'
import { startEmbeddedPostgres } from './db/embedded'
import { applyMigrations } from './db/migrate'
import type { Logger } from './logger'
import { startHttpServer } from './server/http'

/** A running Explainable Lab: what `npm start` starts, and what integration tests start on port 0. */
export interface Lab {
  url: string
  wsUrl: string
  port: number
  databaseUrl: string
  db: Db
  app: App
  /** Graceful shutdown: HTTP drained, subscriptions closed, workers handed back, database closed. */
  stop(): Promise<void>
}

type Lifecycle = { phase: 'running' } | { phase: 'stopping'; done: Promise<void> }

/** Hooks for tests and benchmarks. */
export interface LabOptions {
  onQuery?: (sql: string) => void
}

export async function startLab(config: Config, logger: Logger, options: LabOptions = {}): Promise<Lab> {
  const cleanups: (() => Promise<void>)[] = []
  const runCleanups = async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup()
      } catch (err) {
        logger.error({ err }, 'error during shutdown')
      }
    }
  }
  try {
    let databaseUrl: string
    if (config.databaseUrl !== undefined) databaseUrl = config.databaseUrl
    else {
      logger.info({ dataDir: config.dataDir, port: config.embeddedPgPort }, 'starting embedded PostgreSQL')
      const embedded = await startEmbeddedPostgres({
        dataDir: config.dataDir,
        port: config.embeddedPgPort,
        logger,
      })
      cleanups.push(() => embedded.stop())
      databaseUrl = embedded.connectionString
    }
    const { applied } = await applyMigrations(databaseUrl, { logger })
    if (applied.length > 0) logger.info({ applied }, 'applied migrations')

    const db = createDb(databaseUrl, {
      statementTimeoutMs: config.dbStatementTimeoutMs,
      ...(options.onQuery ? { onQuery: options.onQuery } : {}),
    })
    cleanups.push(() => closeDb(db))
    const app = await createApp(config, db, databaseUrl, logger)
    cleanups.push(() => app.close())

    const server = await startHttpServer({
      schema: app.schema,
      host: config.host,
      port: config.port,
      maxBodyBytes: config.maxBodyBytes,
      queryLimits: {
        maxDepth: config.maxQueryDepth,
        maxIntrospectionDepth: config.maxIntrospectionDepth,
        maxAliases: config.maxQueryAliases,
        maxTokens: config.maxQueryTokens,
        maxCost: config.maxQueryCost,
        introspection: config.introspection,
      },
      ws: {
        maxPayloadBytes: config.wsMaxPayloadBytes,
        connectionInitTimeoutMs: config.wsConnectionInitTimeoutMs,
        keepAliveMs: config.wsKeepAliveMs,
        maxSubscriptionsPerConnection: config.wsMaxSubscriptionsPerConnection,
        maxConnections: config.wsMaxConnections,
      },
      guard: { allowedHosts: config.allowedHosts, allowedOrigins: config.allowedOrigins },
      httpHeadersTimeoutMs: config.httpHeadersTimeoutMs,
      httpRequestTimeoutMs: config.httpRequestTimeoutMs,
      logger,
      auth: app.guard,
      context: app.context,
      ...(app.parseLargeBody ? { parseLargeBody: app.parseLargeBody } : {}),
      checkDatabase: async () => {
        await db.$queryRaw`SELECT 1`
      },
    })
    cleanups.push(() => server.stop())
    logger.info({ url: server.url }, 'Explainable Lab is listening')

    let state: Lifecycle = { phase: 'running' }
    return {
      url: server.url,
      wsUrl: server.wsUrl,
      port: server.port,
      databaseUrl,
      db,
      app,
      stop: () => {
        if (state.phase === 'stopping') return state.done
        state = { phase: 'stopping', done: runCleanups() }
        return state.done
      },
    }
  } catch (err) {
    await runCleanups()
    throw err
  }
}
