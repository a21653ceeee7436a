/**
 * Database outages under a real API and a real trainer process. The database restarted here is a dedicated
 * embedded PostgreSQL on a port of its own (never the machine's server, which every test run shares); the
 * statement-timeout case uses an ordinary test database.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { findFreePort } from '../../src/db/embedded'
import { EmbeddedServerProcess, spawnEmbeddedServer } from '../helpers/global-setup'
import { GqlResponse, startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

const leftovers: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const dispose of leftovers.reverse()) await dispose()
})

async function gqlOk<T>(t: TestLab, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await t.gql<T>(query, variables)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data!
}

const RUN = `query($id: ID!) { run(id: $id) { status error attempt lastEpoch history { epoch } } }`
interface RunView {
  status: string
  error: string | null
  attempt: number
  lastEpoch: number
  history: { epoch: number }[]
}

async function startRun(t: TestLab, datasetId: string, epochs: number): Promise<string> {
  const { startRun } = await gqlOk<{ startRun: { id: string } }>(
    t,
    `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`,
    { input: { datasetId, epochs, hiddenLayers: [16], batchSize: 32, seed: 3, explain: [] } },
  )
  return startRun.id
}

const ended = (t: TestLab, id: string, timeoutMs = 180_000) =>
  waitFor(
    async () => {
      const res = await t.gql<{ run: RunView }>(RUN, { id })
      const run = res.data?.run
      return run && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status) ? run : undefined
    },
    { timeoutMs, intervalMs: 250, what: `run ${id} to end` },
  )

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('a PostgreSQL restart while a run trains', () => {
  let dataDir: string
  let port: number
  let server: EmbeddedServerProcess
  let t: TestLab

  beforeAll(async () => {
    dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'lab-outage-'))
    leftovers.push(() => fs.promises.rm(dataDir, { recursive: true, force: true }))
    port = await findFreePort()
    server = await spawnEmbeddedServer(dataDir, port)
    leftovers.push(() => server.stop())
    t = await startTestLab(
      {
        LAB_WORKERS: '1',
        LAB_TF_BACKEND: 'cpu',
        LAB_HEARTBEAT_INTERVAL_MS: '500',
        LAB_HEARTBEAT_TIMEOUT_MS: '3000',
        LAB_MAX_RUN_RETRIES: '0',
      },
      { databaseUrl: server.url },
    )
    leftovers.push(() => t.stop())
  }, 120_000)

  it('keeps the trainer alive, answers SERVICE_UNAVAILABLE meanwhile, fails the run with the true reason, then trains again', async () => {
    const { generateDataset } = await gqlOk<{ generateDataset: { id: string } }>(
      t,
      `mutation { generateDataset(input: { name: "outage", generator: FRIEDMAN1, rows: 2000, noise: 0.5, seed: 2 }) { id } }`,
    )
    const id = await startRun(t, generateDataset.id, 500)
    await waitFor(
      async () => ((await gqlOk<{ run: RunView }>(t, RUN, { id })).run.lastEpoch >= 2 ? true : undefined),
      { timeoutMs: 120_000, what: 'two epochs' },
    )
    const trainer = t.lab.app.pool!.pidOf(id)
    expect(trainer).toBeDefined()

    await server.stop()
    const down: GqlResponse<{ run: RunView }> = await t.gql(RUN, { id })
    expect(down.status).toBe(503)
    expect(down.errors?.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE'])
    expect(down.errors?.[0]?.message).toMatch(/^the database is unavailable/)
    const health = await fetch(t.lab.url.replace('/graphql', '/healthz'))
    expect(health.status).toBe(503)
    // Longer than the heartbeat timeout, and several epochs' worth: the trainer meets the outage.
    await new Promise((resolve) => setTimeout(resolve, 5_000))
    expect(isAlive(trainer!)).toBe(true)

    server = await spawnEmbeddedServer(dataDir, port)
    const run = await ended(t, id)
    expect(run.status).toBe('FAILED')
    expect(run.error).toMatch(/^database unavailable during training: /)
    expect(run.attempt).toBe(1)
    expect(isAlive(trainer!)).toBe(true)
    expect(t.lab.app.pool!.pids()).toEqual([trainer])
    expect((await fetch(t.lab.url.replace('/graphql', '/healthz'))).status).toBe(200)

    // Work resumes: the same trainer takes and finishes the next run.
    const next = await startRun(t, generateDataset.id, 2)
    const done = await ended(t, next)
    expect(done.status).toBe('SUCCEEDED')
    expect(done.history.map((h) => h.epoch)).toEqual([1, 2])
    expect(t.lab.app.pool!.pids()).toEqual([trainer])
  }, 400_000)
})

describe('a statement the database cancels for its timeout', () => {
  it('answers TIMEOUT, not INTERNAL_SERVER_ERROR', async () => {
    const t = await startTestLab({ LAB_WORKERS: '0', LAB_DB_STATEMENT_TIMEOUT_MS: '500' })
    leftovers.push(() => t.stop())
    const blocker = new pg.Client({ connectionString: t.lab.databaseUrl })
    await blocker.connect()
    leftovers.push(() => blocker.end())
    // A lock held elsewhere keeps the query waiting until statement_timeout cancels it.
    await blocker.query('BEGIN')
    await blocker.query('LOCK TABLE "Dataset" IN ACCESS EXCLUSIVE MODE')
    const res = await t.gql(`{ datasets(first: 5) { totalCount } }`)
    await blocker.query('ROLLBACK')
    expect(res.status).toBe(200)
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['TIMEOUT'])
    expect(res.errors?.[0]?.message).toMatch(/LAB_DB_STATEMENT_TIMEOUT_MS/)
    const after = await t.gql(`{ datasets(first: 5) { totalCount } }`)
    expect(after.errors).toBeUndefined()
  })
})
