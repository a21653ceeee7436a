/**
 * The one error vocabulary of the API. Every error a client sees carries one of these in
 * `extensions.code`; services throw {@link AppError}s and src/server/errors.ts maps them once.
 */
export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  /** No API key, or an unknown or revoked one (HTTP 401; graphql-ws closes with 4401). */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** The key's scope is too low for the operation (HTTP 403; over graphql-ws an error result, the socket stays open). */
  FORBIDDEN = 'FORBIDDEN',
  /** The key sent more mutations than LAB_RATE_LIMIT_MUTATIONS_PER_MINUTE allows; see `retryAfterMs`. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** The key already has LAB_MAX_QUEUED_RUNS_PER_KEY runs QUEUED. */
  TOO_MANY_QUEUED_RUNS = 'TOO_MANY_QUEUED_RUNS',
  /**
   * The database is unreachable (down, restarting, out of connections): nothing is wrong with the request;
   * send it again shortly (HTTP 503 with Retry-After when nothing else was answered).
   */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  /** The database cancelled a statement that ran longer than LAB_DB_STATEMENT_TIMEOUT_MS. */
  TIMEOUT = 'TIMEOUT',
  /** Every query thread is busy and LAB_QUERY_QUEUE queries already wait; try again after `retryAfterMs`. */
  SERVER_BUSY = 'SERVER_BUSY',
  /** The query thread computing the answer died (the API and the other threads go on); try again. */
  QUERY_THREAD_FAILED = 'QUERY_THREAD_FAILED',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/** A failure the client caused or can act on; its message is safe to show. */
export class AppError extends Error {
  override name = 'AppError'
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra machine-readable fields merged into `extensions` (e.g. `field`, `line`, `column`). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

export const badInput = (message: string, details?: Record<string, unknown>) =>
  new AppError(ErrorCode.BAD_USER_INPUT, message, details)

export const notFound = (what: string, id: string) =>
  new AppError(ErrorCode.NOT_FOUND, `${what} ${JSON.stringify(id)} was not found`, { id })

export const conflict = (message: string, details?: Record<string, unknown>) =>
  new AppError(ErrorCode.CONFLICT, message, details)

export const tooLarge = (message: string, details?: Record<string, unknown>) =>
  new AppError(ErrorCode.PAYLOAD_TOO_LARGE, message, details)

export const serverBusy = (message: string, retryAfterMs: number) =>
  new AppError(ErrorCode.SERVER_BUSY, message, { retryAfterMs })

export const unauthenticated = (message: string) => new AppError(ErrorCode.UNAUTHENTICATED, message)

export const forbidden = (message: string, details?: Record<string, unknown>) =>
  new AppError(ErrorCode.FORBIDDEN, message, details)

/** Closes a switch over a union: a new member becomes a compile error here. */
export class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`Unreachable case: ${JSON.stringify(value)}`)
  }
}
