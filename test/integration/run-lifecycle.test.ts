import { RunRepository } from '../../src/modules/run/run.repository'
import { RunStatus } from '../../src/modules/run/run.status'
import { createTestDatabase } from '../helpers/db'
import { collect, startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { id status } }`
const GET = `query($id: ID!) { run(id: $id) { id status error attempt lastEpoch history { epoch } } }`

interface RunView {
  id: string
  status: string
  error: string | null
  attempt: number
  lastEpoch: number
  history: { epoch: number }[]
}

async function dataset(t: TestLab): Promise<string> {
  const res = await t.gql<{ generateDataset: { id: string } }>(
    `mutation { generateDataset(input: { name: "lifecycle", generator: LINEAR, rows: 200, seed: 2 }) { id } }`,
  )
  return res.data!.generateDataset.id
}

async function start(t: TestLab, datasetId: string, epochs = 2): Promise<string> {
  const res = await t.gql<{ startRun: { id: string } }>(START, {
    input: { datasetId, epochs, hiddenLayers: [4], batchSize: 16 },
  })
  return res.data!.startRun.id
}

const getRun = async (t: TestLab, id: string) => (await t.gql<{ run: RunView }>(GET, { id })).data!.run

describe('without workers', () => {
  let t: TestLab
  let datasetId: string
  beforeAll(async () => {
    t = await startTestLab({
      LAB_WORKERS: '0',
      LAB_HEARTBEAT_INTERVAL_MS: '200',
      LAB_HEARTBEAT_TIMEOUT_MS: '1500',
    })
    datasetId = await dataset(t)
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('cancels a queued run at once and tells subscribers', async () => {
    const id = await start(t, datasetId)
    const sub = collect<{ runEvents: { status?: string } }>(
      t.ws(),
      `subscription($id: ID!) { runEvents(runId: $id) { ... on RunStatusChanged { status error } } }`,
      { id },
    )
    await new Promise((r) => setTimeout(r, 200))
    const res = await t.gql<{ cancelRun: { status: string } }>(
      `mutation($id: ID!) { cancelRun(id: $id) { status } }`,
      {
        id,
      },
    )
    expect(res.data!.cancelRun.status).toBe('CANCELLED')
    const events = await sub.done
    expect(events.map((e) => e.runEvents.status)).toEqual(['CANCELLED'])
  })

  it('answers a subscription to an unknown run with NOT_FOUND', async () => {
    const sub = collect(
      t.ws(),
      `subscription { runEvents(runId: "00000000-0000-0000-0000-000000000000") { __typename } }`,
    )
    await expect(sub.done).rejects.toThrow(/NOT_FOUND/)
  })

  it('fails a RUNNING run whose worker stopped sending heartbeats, and refuses the stale worker', async () => {
    const id = await start(t, datasetId)
    const repo = new RunRepository(t.lab.db)
    // Play a worker that claims the run, writes one epoch, then vanishes.
    const claimed = await repo.claim(id, 'ghost:1', 'cpu')
    expect(claimed?.status).toBe(RunStatus.RUNNING)
    const m = { epoch: 1, durationMs: 1, metrics: [{ name: 'loss', value: 1 }] }
    expect(await repo.recordEpoch(id, claimed!.attempt, m)).toEqual({ cancelRequested: false })
    const failed = await waitFor(
      async () => {
        const run = await getRun(t, id)
        return run.status === 'FAILED' ? run : undefined
      },
      { timeoutMs: 10_000, what: 'the supervisor to fail the run' },
    )
    expect(failed.error).toMatch(/worker lost: no heartbeat/)
    // The ghost comes back: its writes are refused.
    expect(await repo.recordEpoch(id, claimed!.attempt, { ...m, epoch: 2 })).toBe('stale')
    expect(await repo.finish(id, claimed!.attempt, RunStatus.SUCCEEDED, {})).toBeNull()
    expect((await getRun(t, id)).history.map((h) => h.epoch)).toEqual([1])
  })

  it('gives a queued run whose job was lost a new job', async () => {
    const id = await start(t, datasetId)
    await t.lab.db.$executeRaw`DELETE FROM pgboss.job WHERE data->>'runId' = ${id}`
    // Old enough for the supervisor to treat it as orphaned rather than just created.
    await t.lab.db.run.update({ where: { id }, data: { createdAt: new Date(Date.now() - 60_000) } })
    await t.lab.app.supervisor.sweep()
    const jobs = await t.lab.db.$queryRaw<{ state: string }[]>`
      SELECT state::text FROM pgboss.job WHERE data->>'runId' = ${id}`
    expect(jobs.map((j) => j.state)).toEqual(['created'])
  })

  it('state machine: a finished run cannot move again', async () => {
    const id = await start(t, datasetId)
    const repo = new RunRepository(t.lab.db)
    await t.gql(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id })
    expect(await repo.transition(id, RunStatus.RUNNING)).toBeNull()
    expect(await repo.transition(id, RunStatus.SUCCEEDED)).toBeNull()
    expect(await repo.claim(id, 'w', 'cpu')).toBeNull()
    expect((await getRun(t, id)).status).toBe('CANCELLED')
  })
})

describe('retry policy', () => {
  it('requeues a run whose worker was lost while retries remain, with the old attempt fenced off', async () => {
    const t = await startTestLab({
      LAB_WORKERS: '0',
      LAB_MAX_RUN_RETRIES: '1',
      LAB_HEARTBEAT_INTERVAL_MS: '200',
      LAB_HEARTBEAT_TIMEOUT_MS: '1500',
    })
    try {
      const id = await start(t, await dataset(t))
      const repo = new RunRepository(t.lab.db)
      const first = await repo.claim(id, 'ghost:1', 'cpu')
      await waitFor(async () => (await getRun(t, id)).status === 'QUEUED' || undefined, { what: 'requeue' })
      const run = await getRun(t, id)
      expect(run.error).toMatch(/retrying: worker lost/)
      const second = await repo.claim(id, 'ghost:2', 'cpu')
      expect(second!.attempt).toBe(first!.attempt + 1)
      const m = { epoch: 1, durationMs: 1, metrics: [{ name: 'loss', value: 1 }] }
      expect(await repo.recordEpoch(id, first!.attempt, m)).toBe('stale')
      expect(await repo.recordEpoch(id, second!.attempt, m)).toEqual({ cancelRequested: false })
      // The second loss is final: no retries left.
      const failed = await waitFor(async () => {
        const r = await getRun(t, id)
        return r.status === 'FAILED' ? r : undefined
      })
      expect(failed.error).toMatch(/worker lost/)
    } finally {
      await t.stop()
    }
  }, 60_000)
})

describe('restarting the API', () => {
  it('resumes queued runs: runs queued before a restart train after it', async () => {
    const database = await createTestDatabase()
    try {
      const first = await startTestLab({ LAB_WORKERS: '0' }, { databaseUrl: database.url })
      const datasetId = await dataset(first)
      const ids = [await start(first, datasetId), await start(first, datasetId)]
      await first.stop()

      const second = await startTestLab(
        { LAB_WORKERS: '1', LAB_TF_BACKEND: 'cpu' },
        { databaseUrl: database.url },
      )
      try {
        for (const id of ids) {
          const run = await waitFor(
            async () => {
              const r = await getRun(second, id)
              return r.status === 'SUCCEEDED' ? r : undefined
            },
            { timeoutMs: 60_000, what: `run ${id}` },
          )
          expect(run.history.map((h) => h.epoch)).toEqual([1, 2])
        }
      } finally {
        await second.stop()
      }
    } finally {
      await database.drop()
    }
  }, 120_000)
})
