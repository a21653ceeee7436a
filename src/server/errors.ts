import type { ApolloServerPlugin, BaseContext } from '@apollo/server'
import { unwrapResolverError } from '@apollo/server/errors'
import { GraphQLError, GraphQLFormattedError } from 'graphql'
import { ArgumentValidationError } from 'type-graphql'
import { AppError, ErrorCode, UnreachableCaseError } from '../errors'
import type { Logger } from '../logger'
import { dbFailureOf, describeDbFailure } from '../modules/common/db-errors'

/** Codes graphql-js and Apollo assign themselves, which are safe to pass through. */
const CLIENT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
])

/** The HTTP status an error answers with when it stops a request before execution (auth, limits). */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.UNAUTHENTICATED:
      return 401
    case ErrorCode.FORBIDDEN:
      return 403
    case ErrorCode.RATE_LIMITED:
      return 429
    case ErrorCode.PAYLOAD_TOO_LARGE:
      return 413
    case ErrorCode.BAD_USER_INPUT:
      return 400
    case ErrorCode.SERVICE_UNAVAILABLE:
      return 503
    case ErrorCode.NOT_FOUND:
    case ErrorCode.CONFLICT:
    case ErrorCode.TOO_MANY_QUEUED_RUNS:
    case ErrorCode.TIMEOUT:
    case ErrorCode.SERVER_BUSY:
    case ErrorCode.QUERY_THREAD_FAILED:
    case ErrorCode.INTERNAL_SERVER_ERROR:
      return 200
    default:
      throw new UnreachableCaseError(code)
  }
}

/** Seconds a client is asked to wait (Retry-After) before sending a request the outage refused again. */
export const RETRY_AFTER_S = 5

/**
 * A database outage or statement timeout as the client's error (its message names no host, SQL or driver),
 * or undefined for any other error. Used wherever errors reach clients: the formatter below, the auth
 * middleware.
 */
export function fromDbFailure(err: unknown): AppError | undefined {
  const failure = dbFailureOf(err)
  if (failure === 'unavailable') {
    return new AppError(
      ErrorCode.SERVICE_UNAVAILABLE,
      `the database is unavailable (${describeDbFailure(err)}); try again shortly`,
      { retryAfterMs: RETRY_AFTER_S * 1000 },
    )
  }
  if (failure === 'timeout') {
    return new AppError(
      ErrorCode.TIMEOUT,
      'the database cancelled a statement that ran longer than LAB_DB_STATEMENT_TIMEOUT_MS; ' +
        'narrow the request (smaller pages, a filter) or try again when the server is less busy',
    )
  }
  return undefined
}

/** The graphql-ws close code for an error that refuses a connection. */
export function wsCloseCode(code: ErrorCode): number {
  if (code === ErrorCode.UNAUTHENTICATED) return 4401
  if (code === ErrorCode.FORBIDDEN) return 4403
  // WebSocket's own "try again later": graphql-ws clients treat it as worth a reconnect.
  if (code === ErrorCode.SERVICE_UNAVAILABLE) return 1013
  return 4500
}

/**
 * An {@link AppError} raised outside a resolver (an Apollo plugin hook, graphql-ws), as a GraphQLError
 * that carries its HTTP status; the formatter below still sees the AppError as its original error.
 */
export function toGraphQLError(err: AppError): GraphQLError {
  const status = httpStatusOf(err.code)
  return new GraphQLError(err.message, {
    originalError: err,
    extensions: { ...err.details, code: err.code, ...(status !== 200 ? { http: { status } } : {}) },
  })
}

/** The response body for an AppError answered by plain express middleware, in GraphQL's error shape. */
export function errorBody(err: AppError): { errors: GraphQLFormattedError[] } {
  return { errors: [{ message: err.message, extensions: { ...err.details, code: err.code } }] }
}

/**
 * The one place where errors become what a client sees (http.ts then bounds their size, see
 * boundFormattedError). Domain errors keep their code and
 * message; anything unexpected is logged and answered with a bare INTERNAL_SERVER_ERROR, so stack
 * traces and SQL never reach a client.
 */
export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const unwrapped = unwrapResolverError(error)
    // Errors thrown outside resolvers (plugin hooks, see toGraphQLError) keep the AppError one level down.
    const original =
      unwrapped instanceof GraphQLError && unwrapped.originalError instanceof AppError
        ? unwrapped.originalError
        : unwrapped
    const base = { message: formatted.message, locations: formatted.locations, path: formatted.path }
    if (original instanceof AppError) {
      return { ...base, message: original.message, extensions: { ...original.details, code: original.code } }
    }
    const failure = fromDbFailure(original)
    if (failure) {
      logger.warn(
        { err: original, path: formatted.path, code: failure.code },
        'database failure while answering a request',
      )
      return { ...base, message: failure.message, extensions: { ...failure.details, code: failure.code } }
    }
    if (original instanceof ArgumentValidationError) {
      return { ...base, extensions: { code: ErrorCode.BAD_USER_INPUT } }
    }
    const code = formatted.extensions?.['code']
    if (typeof code === 'string' && CLIENT_CODES.has(code)) {
      return { ...base, extensions: { code } }
    }
    // Errors raised by graphql-js itself while coercing variables or validating carry no original
    // error and no path (Apollo marks some of them INTERNAL_SERVER_ERROR, e.g. "Too many errors
    // processing variables").
    if (
      error instanceof GraphQLError &&
      !error.originalError &&
      (code === undefined || (code === ErrorCode.INTERNAL_SERVER_ERROR && !error.path))
    ) {
      return { ...base, extensions: { code: ErrorCode.BAD_USER_INPUT } }
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error while answering a request')
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    }
  }
}

/**
 * Apollo plugin: an HTTP request that got nothing but SERVICE_UNAVAILABLE errors (no field answered) answers 503 with
 * Retry-After, so load balancers and clients see the outage in the status line too. Partial results keep
 * GraphQL's 200, like every other execution error.
 */
export function outageStatusPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return
          const { data, errors } = response.body.singleResult
          // A nullable field that failed answers null: nothing was answered when every field is null.
          const answered = data != null && Object.values(data).some((v) => v !== null)
          if (answered || !errors || errors.length === 0) return
          if (!errors.every((e) => e.extensions?.['code'] === ErrorCode.SERVICE_UNAVAILABLE)) return
          response.http.status = 503
          response.http.headers.set('retry-after', String(RETRY_AFTER_S))
        },
      }
    },
  }
}
