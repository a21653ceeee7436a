import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaClient } from '../generated/prisma/client'

export type Db = PrismaClient

export interface DbOptions {
  /** Pool size. */
  max?: number
  /**
   * PostgreSQL `statement_timeout` of every connection, in ms (0 or unset: none). Per statement, so
   * it bounds a runaway query without shortening a transaction of many statements.
   */
  statementTimeoutMs?: number
  /** Called with the text of every SQL statement sent (tests count queries with it). */
  onQuery?: (sql: string) => void
  /** How long an interactive transaction may wait for a pool connection (default TRANSACTION_MAX_WAIT_MS). */
  transactionMaxWaitMs?: number
}

/** See createDb: long enough to outwait a busy pool's queue, short of an HTTP client's patience. */
export const TRANSACTION_MAX_WAIT_MS = 15_000

/**
 * Opens a Prisma client over the pg driver adapter (no Rust engine needed at run time).
 * Only repositories use it; everything above them speaks domain types.
 */
export function createDb(connectionString: string, opts: DbOptions = {}): Db {
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 10,
    ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
  })
  const onQuery = opts.onQuery
  if (onQuery) {
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown
      ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const first = args[0]
        onQuery(typeof first === 'string' ? first : String((first as { text?: string })?.text ?? ''))
        return query(...args)
      }
    })
  }
  // An idle connection the server closes (restart, dropped test database) must not crash the process.
  pool.on('error', () => {})
  const client = new PrismaClient({
    adapter: new PrismaPg(pool),
    // Prisma gives an interactive transaction 2 s (its default maxWait) to get a connection, then fails it with
    // P2028 ("Unable to start a transaction in the given time"), while a plain query waits in the pool's queue
    // as long as it takes. Under load the queue is long (hundreds of subscriber reads, 50 queries/s, a starved
    // event loop releasing connections late): every startRun then failed while the reads ahead of it went
    // through. A transaction now waits its turn like any query, up to this bound.
    transactionOptions: { maxWait: opts.transactionMaxWaitMs ?? TRANSACTION_MAX_WAIT_MS },
  })
  pools.set(client, pool)
  return client
}

const pools = new WeakMap<Db, pg.Pool>()

/**
 * The pg pool under a client, for the few reads Prisma makes much slower (large bytea values: see
 * DatasetRepository.findContentOfRun).
 */
export function poolOf(db: Db): pg.Pool {
  const pool = pools.get(db)
  if (!pool) throw new Error('this client was not made by createDb')
  return pool
}

/** Disconnects Prisma and ends the pool it was given (the adapter does not own a pool passed to it). */
export async function closeDb(db: Db): Promise<void> {
  await db.$disconnect()
  await pools.get(db)?.end()
}
