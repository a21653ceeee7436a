import { unwrapResolverError } from '@apollo/server/errors'
import { GraphQLError, GraphQLFormattedError } from 'graphql'
import { ArgumentValidationError } from 'type-graphql'
import { AppError, ErrorCode } from '../errors'
import type { Logger } from '../logger'

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

/** Longest message sent: graphql-js quotes the offending value whole (a 10 MB id, say). */
const MAX_MESSAGE_LENGTH = 1_000

const bounded = (message: string) =>
  message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 3)}...` : message

/**
 * The one place where errors become what a client sees. Domain errors keep their code and
 * message; anything unexpected is logged and answered with a bare INTERNAL_SERVER_ERROR, so stack
 * traces and SQL never reach a client.
 */
export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error)
    const base = { message: formatted.message, locations: formatted.locations, path: formatted.path }
    if (original instanceof AppError) {
      return {
        ...base,
        message: bounded(original.message),
        extensions: { ...original.details, code: original.code },
      }
    }
    if (original instanceof ArgumentValidationError) {
      return { ...base, extensions: { code: ErrorCode.BAD_USER_INPUT } }
    }
    const code = formatted.extensions?.['code']
    if (typeof code === 'string' && CLIENT_CODES.has(code)) {
      return { ...base, message: bounded(base.message), extensions: { code } }
    }
    // Errors raised by graphql-js itself while coercing variables or validating carry no original
    // error and no path (Apollo marks some of them INTERNAL_SERVER_ERROR, e.g. "Too many errors
    // processing variables").
    if (
      error instanceof GraphQLError &&
      !error.originalError &&
      (code === undefined || (code === ErrorCode.INTERNAL_SERVER_ERROR && !error.path))
    ) {
      return { ...base, message: bounded(base.message), extensions: { code: ErrorCode.BAD_USER_INPUT } }
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
