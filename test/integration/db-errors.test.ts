/** dbFailureOf on errors real drivers raise: pg directly, and Prisma over the pg adapter. */
import pg from 'pg'
import { closeDb, createDb } from '../../src/db/client'
import { findFreePort } from '../../src/db/embedded'
import { dbFailureOf, describeDbFailure } from '../../src/modules/common/db-errors'
import { createTestDatabase, TestDatabase } from '../helpers/db'

let database: TestDatabase
beforeAll(async () => {
  database = await createTestDatabase({ migrate: false })
})
afterAll(async () => {
  await database?.drop()
})

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure')
    },
    (err: unknown) => err,
  )

it('calls a refused connection unavailable (pg and Prisma)', async () => {
  const closed = `postgresql://postgres@127.0.0.1:${await findFreePort()}/postgres`
  const client = new pg.Client({ connectionString: closed })
  expect(dbFailureOf(await failure(client.connect()))).toBe('unavailable')
  const db = createDb(closed, { max: 1 })
  try {
    expect(dbFailureOf(await failure(db.$queryRaw`SELECT 1`))).toBe('unavailable')
    expect(dbFailureOf(await failure(db.$transaction((tx) => tx.$queryRaw`SELECT 1`)))).toBe('unavailable')
  } finally {
    await closeDb(db)
  }
})

it('calls a session the server terminated (57P01) unavailable', async () => {
  const victim = new pg.Client({ connectionString: database.url })
  victim.on('error', () => undefined)
  await victim.connect()
  const { rows } = await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  const sleeping = failure(victim.query('SELECT pg_sleep(10)'))
  const admin = new pg.Client({ connectionString: database.url })
  await admin.connect()
  try {
    await new Promise((resolve) => setTimeout(resolve, 200))
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid])
    expect(dbFailureOf(await sleeping)).toBe('unavailable')
  } finally {
    await admin.end()
    await victim.end().catch(() => undefined)
  }
})

it('calls a statement_timeout cancellation (57014) a timeout, through Prisma too', async () => {
  const db = createDb(database.url, { max: 1, statementTimeoutMs: 100 })
  try {
    expect(dbFailureOf(await failure(db.$queryRaw`SELECT pg_sleep(2)`))).toBe('timeout')
  } finally {
    await closeDb(db)
  }
})

it('calls a transaction that found no free connection in time (P2028) unavailable', async () => {
  const db = createDb(database.url, { max: 1 })
  try {
    // Prisma's queries are lazy: then() sends this one, which holds the only connection.
    const busy = db.$queryRaw`SELECT 1 AS one FROM pg_sleep(2)`.then(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const err = await failure(db.$transaction((tx) => tx.$queryRaw`SELECT 1`, { maxWait: 100 }))
    expect(err).toMatchObject({ code: 'P2028' })
    expect(dbFailureOf(err)).toBe('unavailable')
    expect(describeDbFailure(err)).toBe('no database connection became free in time')
    await busy
  } finally {
    await closeDb(db)
  }
})

it("lets a transaction wait for a busy pool as a plain query does (no P2028 after Prisma's 2 s)", async () => {
  const db = createDb(database.url, { max: 1 })
  try {
    // The only connection is held for 3 s, longer than Prisma's default maxWait of 2 s: the startRun of a busy
    // API met exactly this, P2028, while the reads queued beside it went through.
    const busy = db.$queryRaw`SELECT 1 AS one FROM pg_sleep(3)`.then(() => 'read')
    await new Promise((resolve) => setTimeout(resolve, 200))
    const queued = db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT 1`
      return 'transaction'
    })
    await expect(Promise.all([busy, queued])).resolves.toEqual(['read', 'transaction'])
  } finally {
    await closeDb(db)
  }
})

it('leaves errors of the request alone', async () => {
  const db = createDb(database.url, { max: 1 })
  try {
    expect(dbFailureOf(await failure(db.$queryRaw`SELECT * FROM no_such_table`))).toBeUndefined()
    expect(dbFailureOf(await failure(db.$queryRaw`SELECT 1/0`))).toBeUndefined()
  } finally {
    await closeDb(db)
  }
  expect(dbFailureOf(new Error('something else'))).toBeUndefined()
})
