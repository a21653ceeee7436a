import { Client } from 'pg'
import { createDb, closeDb, type Db } from '../../src/db/client'
import { createLogger } from '../../src/logger'
import { JobWakeups } from '../../src/training/job-wakeups'
import { enqueueWith, openQueue } from '../../src/training/queue'
import type PgBoss from 'pg-boss'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { waitFor } from '../helpers/wait'

// A queued job wakes idle trainers (JobWakeups); the hint must arrive with the job's commit and not before,
// and keep arriving after the listening connection is lost.
let database: TestDatabase
let boss: PgBoss
let db: Db
let wakeups: JobWakeups
let calls = 0

beforeAll(async () => {
  database = await createTestDatabase()
  boss = await openQueue(database.url, { supervise: false })
  db = createDb(database.url, { max: 2 })
  wakeups = new JobWakeups(database.url, createLogger('silent', 'test'))
  await wakeups.start(() => calls++)
}, 60_000)

afterAll(async () => {
  await wakeups?.stop()
  await boss?.stop({ graceful: false, close: true })
  if (db) await closeDb(db)
  await database?.drop()
})

/** Enqueues a job in a transaction, as the API does with a new run; `before` runs before the commit. */
async function enqueueInTransaction(before: () => Promise<void> = async () => {}): Promise<void> {
  const enqueue = enqueueWith(boss)
  await db.$transaction(async (tx) => {
    await enqueue(crypto.randomUUID(), {
      executeSql: async (text, values) => ({ rows: await tx.$queryRawUnsafe<unknown[]>(text, ...values) }),
    })
    await before()
  })
}

it('calls back once per job queued, at the commit that queues it', async () => {
  const start = calls
  let beforeCommit = -1
  await enqueueInTransaction(async () => {
    // Give a notification sent too early every chance to arrive.
    await new Promise((resolve) => setTimeout(resolve, 200))
    beforeCommit = calls
  })
  expect(beforeCommit).toBe(start)
  await waitFor(() => calls === start + 1, { what: 'the wake-up' })
  await enqueueInTransaction()
  await waitFor(() => calls === start + 2, { what: 'the second wake-up' })
})

it('listens again after its connection is terminated', async () => {
  const admin = new Client({ connectionString: database.url })
  await admin.connect()
  try {
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'lab-trainer-jobs') t`,
    )
    expect(rows[0]?.n).toBe(1)
    // Back once a new session listens under the same name.
    await waitFor(
      async () =>
        (
          await admin.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND application_name = 'lab-trainer-jobs'`,
          )
        ).rows[0]?.n === 1,
      { what: 'the listener to reconnect' },
    )
  } finally {
    await admin.end()
  }
  const start = calls
  await waitFor(
    async () => {
      await enqueueInTransaction()
      return calls > start
    },
    { what: 'a wake-up after the reconnect', intervalMs: 300 },
  )
})
