/**
 * Runs continue from their checkpoint instead of starting over, against real trainer processes: a graceful stop
 * of the lab mid-run (the run is handed back with a checkpoint of its last completed epoch) and a trainer killed
 * with SIGKILL between two checkpoints (the retry replays the epochs after the checkpoint without storing or
 * announcing them again). Either way epochs 1..N are stored and streamed exactly once.
 */
import { closeDb, createDb } from '../../src/db/client'
import { RunRepository } from '../../src/modules/run/run.repository'
import { RunStatus } from '../../src/modules/run/run.status'
import { createTestDatabase, TestDatabase } from '../helpers/db'
import { collect, startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

const EPOCHS = 8
const EVERY = 3
// The pure-JS backend in every process: deterministic, so a resumed run can be compared with an uninterrupted one.
const ENV = {
  LAB_WORKERS: '1',
  LAB_TF_BACKEND: 'cpu',
  LAB_CHECKPOINT_EVERY_EPOCHS: String(EVERY),
  LAB_CHECKPOINT_MIN_INTERVAL_MS: '0',
}

interface RunView {
  status: string
  error: string | null
  attempt: number
  lastEpoch: number
  history: { epoch: number; loss: number; valLoss: number | null }[]
  summary: { finalLoss: number | null; bestValLoss: number | null; bestEpoch: number | null }
}
const GET = `query($id: ID!) { run(id: $id) { status error attempt lastEpoch history { epoch loss valLoss }
  summary { finalLoss bestValLoss bestEpoch } } }`

type RunEvent = { runEvents: { __typename: string; metric?: { epoch: number }; status?: string } }
const EVENTS = `subscription($id: ID!, $after: Int) { runEvents(runId: $id, afterEpoch: $after) { __typename
  ... on EpochCompleted { metric { epoch } } ... on RunStatusChanged { status } } }`

async function gqlOk<T>(t: TestLab, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await t.gql<T>(query, variables)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data!
}

const getRun = async (t: TestLab, id: string) => (await gqlOk<{ run: RunView }>(t, GET, { id })).run

async function dataset(t: TestLab): Promise<string> {
  const { generateDataset } = await gqlOk<{ generateDataset: { id: string } }>(
    t,
    `mutation { generateDataset(input: { name: "resume", generator: FRIEDMAN1, rows: 3000, noise: 0.5, seed: 8 }) { id } }`,
  )
  return generateDataset.id
}

/** Epochs long enough (about a second on the cpu backend) to stop the run inside one. */
async function startRun(t: TestLab, datasetId: string): Promise<string> {
  const { startRun } = await gqlOk<{ startRun: { id: string } }>(
    t,
    `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`,
    {
      input: {
        datasetId,
        epochs: EPOCHS,
        hiddenLayers: [64, 32],
        batchSize: 16,
        optimizer: 'ADAM',
        seed: 3,
        explain: [],
      },
    },
  )
  return startRun.id
}

const ended = (t: TestLab, id: string) =>
  waitFor(
    async () => {
      const run = await getRun(t, id)
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status) ? run : undefined
    },
    { timeoutMs: 240_000, what: `run ${id} to end` },
  )

const epochsOf = (events: RunEvent[]) =>
  events.filter((e) => e.runEvents.__typename === 'EpochCompleted').map((e) => e.runEvents.metric!.epoch)

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

const checkpointOf = (t: TestLab, id: string) => new RunRepository(t.lab.db).findCheckpoint(id)

describe('a graceful stop of the lab mid-run', () => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await createTestDatabase()
  })
  afterAll(async () => {
    await database?.drop()
  })

  it('hands the run back with a checkpoint, and the next start continues it from there', async () => {
    const first = await startTestLab(ENV, { databaseUrl: database.url })
    let id: string
    const seen: RunEvent[] = []
    try {
      id = await startRun(first, await dataset(first))
      // Not collect(): this subscription ends with the server, without a terminal status.
      first
        .ws()
        .subscribe(
          { query: EVENTS, variables: { id } },
          { next: (v) => void seen.push(v.data as unknown as RunEvent), error: () => {}, complete: () => {} },
        )
      await waitFor(async () => (await getRun(first, id)).lastEpoch >= EVERY + 1 || undefined, {
        timeoutMs: 180_000,
        intervalMs: 50,
        what: 'epochs past the first checkpoint',
      })
    } finally {
      await first.stop()
    }
    // Read with no worker about, before anything claims the run again.
    const store = createDb(database.url)
    let stored: { lastEpoch: number; checkpointEpoch: number | undefined }
    try {
      const run = await new RunRepository(store).findById(id)
      const checkpoint = await new RunRepository(store).findCheckpoint(id)
      stored = { lastEpoch: run!.lastEpoch, checkpointEpoch: checkpoint?.checkpoint.epoch }
    } finally {
      await closeDb(store)
    }
    // The hand-back checkpoint is of the last completed (and stored) epoch, past the periodic one.
    expect(stored.checkpointEpoch).toBe(stored.lastEpoch)
    expect(stored.lastEpoch).toBeGreaterThan(EVERY)
    const second = await startTestLab(ENV, { databaseUrl: database.url })
    try {
      const before = await getRun(second, id)
      expect(before.status).toBe('QUEUED')
      expect(before.error).toBe('retrying: its worker shut down')
      expect(before.history.map((h) => h.epoch)).toEqual(range(1, before.lastEpoch))
      expect(before.lastEpoch).toBeLessThan(EPOCHS)
      const firstEpochs = epochsOf(seen)
      expect(firstEpochs).toEqual(range(1, firstEpochs.length))
      // The subscriber reconnects where it left off.
      const rest = collect<RunEvent>(second.ws(), EVENTS, { id, after: firstEpochs.length })
      const done = await ended(second, id)
      expect(done.status).toBe('SUCCEEDED')
      expect(done.attempt).toBe(2)
      expect(done.history.map((h) => h.epoch)).toEqual(range(1, EPOCHS))
      // The epochs of the first attempt are kept as they were.
      expect(done.history.slice(0, before.lastEpoch)).toEqual(before.history)
      expect(done.summary.finalLoss).toBe(done.history.at(-1)!.loss)
      const events = await rest.done
      expect([...firstEpochs, ...epochsOf(events)]).toEqual(range(1, EPOCHS))
      expect(events.at(-1)?.runEvents.status).toBe('SUCCEEDED')
      expect(await checkpointOf(second, id)).toBeNull()
    } finally {
      await second.stop()
    }
  }, 400_000)
})

describe('a trainer killed between checkpoints', () => {
  let t: TestLab
  beforeAll(async () => {
    t = await startTestLab({ ...ENV, LAB_MAX_RUN_RETRIES: '1' })
  }, 60_000)
  afterAll(async () => {
    await t?.stop()
  })

  it('is retried from its checkpoint: the epochs after it are replayed, not stored or announced again', async () => {
    const datasetId = await dataset(t)
    const id = await startRun(t, datasetId)
    const events = collect<RunEvent>(t.ws(), EVENTS, { id })
    // Kill once a checkpoint exists and at least one epoch has been stored after it.
    const pid = await waitFor(
      async () => {
        const [run, checkpoint] = await Promise.all([getRun(t, id), checkpointOf(t, id)])
        if (!checkpoint || run.lastEpoch <= checkpoint.checkpoint.epoch) return undefined
        return t.lab.app.pool?.pidOf(id)
      },
      { timeoutMs: 180_000, intervalMs: 20, what: 'an epoch stored after a checkpoint' },
    )
    process.kill(pid, 'SIGKILL')
    const retried = await waitFor(
      async () => {
        const run = await getRun(t, id)
        return run.status !== 'RUNNING' ? run : undefined
      },
      { what: 'the retry' },
    )
    const checkpoint = await checkpointOf(t, id)
    // What the retry has to do: continue from the checkpoint, replaying the epochs stored after it.
    expect(retried.status).toBe('QUEUED')
    expect(retried.error).toMatch(/^retrying: worker process \d+ exited \(SIGKILL\) during training$/)
    expect(checkpoint!.checkpoint.epoch).toBeLessThan(retried.lastEpoch)
    expect(retried.history.map((h) => h.epoch)).toEqual(range(1, retried.lastEpoch))

    const done = await ended(t, id)
    expect(done.status).toBe('SUCCEEDED')
    expect(done.attempt).toBe(2)
    expect(done.history.map((h) => h.epoch)).toEqual(range(1, EPOCHS))
    expect(done.history.slice(0, retried.lastEpoch)).toEqual(retried.history)
    expect(done.summary.finalLoss).toBe(done.history.at(-1)!.loss)
    const seen = await events.done
    expect(epochsOf(seen)).toEqual(range(1, EPOCHS))
    const statuses = seen.map((e) => e.runEvents.status).filter(Boolean)
    expect(statuses).toContain('QUEUED')
    expect(statuses.at(-1)).toBe('SUCCEEDED')
    expect(await checkpointOf(t, id)).toBeNull()

    // The same run uninterrupted, on the same backend: the resumed one is identical, epoch by epoch.
    const reference = await ended(t, await startRun(t, datasetId))
    expect(reference.status).toBe('SUCCEEDED')
    expect(reference.attempt).toBe(1)
    expect(done.history).toEqual(reference.history)
  }, 600_000)
})

describe('the checkpoint store', () => {
  let t: TestLab
  beforeAll(async () => {
    t = await startTestLab({ LAB_WORKERS: '0', LAB_HEARTBEAT_TIMEOUT_MS: '60000' })
  }, 60_000)
  afterAll(async () => {
    await t?.stop()
  })

  const checkpoint = (epoch: number) => ({
    epoch,
    meta: { format: 1, note: `epoch ${epoch}` },
    weightSpecs: [{ name: 'w', shape: [2], dtype: 'float32' }],
    weights: new Uint8Array(new Float32Array([epoch, -epoch]).buffer),
  })
  const report = (epoch: number) => ({
    epoch,
    durationMs: 1,
    metrics: [
      { name: 'loss', value: 10 - epoch },
      { name: 'valLoss', value: 20 - epoch },
    ],
  })

  async function queuedRun(): Promise<string> {
    const { generateDataset } = await gqlOk<{ generateDataset: { id: string } }>(
      t,
      `mutation { generateDataset(input: { name: "store", generator: LINEAR, rows: 100, seed: 1 }) { id } }`,
    )
    const { startRun } = await gqlOk<{ startRun: { id: string } }>(
      t,
      `mutation($id: ID!) { startRun(input: { datasetId: $id, epochs: 5, hiddenLayers: [4] }) { id } }`,
      { id: generateDataset.id },
    )
    return startRun.id
  }

  it('refuses a checkpoint ahead of the stored epochs or from a stale attempt, and keeps one per run', async () => {
    const id = await queuedRun()
    const repo = new RunRepository(t.lab.db)
    const first = (await repo.claim(id, 'ghost:1', 'cpu'))!
    await repo.recordEpoch(id, first.attempt, report(1))
    expect(await repo.saveCheckpoint(id, first.attempt, first.family, checkpoint(2))).toBe(false)
    expect(await repo.saveCheckpoint(id, first.attempt, first.family, checkpoint(1))).toBe(true)
    await repo.recordEpoch(id, first.attempt, report(2))
    expect(await repo.saveCheckpoint(id, first.attempt, first.family, checkpoint(2))).toBe(true)
    const stored = await repo.findCheckpoint(id)
    expect(stored?.family).toBe(first.family)
    expect(stored?.checkpoint.epoch).toBe(2)
    expect(stored?.checkpoint.meta).toEqual(checkpoint(2).meta)
    expect(Buffer.from(stored!.checkpoint.weights).equals(Buffer.from(checkpoint(2).weights))).toBe(true)

    // Handed back with a checkpoint: the history and summary stay for the next attempt.
    await repo.abandon(id, first.attempt, 'its worker shut down', 1, async () => {})
    const queued = await getRun(t, id)
    expect(queued.status).toBe('QUEUED')
    expect(queued.history.map((h) => h.epoch)).toEqual([1, 2])
    expect(queued.summary).toEqual({ finalLoss: 8, bestValLoss: 18, bestEpoch: 2 })
    const second = (await repo.claim(id, 'ghost:2', 'cpu'))!
    expect(second.lastEpoch).toBe(2)
    expect(await repo.saveCheckpoint(id, first.attempt, first.family, checkpoint(1))).toBe(false)
    expect((await repo.findCheckpoint(id))?.checkpoint.epoch).toBe(2)

    await repo.finish(id, second.attempt, RunStatus.CANCELLED, {})
    expect(await repo.findCheckpoint(id)).toBeNull()
  })

  it('rewinds a run whose checkpoint cannot be used, and a stream starts its epochs again at 1', async () => {
    const id = await queuedRun()
    const repo = new RunRepository(t.lab.db)
    const first = (await repo.claim(id, 'ghost:3', 'cpu'))!
    await repo.recordEpoch(id, first.attempt, report(1))
    await repo.recordEpoch(id, first.attempt, report(2))
    await repo.saveCheckpoint(id, first.attempt, first.family, checkpoint(2))
    await repo.abandon(id, first.attempt, 'worker lost', 1, async () => {})
    const events = collect<RunEvent>(t.ws(), EVENTS, { id })
    await waitFor(() => epochsOf(events.items).length === 2 || undefined, { what: 'the stored epochs' })
    const second = (await repo.claim(id, 'ghost:4', 'cpu'))!
    // A newer attempt owns the run: the old one cannot rewind it.
    expect(await repo.rewind(id, first.attempt)).toBe(false)
    expect(await repo.rewind(id, second.attempt)).toBe(true)
    const rewound = await getRun(t, id)
    expect(rewound.history).toEqual([])
    expect(rewound.summary).toEqual({ finalLoss: null, bestValLoss: null, bestEpoch: null })
    expect(await repo.findCheckpoint(id)).toBeNull()
    await repo.recordEpoch(id, second.attempt, report(1))
    await repo.finish(id, second.attempt, RunStatus.FAILED, { error: 'test' })
    expect(epochsOf(await events.done)).toEqual([1, 2, 1])
  })
})

describe('a checkpoint the family cannot use', () => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await createTestDatabase()
  })
  afterAll(async () => {
    await database?.drop()
  })

  it('makes the trainer start over from epoch 1, and the stream shows the history starting again', async () => {
    // An API without workers, where the test plays a first attempt that stored two epochs and a checkpoint.
    const api = await startTestLab({ LAB_WORKERS: '0' }, { databaseUrl: database.url })
    let workers: TestLab | undefined
    try {
      const { generateDataset } = await gqlOk<{ generateDataset: { id: string } }>(
        api,
        `mutation { generateDataset(input: { name: "corrupt", generator: LINEAR, rows: 100, seed: 1 }) { id } }`,
      )
      const { startRun } = await gqlOk<{ startRun: { id: string } }>(
        api,
        `mutation($id: ID!) { startRun(input: { datasetId: $id, epochs: 4, hiddenLayers: [4], explain: [] }) { id } }`,
        { id: generateDataset.id },
      )
      const id = startRun.id
      const repo = new RunRepository(api.lab.db)
      const ghost = (await repo.claim(id, 'ghost:5', 'cpu'))!
      const fake = (epoch: number) => ({
        epoch,
        durationMs: 1,
        metrics: [{ name: 'loss', value: 100 + epoch }],
      })
      await repo.recordEpoch(id, ghost.attempt, fake(1))
      await repo.recordEpoch(id, ghost.attempt, fake(2))
      // The right family and format, but other networks: only the family can tell.
      const unusable = {
        epoch: 2,
        meta: { format: 1, optimizer: 'ADAM', networks: [{ name: 'mlp', weights: 1 }], optimizerWeights: 0 },
        weightSpecs: [{ name: 'net/mlp/0', shape: [1], dtype: 'float32' }],
        weights: new Uint8Array(4),
      }
      expect(await repo.saveCheckpoint(id, ghost.attempt, ghost.family, unusable)).toBe(true)
      // The run's first job is still queued (nothing consumed it), so the requeue needs no new one.
      await repo.abandon(id, ghost.attempt, 'worker lost', 1, async () => {})
      const events = collect<RunEvent>(api.ws(), EVENTS, { id })
      await waitFor(() => epochsOf(events.items).length === 2 || undefined, { what: 'the stored epochs' })

      workers = await startTestLab(ENV, { databaseUrl: database.url })
      const done = await ended(api, id)
      expect(done.status).toBe('SUCCEEDED')
      expect(done.attempt).toBe(ghost.attempt + 1)
      expect(done.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4])
      expect(done.history.map((h) => h.loss)).not.toContain(101)
      expect(epochsOf(await events.done)).toEqual([1, 2, 1, 2, 3, 4])
    } finally {
      await workers?.stop()
      await api.stop()
    }
  }, 200_000)
})
