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
