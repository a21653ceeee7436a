import { ApolloServer, BaseContext } from '@apollo/server'
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled'
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer'
import { expressMiddleware } from '@as-integrations/express5'
import express, { NextFunction, Request, Response } from 'express'
import {
  DocumentNode,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  GraphQLFormattedError,
  GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  specifiedRules,
} from 'graphql'
import http from 'node:http'
import { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import { ErrorCode } from '../errors'
import type { Logger } from '../logger'
import type { Principal } from '../modules/apikey/apikey.scope'
import { apolloAuthPlugin, httpAuthMiddleware, RequestGuard, wsAuthHooks } from './auth'
import { createErrorFormatter, outageStatusPlugin } from './errors'
import { checkUpgrade, GuardOptions, hostAllowed, refuseUpgrade } from './guard'
import { boundFormattedError, boundText, limitRules, parseAndValidate, QueryLimits } from './limits'
import { defaultWebDir, webPage } from './web'
import type { ParsedBody } from './json-body'
import { offLoopJsonBodies, PACKED_VARIABLES_LOCAL } from './off-loop-body'
import { serveGraphqlWs } from './ws-adapter'
import { evictOldest } from '../modules/common/bounded-map'
import type { PackedVariables } from '../modules/common/packed-rows'
import type { SplicedLists } from '../modules/common/spliced-lists'
import { SPLICED_LISTS_LOCAL, splicedJsonResponses } from './spliced-json'

/** Limits of the WebSocket endpoint (see src/config.ts). */
export interface WsLimits {
  maxPayloadBytes: number
  connectionInitTimeoutMs: number
  keepAliveMs: number
  maxSubscriptionsPerConnection: number
  maxConnections: number
}

export interface HttpServerOptions<C extends BaseContext & { principal: Principal }> {
  schema: GraphQLSchema
  host: string
  port: number
  maxBodyBytes: number
  queryLimits: QueryLimits
  ws: WsLimits
  /** Host and Origin checks (DNS rebinding, cross-site WebSockets). */
  guard: Omit<GuardOptions, 'host'>
  httpHeadersTimeoutMs: number
  httpRequestTimeoutMs: number
  logger: Logger
  /** Authenticates every request and connection and authorizes every operation (src/server/auth.ts). */
  auth: RequestGuard
  /**
   * Builds the per-operation context (HTTP request or WebSocket subscription) for who sent it, with what only
   * an HTTP request has: the variables its body's parser packed and the registry of its spliced lists.
   */
  context: (principal: Principal, http?: HttpRequestParts) => C | Promise<C>
  /** Parses large JSON bodies off the event loop (a query thread); without it express.json parses them all. */
  parseLargeBody?: (bytes: Uint8Array) => Promise<ParsedBody>
  /** Resolves when the database answers; rejects otherwise. */
  checkDatabase: () => Promise<void>
  /** The built web page served at `/` (default: dist/web of this checkout). */
  webDir?: string
}

/** What the context of an HTTP request gets beside its principal. */
export interface HttpRequestParts {
  /** Variables packed by the body's parser (src/server/off-loop-body.ts); none for a small body. */
  packed: PackedVariables | undefined
  /** Lists answered as prebuilt JSON, spliced into this request's response (src/server/spliced-json.ts). */
  splicedLists: SplicedLists
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
  const httpServer = http.createServer(
    {
      headersTimeout: opts.httpHeadersTimeoutMs,
      requestTimeout: opts.httpRequestTimeoutMs,
      // Node checks both timeouts only this often (30 s by default).
      connectionsCheckingInterval: Math.min(1000, opts.httpHeadersTimeoutMs),
    },
    app,
  )
  const limits = opts.queryLimits
  const formatAny = createErrorFormatter(logger)
  const formatError = (formatted: GraphQLFormattedError, error: unknown) =>
    boundFormattedError(formatAny(formatted, error), { hideSuggestions: !limits.introspection })
  const extraRules = limitRules(limits)
  // Apollo adds the introspection rule itself when introspection is off; graphql-ws needs it given.
  const rules = [
    ...specifiedRules,
    ...extraRules,
    ...(limits.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ]
  const guard: GuardOptions = { host: opts.host, ...opts.guard }

  const wsServer = new WebSocketServer({ noServer: true, maxPayload: opts.ws.maxPayloadBytes })
  httpServer.on('upgrade', (req: http.IncomingMessage, socket, head) => {
    socket.on('error', () => socket.destroy())
    const refusal = checkUpgrade(req, {
      ...guard,
      path: '/graphql',
      connections: wsServer.clients.size,
      maxConnections: opts.ws.maxConnections,
    })
    if (refusal) {
      logger.debug({ origin: req.headers.origin, host: req.headers.host, ...refusal }, 'WebSocket refused')
      refuseUpgrade(socket, refusal.status, refusal.message)
      return
    }
    wsServer.handleUpgrade(req, socket, head, (ws) => {
      wsServer.emit('connection', ws, req)
      // graphql-ws's listener writes every socket error to the console (a multi-line stack among the
      // JSON logs). ws emits 'error' only for what the client sent (a message above maxPayload, a bad
      // frame, invalid UTF-8) and has already closed the socket with the matching code (1009, 1002,
      // 1007) by then, so the listener is replaced by a debug log. A socket without any 'error'
      // listener would throw, so one always stays.
      ws.removeAllListeners('error')
      ws.on('error', (err: Error & { code?: string }) => {
        logger.debug({ code: err.code, reason: err.message }, 'WebSocket closed on a protocol error')
      })
    })
  })
  const wsAuth = wsAuthHooks(opts.auth)
  const validDocuments = new ValidDocuments((query) => parseAndValidate(opts.schema, query, rules, limits))
  const wsCleanup = serveGraphqlWs(
    {
      schema: opts.schema,
      ...wsAuth.hooks,
      context: async (ctx) => {
        const value = await opts.context(wsAuth.principalOf(ctx))
        wsAuth.bindSocket(value, ctx)
        return value
      },
      connectionInitWaitTimeout: opts.ws.connectionInitTimeoutMs,
      onSubscribe: async (ctx, id, payload) => {
        // Who sent it first (a revoked key closes the connection), then what it asks for.
        const refused = await wsAuth.hooks.onSubscribe?.(ctx, id, payload)
        if (refused) return refused
        // The new operation is already counted in ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > opts.ws.maxSubscriptionsPerConnection) {
          return [
            new GraphQLError(
              `at most ${opts.ws.maxSubscriptionsPerConnection} operations may run at once on one connection`,
              { extensions: { code: 'BAD_REQUEST', limit: opts.ws.maxSubscriptionsPerConnection } },
            ),
          ]
        }
        const checked = validDocuments.check(payload.query)
        if ('errors' in checked) return checked.errors
        // Variables that do not coerce (an Int beyond 32 bits, a string for an Int) are the client's
        // error: Apollo answers them BAD_USER_INPUT over HTTP, and graphql-js would report them here
        // wrapping its own error, which the formatter cannot tell from a server fault.
        const operation = getOperationAST(checked.document, payload.operationName)
        if (operation) {
          const coerced = getVariableValues(
            opts.schema,
            operation.variableDefinitions ?? [],
            payload.variables ?? {},
            { maxErrors: 10 },
          )
          if (coerced.errors) {
            return coerced.errors.map(
              (e) =>
                new GraphQLError(e.message, {
                  nodes: e.nodes,
                  extensions: { code: ErrorCode.BAD_USER_INPUT },
                }),
            )
          }
        }
        return {
          schema: opts.schema,
          document: checked.document,
          operationName: payload.operationName,
          variableValues: payload.variables,
        }
      },
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
    opts.ws.keepAliveMs,
    (err) => logger.error({ err }, 'graphql-ws internal error'),
  )

  const apollo = new ApolloServer<C>({
    schema: opts.schema,
    formatError,
    validationRules: extraRules,
    parseOptions: { maxTokens: limits.maxTokens },
    introspection: limits.introspection,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    // The process's own signal handling stops the lab (src/config.ts stopOnSignals); Apollo's would re-raise
    // the signal after stopping, which the second-signal handler turns into exit code 1 (outside NODE_ENV=test).
    stopOnTerminationSignals: false,
    plugins: [
      // Apollo's default cache-control plugin hooks every field of every operation (willResolveField, which also
      // makes Apollo wrap every resolver) to compute cache hints this API never gives: on a page of 50 runs that
      // is thousands of calls per query. Its only effect here was `cache-control: no-store`, kept below.
      ApolloServerPluginCacheControlDisabled(),
      {
        async requestDidStart() {
          return {
            async willSendResponse({ response }) {
              if (!response.http.headers.has('cache-control'))
                response.http.headers.set('cache-control', 'no-store')
            },
          }
        },
      },
      ApolloServerPluginDrainHttpServer({ httpServer }),
      apolloAuthPlugin<C>(opts.auth),
      outageStatusPlugin<C>(),
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
  app.use('/graphql', (req, res, next) => {
    if (hostAllowed(req.headers.host, guard)) return next()
    res.status(403).json({
      errors: [
        {
          message: `Host ${JSON.stringify(boundText(req.headers.host ?? '', 100))} is not allowed (LAB_ALLOWED_HOSTS)`,
          extensions: { code: 'BAD_REQUEST' },
        },
      ],
    })
  })
  app.use(
    '/graphql',
    httpAuthMiddleware(opts.auth, logger),
    ...(opts.parseLargeBody
      ? offLoopJsonBodies({ maxBodyBytes: opts.maxBodyBytes, parse: opts.parseLargeBody })
      : []),
    express.json({ limit: opts.maxBodyBytes }),
    splicedJsonResponses(),
    expressMiddleware(apollo, {
      context: async ({ res }) =>
        opts.context(res.locals['principal'] as Principal, {
          packed: res.locals[PACKED_VARIABLES_LOCAL] as PackedVariables | undefined,
          splicedLists: res.locals[SPLICED_LISTS_LOCAL] as SplicedLists,
        }),
    }),
  )
  // The dashboard: after /graphql and /healthz, so its fallback never answers for them.
  app.use((req, res, next) => {
    if (hostAllowed(req.headers.host, guard)) return next()
    res.status(403).type('text/plain').send('This Host is not allowed (LAB_ALLOWED_HOSTS)\n')
  })
  app.use(webPage(opts.webDir ?? defaultWebDir()))
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
  // Anything else (an unknown charset or content-encoding, an aborted body, a bug) is answered as JSON
  // too: express's default handler would send an HTML page with the stack and file paths.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err)
    const e = (typeof err === 'object' && err !== null ? err : {}) as { status?: unknown; type?: unknown }
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 500
    if (status === 500) logger.error({ err }, 'unexpected error outside GraphQL')
    const message =
      status === 500
        ? 'Internal server error'
        : e.type === 'charset.unsupported'
          ? 'unsupported charset in content-type; send utf-8'
          : e.type === 'encoding.unsupported'
            ? 'unsupported content-encoding; send identity, gzip, deflate or br'
            : 'the request could not be read'
    res.status(status).json({
      errors: [
        { message, extensions: { code: status === 500 ? ErrorCode.INTERNAL_SERVER_ERROR : 'BAD_REQUEST' } },
      ],
    })
  })

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

/**
 * Documents that passed parsing and validation, by their text (at most `MAX_VALID_DOCUMENTS`, the oldest
 * dropped first; only texts up to `MAX_CACHED_QUERY_CHARS`). The validation rules see the document alone, never
 * the variables or who sent it, so a text valid once is valid again. Why: when a run ends, its hundred
 * subscribers resubscribe to the next with the same text at the same moment, and parsing and validating each
 * blocked the event loop that the queries wait on (Apollo keeps the same kind of store for HTTP). The same
 * document object also lets shared-subscribe.ts print each selection once.
 */
class ValidDocuments {
  private readonly documents = new Map<string, DocumentNode>()

  constructor(
    private readonly parseAndValidate: (
      query: string,
    ) => { document: DocumentNode } | { errors: GraphQLError[] },
  ) {}

  check(query: string): { document: DocumentNode } | { errors: GraphQLError[] } {
    const known = this.documents.get(query)
    if (known) return { document: known }
    const checked = this.parseAndValidate(query)
    if ('document' in checked && query.length <= MAX_CACHED_QUERY_CHARS) {
      this.documents.set(query, checked.document)
      evictOldest(this.documents, MAX_VALID_DOCUMENTS)
    }
    return checked
  }
}

const MAX_VALID_DOCUMENTS = 500
const MAX_CACHED_QUERY_CHARS = 20_000
