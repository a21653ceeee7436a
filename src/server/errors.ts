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
      return { ...base, message: original.message, extensions: { ...original.details, code: original.code } }
    }
    if (original instanceof ArgumentValidationError) {
      return { ...base, extensions: { code: ErrorCode.BAD_USER_INPUT } }
    }
    const code = formatted.extensions?.['code']
    if (typeof code === 'string' && CLIENT_CODES.has(code)) {
      return { ...base, extensions: { code } }
    }
    // Errors raised by graphql-js itself while coercing variables or validating carry no original error.
    if (error instanceof GraphQLError && !error.originalError && code === undefined) {
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
