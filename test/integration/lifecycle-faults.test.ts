import pg from 'pg'

import { RunRepository } from '../../src/modules/run/run.repository'
import { createTestDatabase, TestDatabase } from '../helpers/db'
import { collect, startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

/**
 * The lifecycle under interruptions that arrive after the last epoch, while the worker explains the model:
 * a graceful stop hands the run back (never FAILED), a cancel ends it CANCELLED (never SUCCEEDED).
 */
const GET = `query($id: ID!) { run(id: $id) { id status error attempt lastEpoch
  history { epoch } summary { finalLoss bestValLoss bestEpoch metrics { name } } explanation { methods } } }`

interface RunView {
  id: string
  status: string
  error: string | null
  attempt: number
  lastEpoch: number
  history: { epoch: number }[]
  summary: {
    finalLoss: number | null
    bestValLoss: number | null
    bestEpoch: number | null
    metrics: { name: string }[]
  }
  explanation: { methods: string[] } | null
}

// Bigger explanation samples keep the worker explaining for several seconds after the last epoch.
const SLOW_EXPLANATION = { LAB_WORKERS: '1', LAB_EXPLAIN_SAMPLE_SIZE: '1000', LAB_EXPLAIN_MAX_ROWS: '2000' }
const EPOCHS = 2

async function gqlOk<T>(t: TestLab, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await t.gql<T>(query, variables)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data!
}

async function startExplainedRun(t: TestLab): Promise<string> {
  const { generateDataset } = await gqlOk<{ generateDataset: { id: string } }>(
    t,
    `mutation { generateDataset(input: { name: "friedman-faults", generator: FRIEDMAN1, rows: 2500, noise: 0.5, seed: 4 }) { id } }`,
  )
  const { startRun } = await gqlOk<{ startRun: { id: string } }>(
    t,
    `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`,
    { input: { datasetId: generateDataset.id, epochs: EPOCHS, hiddenLayers: [16], batchSize: 64, seed: 1 } },
  )
  return startRun.id
}

const getRun = async (t: TestLab, id: string) => (await gqlOk<{ run: RunView }>(t, GET, { id })).run

/** Waits until the run has stored its last epoch and is still RUNNING: its worker is explaining it. */
async function explaining(t: TestLab, id: string): Promise<void> {
  await waitFor(
    async () => {
      const run = await getRun(t, id)
      if (run.status !== 'RUNNING' && run.status !== 'QUEUED') {
        throw new Error(`the run ended ${run.status} before the test could interrupt its explanation`)
      }
      return run.status === 'RUNNING' && run.lastEpoch === EPOCHS ? true : undefined
    },
    { timeoutMs: 120_000, intervalMs: 50, what: 'the explanation to start' },
  )
}

describe('a graceful stop during the explanation', () => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await createTestDatabase()
  })
  afterAll(async () => {
    await database?.drop()
  })

  it('hands the run back to the queue, and the next start trains and explains it', async () => {
    const first = await startTestLab(
      { ...SLOW_EXPLANATION, LAB_MAX_RUN_RETRIES: '0' },
      { databaseUrl: database.url },
    )
    let id: string
    try {
      id = await startExplainedRun(first)
      await explaining(first, id)
      const stopping = performance.now()
      await first.stop()
      // The trainer stopped inside the explanation, not after the pool's kill timeout.
      expect(performance.now() - stopping).toBeLessThan(9_000)
    } catch (err) {
      await first.stop()
      throw err
    }
    const second = await startTestLab({ LAB_WORKERS: '0' }, { databaseUrl: database.url })
    try {
      const handedBack = await getRun(second, id)
      expect(handedBack.status).toBe('QUEUED')
      expect(handedBack.error).toBe('retrying: its worker shut down')
      expect(handedBack.explanation).toBeNull()
    } finally {
      await second.stop()
    }
    const third = await startTestLab({ LAB_WORKERS: '1' }, { databaseUrl: database.url })
    try {
      const done = await waitFor(
        async () => {
          const run = await getRun(third, id)
          return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status) ? run : undefined
        },
        { timeoutMs: 180_000, what: 'the handed-back run' },
      )
      expect(done.status).toBe('SUCCEEDED')
      expect(done.history.map((h) => h.epoch)).toEqual([1, 2])
      expect(done.explanation?.methods.length).toBeGreaterThan(0)
    } finally {
      await third.stop()
    }
  }, 400_000)
})

describe('with a worker', () => {
  let t: TestLab
  beforeAll(async () => {
    t = await startTestLab(SLOW_EXPLANATION)
  }, 60_000)
  afterAll(async () => {
    await t?.stop()
  })

  it('a cancel during the explanation ends CANCELLED, without an explanation', async () => {
    const id = await startExplainedRun(t)
    await explaining(t, id)
    const events = collect<{ runEvents: { __typename: string; status?: string } }>(
      t.ws(),
      `subscription($id: ID!) { runEvents(runId: $id) { __typename ... on RunStatusChanged { status } } }`,
      { id },
    )
    const cancelled = await gqlOk<{ cancelRun: { status: string } }>(
      t,
      `mutation($id: ID!) { cancelRun(id: $id) { status } }`,
      { id },
    )
    expect(cancelled.cancelRun.status).toBe('RUNNING')
    const seen = await events.done
    expect(seen.map((e) => e.runEvents.__typename)).not.toContain('ExplanationReady')
    expect(seen.at(-1)?.runEvents.status).toBe('CANCELLED')
    const run = await getRun(t, id)
    expect(run.status).toBe('CANCELLED')
    expect(run.error).toBe('cancelled by request')
    expect(run.explanation).toBeNull()
    expect(run.history.map((h) => h.epoch)).toEqual([1, 2])
  }, 200_000)
})

describe('without workers', () => {
  let t: TestLab
  beforeAll(async () => {
    t = await startTestLab({ LAB_WORKERS: '0', LAB_HEARTBEAT_TIMEOUT_MS: '60000' })
  }, 60_000)
  afterAll(async () => {
    await t?.stop()
  })

  async function queuedRun(): Promise<string> {
    const { generateDataset } = await gqlOk<{ generateDataset: { id: string } }>(
      t,
      `mutation { generateDataset(input: { name: "lin", generator: LINEAR, rows: 100, seed: 1 }) { id } }`,
    )
    const { startRun } = await gqlOk<{ startRun: { id: string } }>(
      t,
      `mutation($id: ID!) { startRun(input: { datasetId: $id, epochs: 3, hiddenLayers: [4] }) { id } }`,
      { id: generateDataset.id },
    )
    return startRun.id
  }

  const jobsOf = async (runId: string): Promise<number> => {
    const client = new pg.Client({ connectionString: t.lab.databaseUrl })
    await client.connect()
    try {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM pgboss.job WHERE name = 'train-run' AND data->>'runId' = $1`,
        [runId],
      )
      return Number(rows[0]!.n)
    } finally {
      await client.end()
    }
  }

  it('removes the queue job of a run cancelled while queued', async () => {
    const id = await queuedRun()
    expect(await jobsOf(id)).toBe(1)
    await gqlOk(t, `mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id })
    expect(await jobsOf(id)).toBe(0)
  })

  it('starts a retried attempt with an empty summary', async () => {
    const id = await queuedRun()
    const repo = new RunRepository(t.lab.db)
    const first = await repo.claim(id, 'ghost:1', 'cpu')
    const metrics = (loss: number) => [
      { name: 'loss', value: loss },
      { name: 'valLoss', value: loss / 2 },
    ]
    expect(
      await repo.recordEpoch(id, first!.attempt, { epoch: 1, durationMs: 1, metrics: metrics(2) }),
    ).toEqual({
      cancelRequested: false,
    })
    const before = await getRun(t, id)
    expect(before.summary).toMatchObject({ finalLoss: 2, bestValLoss: 1, bestEpoch: 1 })
    await repo.abandon(id, first!.attempt, 'worker lost', 1, async () => {})
    const retried = await getRun(t, id)
    expect(retried.status).toBe('QUEUED')
    expect(retried.history).toEqual([])
    expect(retried.summary).toEqual({ finalLoss: null, bestValLoss: null, bestEpoch: null, metrics: [] })
  })

  it('judges heartbeats on the database clock', async () => {
    const id = await queuedRun()
    const repo = new RunRepository(t.lab.db)
    const claimed = await repo.claim(id, 'ghost:2', 'cpu')
    await t.lab.db
      .$executeRaw`UPDATE "Run" SET "heartbeatAt" = now() - interval '30 seconds' WHERE id = ${id}::uuid`
    expect((await repo.findStale(20_000)).map((r) => r.id)).toContain(id)
    expect(await repo.heartbeat(id, claimed!.attempt)).toBe(true)
    // This host's clock a minute ahead of the database's: a fresh heartbeat must not look stale.
    const skewed = Date.now() + 60_000
    const clock = jest.spyOn(Date, 'now').mockReturnValue(skewed)
    try {
      expect((await repo.findStale(20_000)).map((r) => r.id)).not.toContain(id)
    } finally {
      clock.mockRestore()
    }
    const [{ age }] = await t.lab.db.$queryRaw<[{ age: number }]>`
      SELECT extract(epoch FROM now() - "heartbeatAt")::float8 AS age FROM "Run" WHERE id = ${id}::uuid`
    expect(Math.abs(age)).toBeLessThan(5)
  })
})
