/**
 * Constraint violations as PostgreSQL reports them through Prisma (a known request error with its
 * code, or the driver adapter's error kind). Repositories translate the ones a race can cause into
 * the API's vocabulary here, so they never surface as INTERNAL_SERVER_ERROR with Prisma's text.
 */
import { AppError } from '../../errors'

type DbErrorKind = 'unique' | 'foreign-key'

const KINDS: Record<string, DbErrorKind> = {
  P2002: 'unique',
  P2003: 'foreign-key',
  UniqueConstraintViolation: 'unique',
  ForeignKeyConstraintViolation: 'foreign-key',
}

/** Which constraint an error from Prisma violated, if any. */
export function constraintViolated(err: unknown): DbErrorKind | undefined {
  const e = err as { code?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: unknown } } } } | null
  const code = typeof e?.code === 'string' ? KINDS[e.code] : undefined
  const kind = e?.meta?.driverAdapterError?.cause?.kind
  return code ?? (typeof kind === 'string' ? KINDS[kind] : undefined)
}

export const isUniqueViolation = (err: unknown): boolean => constraintViolated(err) === 'unique'

/**
 * Runs a write and maps the constraint violations a concurrent request can cause: a row it refers
 * to deleted meanwhile (foreign key), or the same unique value taken meanwhile.
 */
export async function mapConstraints<T>(
  write: () => Promise<T>,
  map: { foreignKey?: () => AppError; unique?: () => AppError },
): Promise<T> {
  try {
    return await write()
  } catch (err) {
    const kind = constraintViolated(err)
    const mapped =
      kind === 'foreign-key' ? map.foreignKey?.() : kind === 'unique' ? map.unique?.() : undefined
    throw mapped ?? err
  }
}

/**
 * How a statement failed for reasons of the database rather than of the request:
 * - `unavailable`: no connection could be made or kept (server down or restarting, network, pool
 *   exhausted, the server shutting the session down);
 * - `timeout`: the server cancelled the statement (`statement_timeout`, LAB_DB_STATEMENT_TIMEOUT_MS).
 */
export type DbFailure = 'unavailable' | 'timeout'

/** SQLSTATEs (and Prisma codes) of a lost or refused connection. */
const UNAVAILABLE_CODES = new Set([
  // Class 08, connection exception.
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  // admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down).
  '57P01',
  '57P02',
  '57P03',
  // too_many_connections.
  '53300',
  // Prisma: can't reach the server, server closed the connection, pool timeout.
  'P1001',
  'P1002',
  'P1017',
  'P2024',
  // Node's sockets.
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
])

/** Driver adapter error kinds (@prisma/adapter-pg) of a lost or refused connection. */
const UNAVAILABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
])

/** node-postgres and pg-pool raise these as plain Errors, without a code. */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Cannot use a pool after calling end|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command|is not currently accepting connections|Can't reach database server|Unable to start a transaction in the given time/i

const TIMEOUT_CODE = '57014'

/** Every object an error carries its cause in: Prisma's meta.driverAdapterError, `cause` chains. */
function* chain(err: unknown): Generator<Record<string, unknown>> {
  const seen = new Set<unknown>()
  const queue: unknown[] = [err]
  while (queue.length > 0) {
    const e = queue.shift()
    if (typeof e !== 'object' || e === null || seen.has(e)) continue
    seen.add(e)
    const record = e as Record<string, unknown>
    yield record
    const meta = record['meta'] as Record<string, unknown> | undefined
    queue.push(record['cause'], record['originalError'], meta?.['driverAdapterError'])
    if (Array.isArray(record['errors'])) queue.push(...(record['errors'] as unknown[]))
  }
}

/** Whether `err` (from Prisma, pg or pg-boss) is a database outage or a statement timeout; else undefined. */
export function dbFailureOf(err: unknown): DbFailure | undefined {
  let unavailable = false
  for (const e of chain(err)) {
    const codes = [e['code'], e['originalCode']].filter((c): c is string => typeof c === 'string')
    if (codes.includes(TIMEOUT_CODE)) return 'timeout'
    if (codes.some((c) => UNAVAILABLE_CODES.has(c))) unavailable = true
    if (typeof e['kind'] === 'string' && UNAVAILABLE_KINDS.has(e['kind'])) unavailable = true
    if (typeof e['message'] === 'string' && UNAVAILABLE_MESSAGES.test(e['message'])) unavailable = true
  }
  return unavailable ? 'unavailable' : undefined
}

export const isDatabaseUnavailable = (err: unknown): boolean => dbFailureOf(err) === 'unavailable'

/** A short, safe description of an outage for logs and a run's error (no SQL, no code frame). */
export function describeDbFailure(err: unknown): string {
  for (const e of chain(err)) {
    const kind = e['kind']
    if (kind === 'DatabaseNotReachable') return 'the database server could not be reached'
    if (kind === 'ConnectionClosed' || kind === 'SocketTimeout')
      return 'the connection to the database was lost'
    const code = [e['code'], e['originalCode']].find((c) => typeof c === 'string') as string | undefined
    if (code === '57P01' || code === '57P02') return 'the database server shut the connection down'
    if (code === '57P03') return 'the database server is starting up or shutting down'
    if (code === '53300') return 'the database server has no connections left'
    if (code === 'P2024') return 'no database connection became free in time'
    // Prisma's P2028 when a transaction waited longer than maxWait for a connection (the pool is busy).
    if (
      typeof e['message'] === 'string' &&
      /Unable to start a transaction in the given time/i.test(e['message'])
    )
      return 'no database connection became free in time'
    if (code === 'ECONNREFUSED' || code === 'P1001') return 'the database server could not be reached'
    if (typeof e['message'] === 'string' && /Connection terminated/i.test(e['message']))
      return 'the connection to the database was lost'
    if (typeof e['message'] === 'string' && /is not currently accepting connections/i.test(e['message']))
      return 'the database is not accepting connections'
  }
  return 'the database could not be used'
}
