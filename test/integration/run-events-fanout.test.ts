import { RunRepository } from '../../src/modules/run/run.repository'
import { RunStatus } from '../../src/modules/run/run.status'
import { collect, startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

// Many subscribers of one run, as a dashboard full of viewers: each live epoch is executed once per
// selection and shared (src/server/shared-subscribe.ts). What each subscriber receives must not change.

let t: TestLab
beforeAll(async () => {
  t = await startTestLab({ LAB_WORKERS: '0' })
}, 60_000)
afterAll(async () => {
  await t?.stop()
})

type Metric = {
  epoch: number
  loss?: number
  valLoss?: number | null
  values?: { name: string; value: number }[]
}
type Event = { runEvents: { __typename: string; status?: string; metric?: Metric } }

/** Three selections; the third's `loss` depends on a variable below the root field. */
const FULL = `subscription($id: ID!) { runEvents(runId: $id) { __typename
  ... on EpochCompleted { metric { epoch loss valLoss values { name value } } }
  ... on RunStatusChanged { status } } }`
const EPOCH_AFTER = `subscription($id: ID!, $after: Int) { runEvents(runId: $id, afterEpoch: $after) { __typename
  ... on EpochCompleted { metric { epoch } } ... on RunStatusChanged { status } } }`
const MAYBE_LOSS = `subscription($id: ID!, $withLoss: Boolean!) { runEvents(runId: $id) { __typename
  ... on EpochCompleted { metric { epoch loss @include(if: $withLoss) } } ... on RunStatusChanged { status } } }`

const EPOCHS = 6
const report = (epoch: number) => ({
  epoch,
  durationMs: epoch,
  metrics: [
    { name: 'loss', value: 1 / epoch },
    { name: 'valLoss', value: 2 / epoch },
  ],
})

interface Subscriber {
  name: string
  /** The epochs it must receive, in order. */
  from: number
  /** What its metric selection gives for an epoch. */
  expected: (epoch: number) => Metric
  sub: ReturnType<typeof collect<Event>>
}

function subscriber(name: string, query: string, variables: Record<string, unknown>, from: number) {
  const expected = (epoch: number): Metric => {
    const r = report(epoch)
    if (query === FULL) {
      return { epoch, loss: 1 / epoch, valLoss: 2 / epoch, values: r.metrics }
    }
    if (query === MAYBE_LOSS && variables['withLoss'] === true) return { epoch, loss: 1 / epoch }
    return { epoch }
  }
  return { name, from, expected, sub: collect<Event>(t.ws(), query, variables) } satisfies Subscriber
}

const epochsOf = (s: Subscriber) =>
  s.sub.items.flatMap((e) => (e.runEvents.metric ? [e.runEvents.metric] : []))

it('gives each of many subscribers of one run every epoch once, with what its own selection asks', async () => {
  const { data } = await t.gql<{ generateDataset: { id: string } }>(
    `mutation { generateDataset(input: { name: "fanout", generator: LINEAR, rows: 50, seed: 1 }) { id } }`,
  )
  const started = await t.gql<{ startRun: { id: string } }>(
    `mutation($id: ID!) { startRun(input: { datasetId: $id, epochs: ${EPOCHS}, hiddenLayers: [2] }) { id } }`,
    { id: data!.generateDataset.id },
  )
  const id = started.data!.startRun.id
  const subscribers: Subscriber[] = []
  for (let i = 0; i < 6; i++) {
    subscribers.push(subscriber(`full ${i}`, FULL, { id }, 1))
    subscribers.push(subscriber(`epoch ${i}`, EPOCH_AFTER, { id }, 1))
    subscribers.push(subscriber(`loss ${i}`, MAYBE_LOSS, { id, withLoss: i % 2 === 0 }, 1))
  }
  const repo = new RunRepository(t.lab.db)
  const run = await repo.claim(id, 'ghost:fanout', 'cpu')
  const record = (epoch: number) => repo.recordEpoch(id, run!.attempt, report(epoch))
  /** Every subscriber has `epoch` (replayed or live): it is listening from then on. */
  const allHave = (epoch: number) =>
    waitFor(() => subscribers.every((s) => epochsOf(s).some((m) => m.epoch === epoch)), {
      what: `every subscriber to have epoch ${epoch}`,
    })
  await record(1)
  await allHave(1)
  // Joining late: one replays epoch 1 from the store, the others resume after it with afterEpoch.
  subscribers.push(subscriber('late full', FULL, { id }, 1))
  for (let i = 0; i < 3; i++) subscribers.push(subscriber(`resumed ${i}`, EPOCH_AFTER, { id, after: 1 }, 2))
  await record(2)
  await allHave(2)
  for (let epoch = 3; epoch <= EPOCHS; epoch++) await record(epoch)
  await repo.finish(id, run!.attempt, RunStatus.SUCCEEDED, {})
  await Promise.all(subscribers.map((s) => s.sub.done))

  for (const s of subscribers) {
    const want = Array.from({ length: EPOCHS - s.from + 1 }, (_, i) => s.expected(s.from + i))
    expect({ name: s.name, epochs: epochsOf(s) }).toEqual({ name: s.name, epochs: want })
    const statuses = s.sub.items.flatMap((e) => (e.runEvents.status ? [e.runEvents.status] : []))
    expect({ name: s.name, last: statuses.at(-1) }).toEqual({ name: s.name, last: 'SUCCEEDED' })
    expect(statuses.filter((x) => x === 'SUCCEEDED')).toHaveLength(1)
    expect(s.sub.items.at(-1)!.runEvents.status).toBe('SUCCEEDED')
  }
  // Subscribers of the same selection and variables received exactly the same epochs (whether each
  // saw RUNNING depends on when its subscription reached the server).
  const same = subscribers.filter((s) => s.name.startsWith('full '))
  for (const s of same.slice(1)) expect(epochsOf(s)).toEqual(epochsOf(same[0]!))
}, 60_000)

it('reads the store once, not once per subscriber, when a run with many subscribers ends', async () => {
  const sqls: string[] = []
  const lab = await startTestLab({ LAB_WORKERS: '0' }, { onQuery: (sql) => sqls.push(sql) })
  try {
    const { data } = await lab.gql<{ generateDataset: { id: string } }>(
      `mutation { generateDataset(input: { name: "shared", generator: LINEAR, rows: 50, seed: 1 }) { id } }`,
    )
    const started = await lab.gql<{ startRun: { id: string } }>(
      `mutation($id: ID!) { startRun(input: { datasetId: $id, epochs: 3, hiddenLayers: [2] }) { id } }`,
      { id: data!.generateDataset.id },
    )
    const id = started.data!.startRun.id
    const repo = new RunRepository(lab.lab.db)
    const run = await repo.claim(id, 'ghost:shared', 'cpu')
    await repo.recordEpoch(id, run!.attempt, report(1))
    // 30 subscribers on two sockets, from the start or resuming after epoch 1.
    const clients = [lab.ws(), lab.ws()]
    const subs = Array.from({ length: 30 }, (_, i) => ({
      after: Math.floor(i / 2) % 2,
      sub: collect<Event>(clients[i % 2]!, EPOCH_AFTER, { id, after: Math.floor(i / 2) % 2 }),
    }))
    const epochs = (s: (typeof subs)[number]) =>
      s.sub.items.flatMap((e) => (e.runEvents.metric ? [e.runEvents.metric.epoch] : []))
    await repo.recordEpoch(id, run!.attempt, report(2))
    await waitFor(() => subs.every((s) => epochs(s).includes(2)), { what: 'every subscriber at epoch 2' })

    const from = sqls.length
    await repo.recordEpoch(id, run!.attempt, report(3))
    await repo.finish(id, run!.attempt, RunStatus.SUCCEEDED, {})
    await Promise.all(subs.map((s) => s.sub.done))
    const reads = sqls.slice(from).filter((q) => /^\s*SELECT/i.test(q))
    const historyReads = reads.filter((q) => q.includes('"EpochMetric"'))
    // Each subscriber catches up from the store on the terminal status and looks for the explanation: one
    // read of each serves all 30 (before, 30 of each). The bound leaves room for a read split over two turns.
    expect(historyReads.length).toBeGreaterThanOrEqual(1)
    expect(historyReads.length).toBeLessThanOrEqual(3)
    expect(reads.length).toBeLessThan(15)
    for (const s of subs) {
      expect({ after: s.after, epochs: epochs(s) }).toEqual({
        after: s.after,
        epochs: [1, 2, 3].filter((e) => e > s.after),
      })
      expect(s.sub.items.at(-1)!.runEvents.status).toBe('SUCCEEDED')
    }
  } finally {
    await lab.stop()
  }
}, 60_000)
