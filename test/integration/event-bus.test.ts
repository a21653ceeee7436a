import pg from 'pg'

import { RunRepository } from '../../src/modules/run/run.repository'
import { RunStatus } from '../../src/modules/run/run.status'
import { collect, startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

let t: TestLab
beforeAll(async () => {
  t = await startTestLab({ LAB_WORKERS: '0' })
}, 60_000)
afterAll(async () => {
  await t?.stop()
})

/** Ends the API's LISTEN connection from the server side, as a database restart would. */
async function dropListener(): Promise<number> {
  const client = new pg.Client({ connectionString: t.lab.databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity
       WHERE application_name = 'lab-events' AND datname = current_database()`,
    )
    return Number(rows[0]!.n)
  } finally {
    await client.end()
  }
}

it('keeps subscribers fed across a lost LISTEN connection: nothing missed, nothing twice', async () => {
  const { data } = await t.gql<{ generateDataset: { id: string } }>(
    `mutation { generateDataset(input: { name: "bus", generator: LINEAR, rows: 50, seed: 1 }) { id } }`,
  )
  const started = await t.gql<{ startRun: { id: string } }>(
    `mutation($id: ID!) { startRun(input: { datasetId: $id, epochs: 3, hiddenLayers: [2] }) { id } }`,
    { id: data!.generateDataset.id },
  )
  const id = started.data!.startRun.id
  const sub = collect<{ runEvents: { __typename: string; metric?: { epoch: number } } }>(
    t.ws(),
    `subscription($id: ID!) { runEvents(runId: $id) { __typename ... on EpochCompleted { metric { epoch } } } }`,
    { id },
  )
  const repo = new RunRepository(t.lab.db)
  const run = await repo.claim(id, 'ghost:bus', 'cpu')
  const report = (epoch: number) => ({ epoch, durationMs: 1, metrics: [{ name: 'loss', value: 1 / epoch }] })
  await repo.recordEpoch(id, run!.attempt, report(1))
  await waitFor(async () => (sub.items.some((e) => e.runEvents.metric?.epoch === 1) ? true : undefined))
  expect(await dropListener()).toBe(1)
  // Written while the listener is away: its NOTIFY is lost, the resync must find it.
  await repo.recordEpoch(id, run!.attempt, report(2))
  await waitFor(async () => ((await listenerCount()) === 1 ? true : undefined), {
    what: 'the listener to reconnect',
  })
  await repo.recordEpoch(id, run!.attempt, report(3))
  await repo.finish(id, run!.attempt, RunStatus.SUCCEEDED, {})
  const events = await sub.done
  expect(
    events.filter((e) => e.runEvents.__typename === 'EpochCompleted').map((e) => e.runEvents.metric!.epoch),
  ).toEqual([1, 2, 3])
}, 60_000)

async function listenerCount(): Promise<number> {
  const client = new pg.Client({ connectionString: t.lab.databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'lab-events' AND datname = current_database()`,
    )
    return Number(rows[0]!.n)
  } finally {
    await client.end()
  }
}

it('tells an experiment table of runs created and finished while the listener was away', async () => {
  const { data } = await t.gql<{ generateDataset: { id: string } }>(
    `mutation { generateDataset(input: { name: "bus-table", generator: LINEAR, rows: 50, seed: 2 }) { id } }`,
  )
  const sub = collect<{
    experimentEvents: { __typename: string; runId?: string; status?: string; run?: { id: string } }
  }>(
    t.ws(),
    `subscription { experimentEvents(experiment: "bus-table") { __typename
      ... on RunCreated { run { id } } ... on RunStatusChanged { runId status } } }`,
  )
  await new Promise((r) => setTimeout(r, 300))
  expect(await dropListener()).toBe(1)
  // Created, started and cancelled while nobody listens: every NOTIFY of it is lost.
  const started = await t.gql<{ startRun: { id: string } }>(
    `mutation($id: ID!) { startRun(input: { datasetId: $id, experiment: "bus-table", epochs: 2, hiddenLayers: [2] }) { id } }`,
    { id: data!.generateDataset.id },
  )
  const id = started.data!.startRun.id
  await t.gql(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id })
  const seen = await waitFor(
    async () => {
      const events = sub.items.map((i) => i.experimentEvents)
      return events.some((e) => e.__typename === 'RunStatusChanged' && e.status === 'CANCELLED')
        ? events
        : undefined
    },
    { what: 'the resync to report the cancelled run' },
  )
  sub.unsubscribe()
  expect(seen.filter((e) => e.__typename === 'RunCreated').map((e) => e.run!.id)).toEqual([id])
  expect(seen.filter((e) => e.__typename === 'RunStatusChanged').map((e) => [e.runId, e.status])).toEqual([
    [id, 'CANCELLED'],
  ])
}, 60_000)

/** Backend pids of the API's LISTEN connection (a new one after each reconnect). */
async function listenerPids(): Promise<number[]> {
  const client = new pg.Client({ connectionString: t.lab.databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE application_name = 'lab-events' AND datname = current_database()`,
    )
    return rows.map((r) => r.pid)
  } finally {
    await client.end()
  }
}

/** Drops the listener, runs `whileAway` at once (its NOTIFYs are lost), and waits for a new listener. */
async function withListenerAway(whileAway: () => Promise<void>): Promise<void> {
  const [before] = await listenerPids()
  expect(await dropListener()).toBe(1)
  await whileAway()
  await waitFor(
    async () => {
      const pids = await listenerPids()
      return pids.length === 1 && pids[0] !== before ? true : undefined
    },
    { what: 'the listener to reconnect' },
  )
}

it('tells a sweep subscriber of epochs, run ends and new runs of the time the listener was away', async () => {
  const { data } = await t.gql<{ generateDataset: { id: string } }>(
    `mutation { generateDataset(input: { name: "bus-sweep", generator: LINEAR, rows: 50, seed: 3 }) { id } }`,
  )
  const datasetId = data!.generateDataset.id
  const started = await t.gql<{ startSweep: { id: string } }>(
    `mutation($input: SweepInput!) { startSweep(input: $input) { id } }`,
    {
      input: {
        experiment: 'bus-sweep',
        datasetId,
        method: 'GRID',
        parameters: [{ name: 'hiddenLayers', values: [[2], [3]] }],
        base: { datasetId, epochs: 3, batchSize: 16 },
        metric: 'loss',
        goal: 'MINIMIZE',
        maxConcurrent: 1,
      },
    },
  )
  expect(started.errors).toBeUndefined()
  const sweepId = started.data!.startSweep.id
  type Event = {
    __typename: string
    run?: { id: string; status: string }
    runId?: string
    epoch?: number
    status?: string
  }
  const sub = collect<{ sweepEvents: Event }>(
    t.ws(),
    `subscription($id: ID!) { sweepEvents(sweepId: $id) { __typename
      ... on SweepRunStarted { run { id status } } ... on SweepRunFinished { run { id status } }
      ... on RunProgress { runId epoch } ... on SweepStatusChanged { status } } }`,
    { id: sweepId },
  )
  const seen = (p: (e: Event) => boolean, what: string) =>
    waitFor(async () => sub.items.map((i) => i.sweepEvents).find(p), { what })
  const repo = new RunRepository(t.lab.db)
  const report = (epoch: number) => ({ epoch, durationMs: 1, metrics: [{ name: 'loss', value: 1 / epoch }] })
  /** The sweep's run number `i` (1-based), once the driver has started it. */
  const nth = (i: number) =>
    waitFor(
      async () => {
        const runs = await t.lab.db.run.findMany({ where: { sweepId }, orderBy: { createdAt: 'asc' } })
        return runs[i - 1]?.id
      },
      { what: `run ${i} of the sweep` },
    )

  const first = await nth(1)
  await seen((e) => e.__typename === 'SweepRunStarted' && e.run?.id === first, 'run 1 announced')
  const claimed = await repo.claim(first, 'ghost:bus', 'cpu')
  await repo.recordEpoch(first, claimed!.attempt, report(1))
  await seen((e) => e.runId === first && e.epoch === 1, 'live progress of run 1')

  // Gap 1: an epoch nobody hears of. The resync must send it as progress (no later epoch would).
  await withListenerAway(() => repo.recordEpoch(first, claimed!.attempt, report(2)).then(() => {}))
  await seen((e) => e.runId === first && e.epoch === 2, 'the missed epoch 2 of run 1, from the resync')

  // Gap 2: run 1 ends (the driver then starts run 2, heard of or not).
  await withListenerAway(async () => {
    await repo.recordEpoch(first, claimed!.attempt, report(3))
    await repo.finish(first, claimed!.attempt, RunStatus.SUCCEEDED, {})
  })
  await seen(
    (e) => e.__typename === 'SweepRunFinished' && e.run?.id === first,
    'run 1 finished, from the resync',
  )
  const second = await nth(2)
  await seen((e) => e.__typename === 'SweepRunStarted' && e.run?.id === second, 'run 2 announced')
  const again = await repo.claim(second, 'ghost:bus', 'cpu')
  for (const epoch of [1, 2, 3]) await repo.recordEpoch(second, again!.attempt, report(epoch))
  await repo.finish(second, again!.attempt, RunStatus.SUCCEEDED, {})

  const events = (await sub.done).map((i) => i.sweepEvents)
  const of = (typename: string) =>
    events.filter((e) => e.__typename === typename).map((e) => [e.run!.id, e.run!.status])
  expect(of('SweepRunStarted').map(([id]) => id)).toEqual([first, second])
  expect(of('SweepRunFinished')).toEqual([
    [first, 'SUCCEEDED'],
    [second, 'SUCCEEDED'],
  ])
  // Per run, progress never goes back and never follows the run's end.
  for (const id of [first, second]) {
    const mine = events.filter((e) => e.runId === id || e.run?.id === id)
    const epochs = mine.filter((e) => e.__typename === 'RunProgress').map((e) => e.epoch!)
    expect(epochs).toEqual([...epochs].sort((a, b) => a - b))
    expect(mine.at(-1)?.__typename).toBe('SweepRunFinished')
  }
  expect(events.at(-1)).toMatchObject({ __typename: 'SweepStatusChanged', status: 'FINISHED' })
}, 90_000)
