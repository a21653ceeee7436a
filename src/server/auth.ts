import type { ApolloServerPlugin } from '@apollo/server'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import {
  DocumentNode,
  execute,
  ExecutionArgs,
  getOperationAST,
  GraphQLSchema,
  Kind,
  OperationDefinitionNode,
  OperationTypeNode,
  SelectionSetNode,
} from 'graphql'
import type { Context as WsContext, ServerOptions as WsServerOptions } from 'graphql-ws'
import { Authorized, AuthCheckerFn, Extensions } from 'type-graphql'
import { AppError, ErrorCode, forbidden, unauthenticated } from '../errors'
import type { Logger } from '../logger'
import { ApiKeyScope, OPEN, Principal, scopeAllows } from '../modules/apikey/apikey.scope'
import { errorBody, fromDbFailure, httpStatusOf, RETRY_AFTER_S, toGraphQLError, wsCloseCode } from './errors'
import { TokenBuckets } from './rate-limit'
import { sharedSubscribe } from './shared-subscribe'

/** What the guard needs from the key store. */
export interface KeyLookup {
  authenticate(secret: string): Promise<Principal | null>
  refresh(keyId: string): Promise<Principal | null>
}

/** The scope an operation type needs at least; root fields marked {@link RequireScope} may need more. */
export function scopeFor(operation: OperationTypeNode): ApiKeyScope {
  return operation === OperationTypeNode.MUTATION ? ApiKeyScope.WRITE : ApiKeyScope.READ
}

const SCOPE_EXTENSION = 'requiredScope'

/**
 * Marks a root field as needing more than its operation type's scope. The whole operation is refused
 * before any of it runs (so `mutation { createDataset createApiKey }` from a WRITE key writes nothing),
 * and type-graphql's `@Authorized` checks the field again when it resolves.
 */
export function RequireScope(scope: ApiKeyScope): MethodDecorator {
  return (target, key, descriptor) => {
    Extensions({ [SCOPE_EXTENSION]: scope })(target, key, descriptor)
    Authorized(scope)(target, key, descriptor)
  }
}

/** The highest scope an operation needs: its type's, or more for a marked root field it selects. */
export function requiredScope(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
): ApiKeyScope {
  let needs = scopeFor(operation.operation)
  const root = schema.getRootType(operation.operation)
  if (!root) return needs
  const fields = root.getFields()
  const seen = new Set<string>()
  const visit = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const scope = fields[selection.name.value]?.extensions[SCOPE_EXTENSION] as ApiKeyScope | undefined
        if (scope !== undefined && !scopeAllows(needs, scope)) needs = scope
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet)
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value)
        const fragment = document.definitions.find(
          (d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value,
        )
        if (fragment?.kind === Kind.FRAGMENT_DEFINITION) visit(fragment.selectionSet)
      }
    }
  }
  visit(operation.selectionSet)
  return needs
}

/** The key of an `Authorization: Bearer <key>` value (HTTP header or graphql-ws connectionParams). */
export function bearerToken(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value)
  return match?.[1]
}

/**
 * The one place requests are authenticated and authorized: http.ts calls it for every HTTP request and
 * graphql-ws connection and operation, and {@link authChecker} for fields that need more than their
 * operation type (key management). With auth off every request is {@link OPEN} and allowed.
 */
export class RequestGuard {
  private readonly buckets: TokenBuckets

  constructor(
    private readonly opts: {
      required: boolean
      keys: KeyLookup
      mutationsPerMinute: number
    },
  ) {
    this.buckets = new TokenBuckets(opts.mutationsPerMinute, 60_000)
  }

  /** The principal of an `Authorization` value; UNAUTHENTICATED without a valid key when auth is required. */
  async authenticate(authorization: unknown): Promise<Principal> {
    if (!this.opts.required) return OPEN
    if (authorization === undefined || authorization === null || authorization === '') {
      throw unauthenticated('an API key is required: send "Authorization: Bearer <key>"')
    }
    const secret = bearerToken(authorization)
    if (secret === undefined) throw unauthenticated('the Authorization value must be "Bearer <key>"')
    const principal = await this.opts.keys.authenticate(secret)
    if (!principal) throw unauthenticated('unknown or revoked API key')
    return principal
  }

  /** The key again before each operation of a long-lived connection: UNAUTHENTICATED once revoked. */
  async refresh(principal: Principal): Promise<Principal> {
    if (principal.kind === 'open') return principal
    const fresh = await this.opts.keys.refresh(principal.keyId)
    if (!fresh) throw unauthenticated('the API key of this connection was revoked')
    return fresh
  }

  /**
   * Checks one operation before any of it executes: its scope ({@link requiredScope}), and for a
   * mutation the key's rate limit. Throws FORBIDDEN or RATE_LIMITED.
   */
  authorizeOperation(
    principal: Principal,
    op: { schema: GraphQLSchema; document: DocumentNode; operation: OperationDefinitionNode },
  ): void {
    const needs = requiredScope(op.schema, op.document, op.operation)
    const what =
      needs === scopeFor(op.operation.operation) ? `run a ${op.operation.operation}` : 'manage API keys'
    requireScope(principal, needs, what)
    if (op.operation.operation === OperationTypeNode.MUTATION && principal.kind === 'key') {
      const retryAfterMs = this.buckets.take(principal.keyId)
      if (retryAfterMs > 0) {
        throw new AppError(
          ErrorCode.RATE_LIMITED,
          `this key may send ${this.opts.mutationsPerMinute} mutations per minute; retry in ${retryAfterMs} ms`,
          { retryAfterMs },
        )
      }
    }
  }
}

function requireScope(principal: Principal, needs: ApiKeyScope, what: string): void {
  if (principal.kind === 'open' || scopeAllows(principal.scope, needs)) return
  throw forbidden(`a ${principal.scope} key cannot ${what}: it needs ${needs}`, { requiredScope: needs })
}

/** type-graphql's check for `@Authorized(scope)` fields; throws FORBIDDEN (one error vocabulary). */
export const authChecker: AuthCheckerFn<{ principal: Principal }, ApiKeyScope> = (
  { context, info },
  scopes,
) => {
  for (const needs of scopes) requireScope(context.principal, needs, `use ${info.fieldName}`)
  return true
}

/**
 * Express middleware for /graphql: authenticates the request (`res.locals.principal`) or answers 401
 * UNAUTHENTICATED in GraphQL's error shape before the body is even read.
 */
export function httpAuthMiddleware(guard: RequestGuard, logger: Logger): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      res.locals['principal'] = await guard.authenticate(req.headers.authorization)
    } catch (err) {
      if (err instanceof AppError) {
        if (err.code === ErrorCode.UNAUTHENTICATED) res.setHeader('WWW-Authenticate', 'Bearer')
        res.status(httpStatusOf(err.code)).json(errorBody(err))
        return
      }
      const failure = fromDbFailure(err)
      if (failure) {
        logger.warn({ err }, 'could not authenticate a request: database failure')
        if (failure.code === ErrorCode.SERVICE_UNAVAILABLE)
          res.setHeader('Retry-After', String(RETRY_AFTER_S))
        res.status(httpStatusOf(failure.code)).json(errorBody(failure))
        return
      }
      logger.error({ err }, 'could not authenticate a request')
      const internal = new AppError(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error')
      res.status(500).json(errorBody(internal))
      return
    }
    next()
  }
}

/** Apollo plugin: authorizes each HTTP operation once it is parsed and validated, before it executes. */
export function apolloAuthPlugin<C extends { principal: Principal }>(
  guard: RequestGuard,
): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operation, document, schema }) {
          try {
            if (operation) guard.authorizeOperation(contextValue.principal, { schema, document, operation })
          } catch (err) {
            throw err instanceof AppError ? toGraphQLError(err) : err
          }
        },
      }
    },
  }
}

/** What the hooks need of graphql-ws's `extra` (src/server/ws-adapter.ts gives the socket). */
type WsExtra = { socket: { close(code: number, reason: string): void } }

/**
 * graphql-ws hooks: the key is checked at connection_init (no key, or an unknown or revoked one, closes
 * the socket with 4401 and the error's message as the reason), again before each operation (a revoked
 * key closes the connection with 4401), and each operation is authorized before it executes. A scope too
 * low answers that operation with a FORBIDDEN error result and then closes the connection with 4403 (the
 * key was used for what it may not do); the rate limit answers RATE_LIMITED and the connection stays open.
 */
export function wsAuthHooks(guard: RequestGuard): {
  hooks: Pick<
    WsServerOptions<WsContext['connectionParams'], WsExtra>,
    'onConnect' | 'onSubscribe' | 'execute' | 'subscribe'
  >
  principalOf(ctx: WsContext): Principal
  /** Records which socket an operation's context value came from (for the 4403 close). */
  bindSocket(contextValue: object, ctx: WsContext<WsContext['connectionParams'], WsExtra>): void
} {
  const principals = new WeakMap<WsContext, Principal>()
  const sockets = new WeakMap<object, WsExtra['socket']>()
  const known = (ctx: WsContext) => {
    const principal = principals.get(ctx)
    // Operations only arrive after connection_init set it; never fall back to "open".
    if (!principal) throw unauthenticated('this connection is not authenticated')
    return principal
  }
  const authorized =
    <R>(run: (args: ExecutionArgs) => R) =>
    (args: ExecutionArgs) => {
      const operation = getOperationAST(args.document, args.operationName)
      try {
        if (operation) {
          const { principal } = args.contextValue as { principal: Principal }
          guard.authorizeOperation(principal, { schema: args.schema, document: args.document, operation })
        }
      } catch (err) {
        if (!(err instanceof AppError)) throw err
        const socket = sockets.get(args.contextValue as object)
        // The error result goes out first (graphql-ws sends it when this returns); then the close.
        if (err.code === ErrorCode.FORBIDDEN && socket) {
          setImmediate(() => socket.close(wsCloseCode(err.code), closeReason(err.message)))
        }
        return { errors: [toGraphQLError(err)] }
      }
      return run(args)
    }
  return {
    hooks: {
      onConnect: async (ctx) => {
        try {
          // No scope check here: every key may subscribe (READ is the lowest scope), so a scope too low
          // only ever concerns an operation, refused below (FORBIDDEN, then 4403).
          principals.set(ctx, await guard.authenticate(ctx.connectionParams?.['authorization']))
          return true
        } catch (err) {
          const refusal = err instanceof AppError ? err : fromDbFailure(err)
          if (!refusal) throw err
          // Closed here with our code; graphql-ws's own 4403 after `false` then finds it closing.
          ctx.extra.socket.close(wsCloseCode(refusal.code), closeReason(refusal.message))
          return false
        }
      },
      onSubscribe: async (ctx) => {
        try {
          principals.set(ctx, await guard.refresh(known(ctx)))
          return undefined
        } catch (err) {
          if (!(err instanceof AppError)) throw err
          // The error result goes out first; then the connection is of no more use.
          setImmediate(() => ctx.extra.socket.close(wsCloseCode(err.code), closeReason(err.message)))
          return [toGraphQLError(err)]
        }
      },
      execute: authorized(execute),
      // Authorized per subscriber; each event's execution is shared among subscribers asking the same.
      subscribe: authorized(sharedSubscribe),
    },
    principalOf: known,
    bindSocket: (contextValue, ctx) => sockets.set(contextValue, ctx.extra.socket),
  }
}

/** A WebSocket close reason is at most 123 bytes of UTF-8 (RFC 6455); longer ones make ws throw. */
export function closeReason(message: string): string {
  if (Buffer.byteLength(message) <= 123) return message
  const chars = Array.from(message.slice(0, 120)) // whole code points: never half a surrogate pair
  while (Buffer.byteLength(chars.join('')) > 120) chars.pop()
  return `${chars.join('')}...`
}
