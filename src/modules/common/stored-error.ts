/**
 * The text a run's or a sweep's `error` column keeps, which clients read and NOTIFY carries. Our
 * own messages (AppError, TrainingError, ExplainInputError, the lifecycle's reasons) are kept;
 * anything else - a Prisma message with a code frame, a backend's stack - is logged under an id and
 * stored as "internal error, logged as <id>". Either way the text is bounded.
 */
import { randomUUID } from 'node:crypto'
import { AppError } from '../../errors'
import { ExplainInputError } from '../../explain/errors'
import type { Logger } from '../../logger'
import { TrainingError } from '../../models/common/spec'

/**
 * Longest stored error, in characters. NOTIFY payloads are limited to 8000 bytes, and the status
 * message carries the error beside a few ids: even escaped as \u0000 in JSON (6 bytes a character),
 * 1000 characters fit.
 */
export const MAX_ERROR_LENGTH = 1_000

/** Cuts a message to {@link MAX_ERROR_LENGTH} characters (marking the cut). */
export function boundError(text: string): string
export function boundError(text: string | null): string | null
export function boundError(text: string | null): string | null {
  if (text === null || text.length <= MAX_ERROR_LENGTH) return text
  return `${text.slice(0, MAX_ERROR_LENGTH - 3)}...`
}

/** Whether an error's message is ours to show. */
function isOwn(err: unknown): err is Error {
  return err instanceof AppError || err instanceof TrainingError || err instanceof ExplainInputError
}

/** The text to store for an error; an unexpected one is logged with the id the text names. */
export function storedError(err: unknown, logger: Logger, context: Record<string, unknown> = {}): string {
  if (isOwn(err)) return boundError(err.message)
  const id = randomUUID()
  logger.error({ err, errorId: id, ...context }, 'unexpected error, stored as an internal error')
  return `internal error, logged as ${id}`
}
