import { ApolloServer, BaseContext } from '@apollo/server'
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer'
import { expressMiddleware } from '@as-integrations/express5'
import express, { NextFunction, Request, Response } from 'express'
import { GraphQLError, GraphQLSchema, specifiedRules, validate } from 'graphql'
import { useServer } from 'graphql-ws/use/ws'
import http from 'node:http'
import { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import { ErrorCode } from '../errors'
import type { Logger } from '../logger'
import type { Principal } from '../modules/apikey/apikey.scope'
import { apolloAuthPlugin, httpAuthMiddleware, RequestGuard, wsAuthHooks } from './auth'
import { depthLimit } from './depth-limit'
import { createErrorFormatter } from './errors'

export interface HttpServerOptions<C extends BaseContext & { principal: Principal }> {
  schema: GraphQLSchema
  host: string
  port: number
  maxBodyBytes: number
  maxQueryDepth: number
  logger: Logger
  /** Authenticates every request and connection and authorizes every operation (src/server/auth.ts). */
  guard: RequestGuard
  /** Builds the per-operation context (HTTP request or WebSocket subscription) for who sent it. */
  context: (principal: Principal) => C | Promise<C>
  /** Resolves when the database answers; rejects otherwise. */
  checkDatabase: () => Promise<void>
}

export interface RunningHttpServer {
  url: string
  wsUrl: string
  port: number
  /** Stops accepting, drains in-flight requests, closes subscriptions. */
  stop(): Promise<void>
}

/** HTTP (Apollo over express) and graphql-ws on one port and one path, `/graphql`. */
export async function startHttpServer<C extends BaseContext & { principal: Principal }>(
  opts: HttpServerOptions<C>,
): Promise<RunningHttpServer> {
  const { logger } = opts
  const app = express()
  app.disable('x-powered-by')
  const httpServer = http.createServer(app)
  const formatError = createErrorFormatter(logger)
  const rules = [...specifiedRules, depthLimit(opts.maxQueryDepth)]

  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' })
  const wsAuth = wsAuthHooks(opts.guard)
  const wsCleanup = useServer(
    {
      schema: opts.schema,
      ...wsAuth.hooks,
      context: (ctx) => opts.context(wsAuth.principalOf(ctx)),
      validate: (schema, document) => validate(schema, document, rules),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => formatError(e, e)) } : result,
      onError: (_ctx, _id, _payload, errors) =>
        errors.map((e) => {
          // Formatted once: formatting an unexpected error also logs it.
          const formatted = formatError(e, e)
          return new GraphQLError(formatted.message, { extensions: formatted.extensions })
        }),
    },
    wsServer,
  )

  const apollo = new ApolloServer<C>({
    schema: opts.schema,
    formatError,
    validationRules: [depthLimit(opts.maxQueryDepth)],
    includeStacktraceInErrorResponses: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      apolloAuthPlugin<C>(opts.guard),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose()
            },
          }
        },
      },
    ],
  })
  await apollo.start()

  app.get('/healthz', async (_req, res) => {
    try {
      await opts.checkDatabase()
      res.status(200).json({ status: 'ok', database: 'up' })
    } catch (err) {
      logger.warn({ err }, 'health check: database unreachable')
      res.status(503).json({ status: 'unavailable', database: 'down' })
    }
  })
  app.use(
    '/graphql',
    httpAuthMiddleware(opts.guard, logger),
    express.json({ limit: opts.maxBodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ res }) => opts.context(res.locals['principal'] as Principal),
    }),
  )
  // Body-parser errors (too large, malformed JSON) answered in GraphQL's error shape.
  app.use(
    (
      err: { type?: string; status?: number; message?: string },
      _req: Request,
      res: Response,
      next: NextFunction,
    ) => {
      if (err.type === 'entity.too.large') {
        res.status(413).json({
          errors: [
            {
              message: `request body is larger than the limit of ${opts.maxBodyBytes} bytes`,
              extensions: { code: ErrorCode.PAYLOAD_TOO_LARGE, limit: opts.maxBodyBytes },
            },
          ],
        })
        return
      }
      if (err.type === 'entity.parse.failed') {
        res.status(400).json({
          errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }],
        })
        return
      }
      next(err)
    },
  )

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject)
    httpServer.listen(opts.port, opts.host, () => resolve())
  })
  const { port } = httpServer.address() as AddressInfo
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  return {
    url: `http://${hostForUrl}:${port}/graphql`,
    wsUrl: `ws://${hostForUrl}:${port}/graphql`,
    port,
    stop: async () => {
      // Apollo's drain plugin closes idle connections and waits for in-flight requests.
      await apollo.stop()
    },
  }
}
