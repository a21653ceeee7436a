import { randomUUID } from 'node:crypto'
import { AppError, badInput, ErrorCode } from '../../src/errors'
import type { Logger } from '../../src/logger'
import { TrainingError } from '../../src/models/common/spec'
import { MAX_ERROR_LENGTH, storedError } from '../../src/modules/common/stored-error'
import { RunRepository } from '../../src/modules/run/run.repository'
import { GqlResponse, startTestLab, TestLab } from '../helpers/lab'

/** Bad input that used to reach PostgreSQL (or a stack overflow) and answer INTERNAL_SERVER_ERROR. */

let t: TestLab
let datasetId: string

const START_RUN = `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`
const START_SWEEP = `mutation($input: SweepInput!) { startSweep(input: $input) { id parameters seed } }`
const SMALL = { hiddenLayers: [4], epochs: 1, batchSize: 16 }
const NUL = 'a\u0000b'

async function counts(): Promise<Record<string, number>> {
  const db = t.lab.db
  return {
    datasets: await db.dataset.count(),
    runs: await db.run.count(),
    sweeps: await db.sweep.count(),
    experiments: await db.experiment.count(),
  }
}

/** Sends one operation and expects BAD_USER_INPUT, a short message and no row written. */
async function refused(query: string, variables: Record<string, unknown>) {
  const before = await counts()
  const res = await t.gql(query, variables)
  expect(res.status).toBeLessThan(500)
  expect(res.errors?.map((e) => e.extensions?.code)).toEqual([ErrorCode.BAD_USER_INPUT])
  expect(JSON.stringify(res.errors).length).toBeLessThan(2_000)
  expect(await counts()).toEqual(before)
  return res
}

beforeAll(async () => {
  t = await startTestLab()
  const res = await t.gql<{ generateDataset: { id: string } }>(
    `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
    { input: { name: 'input-linear', generator: 'LINEAR', rows: 100, seed: 1 } },
  )
  datasetId = res.data!.generateDataset.id
}, 60_000)

afterAll(async () => {
  await t?.stop()
})

describe('strings', () => {
  const runs: [string, Record<string, unknown>][] = [
    ['a NUL in the name', { name: NUL }],
    ['a NUL in a tag', { tags: [NUL] }],
    ['a NUL in the idempotency key', { idempotencyKey: NUL }],
    ['a NUL in the experiment', { experiment: NUL }],
    ['a 1 MB name', { name: 'x'.repeat(1_000_000) }],
    ['a 1 MB idempotency key', { idempotencyKey: 'k'.repeat(1_000_000) }],
    ['a bell in a tag', { tags: ['a\u0007'] }],
    ['a learning rate beyond float32', { learningRate: 3.5e38 }],
  ]
  it.each(runs)('startRun refuses %s', async (_label, change) => {
    await refused(START_RUN, { input: { datasetId, ...SMALL, ...change } })
  })

  it('dataset names, CSV text and feature names refuse NUL', async () => {
    const gen = `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`
    await refused(gen, { input: { name: NUL, generator: 'LINEAR', rows: 10 } })
    const csv = `mutation($input: ImportCsvDatasetInput!) { importCsvDataset(input: $input) { id } }`
    await refused(csv, { input: { name: 'csv', task: 'REGRESSION', csv: `a,target\n1,2\n3,${NUL}\n` } })
    await refused(csv, { input: { name: 'csv', task: 'REGRESSION', csv: `a\u0000,target\n1,2\n3,4\n` } })
    await refused(csv, {
      input: { name: 'csv', task: 'REGRESSION', csv: 'a,target\n1,2\n', targetColumn: NUL },
    })
  })

  it('a 10 MB id is refused without echoing it', async () => {
    const res = await refused(`query($id: ID!) { run(id: $id) { id } }`, { id: 'i'.repeat(10_000_000) })
    expect(res.errors![0]!.message.length).toBeLessThan(500)
  })

  it('a value of the wrong type is not echoed whole, and many of them are BAD_USER_INPUT', async () => {
    const q = `query($first: Int, $orderBy: [RunOrder!]) { runs(first: $first, orderBy: $orderBy) { totalCount } }`
    const res = await refused(q, { first: 'f'.repeat(5_000_000) })
    expect(res.errors![0]!.message.length).toBeLessThanOrEqual(1_000)
    // graphql-js stops after 50 coercion errors with one of its own, which Apollo marks INTERNAL.
    const many = await t.gql(q, { orderBy: Array.from({ length: 60 }, () => ({ direction: 'UP' })) })
    expect(many.status).toBe(400)
    expect(new Set(many.errors?.map((e) => e.extensions?.code))).toEqual(new Set([ErrorCode.BAD_USER_INPUT]))
  })

  it('filters, orderings and lookups by name refuse NUL', async () => {
    const q = `query($filter: RunFilter, $orderBy: [RunOrder!]) { runs(filter: $filter, orderBy: $orderBy) { totalCount } }`
    await refused(q, { filter: { experiment: NUL } })
    await refused(q, { filter: { nameContains: NUL } })
    await refused(q, { filter: { tags: [NUL] } })
    await refused(q, { filter: { metric: { name: NUL } } })
    await refused(q, { orderBy: [{ metric: NUL, direction: 'ASC' }] })
    await refused(`query($name: String) { experiment(name: $name) { id } }`, { name: NUL })
  })

  it('sweep experiment, metric and parameter names and values refuse NUL', async () => {
    const sweep = {
      datasetId,
      experiment: 'input-sweep',
      method: 'GRID',
      metric: 'valLoss',
      goal: 'MINIMIZE',
      base: { datasetId, ...SMALL },
      parameters: [{ name: 'learningRate', values: [0.01] }],
    }
    await refused(START_SWEEP, { input: { ...sweep, experiment: NUL } })
    await refused(START_SWEEP, { input: { ...sweep, metric: NUL } })
    await refused(START_SWEEP, { input: { ...sweep, parameters: [{ name: NUL, values: [1] }] } })
    await refused(START_SWEEP, {
      input: { ...sweep, parameters: [{ name: 'activation', values: [NUL, { [NUL]: 1 }] }] },
    })
    await refused(START_SWEEP, { input: { ...sweep, base: { datasetId, ...SMALL, tags: [NUL] } } })
  })
})

describe('JSON values of a sweep', () => {
  const sweep = (parameters: unknown[], method = 'GRID') => ({
    input: {
      datasetId,
      experiment: 'input-json',
      method,
      metric: 'valLoss',
      goal: 'MINIMIZE',
      base: { datasetId, ...SMALL },
      parameters,
    },
  })

  it('a value 100,000 levels deep is refused quickly', async () => {
    // Written by hand: JSON.stringify itself overflows the stack on such a value.
    const deep = '['.repeat(100_000) + '4' + ']'.repeat(100_000)
    const variables = JSON.stringify(sweep([{ name: 'hiddenLayers', values: ['DEEP'] }])).replace(
      '"DEEP"',
      deep,
    )
    const before = await counts()
    const started = Date.now()
    const res = await fetch(t.lab.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"query":${JSON.stringify(START_SWEEP)},"variables":${variables}}`,
    })
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(res.status).toBeLessThan(500)
    const body = (await res.json()) as Omit<GqlResponse, 'status'>
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual([ErrorCode.BAD_USER_INPUT])
    expect(await counts()).toEqual(before)
  })

  it('a RANDOM sweep with 50,000 values is refused quickly', async () => {
    const values = Array.from({ length: 50_000 }, (_, i) => 1 + (i % 100))
    const started = Date.now()
    await refused(START_SWEEP, sweep([{ name: 'epochs', values }], 'RANDOM'))
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('a huge value is refused', async () => {
    await refused(START_SWEEP, sweep([{ name: 'activation', values: ['R'.repeat(1_000_000)] }]))
    await refused(START_SWEEP, sweep([{ name: 'hiddenLayers', values: [Array(100_000).fill(4)] }]))
  })

  it('seeds beyond int32 are refused at startSweep, not midway', async () => {
    await refused(START_SWEEP, sweep([{ name: 'seed', values: [1, 2 ** 40] }]))
    await refused(START_SWEEP, sweep([{ name: 'seed', min: 0, max: 2 ** 33 }], 'RANDOM'))
  })

  it("startSweep's own payload answers parameters, as validated", async () => {
    const res = await t.gql<{ startSweep: { id: string; parameters: unknown } }>(
      START_SWEEP,
      sweep([{ name: 'learningRate', values: [0.01, 0.02] }]),
    )
    expect(res.errors).toBeUndefined()
    expect(res.data!.startSweep.parameters).toEqual([
      { name: 'learningRate', kind: 'values', values: [0.01, 0.02] },
    ])
    const again = await t.gql<{ sweep: { parameters: unknown } }>(
      `query($id: ID!) { sweep(id: $id) { parameters } }`,
      { id: res.data!.startSweep.id },
    )
    expect(again.errors).toBeUndefined()
    expect(again.data!.sweep.parameters).toEqual(res.data!.startSweep.parameters)
    await t.gql(`mutation($id: ID!) { cancelSweep(id: $id) { id } }`, { id: res.data!.startSweep.id })
  })
})

describe('ids and cursors', () => {
  const RUNS = `query($filter: RunFilter, $orderBy: [RunOrder!], $after: String) {
    runs(filter: $filter, orderBy: $orderBy, after: $after) { totalCount } }`

  it('a non-UUID id in a run filter is BAD_USER_INPUT', async () => {
    await refused(RUNS, { filter: { datasetId: 'nope' } })
    await refused(RUNS, { filter: { sweepId: 'nope' } })
    await refused(RUNS, { filter: { and: [{ datasetId: '1' }] } })
  })

  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const raw = (text: string) => Buffer.from(text).toString('base64url')
  const id = randomUUID()

  it('tampered run cursors on the SQL path are BAD_USER_INPUT', async () => {
    const cases: [unknown[], string][] = [
      [[{ field: 'LEARNING_RATE', direction: 'ASC' }], b64({ k: ['learningRate', 'id'], v: ['abc', id] })],
      [[{ field: 'NAME', direction: 'ASC' }], b64({ k: ['name', 'id'], v: [12, id] })],
      [[{ field: 'NAME', direction: 'ASC' }], b64({ k: ['name', 'id'], v: [NUL, id] })],
      [[{ field: 'STATUS', direction: 'ASC' }], b64({ k: ['status', 'id'], v: ['NOPE', id] })],
      [[{ field: 'EPOCHS', direction: 'ASC' }], b64({ k: ['epochs', 'id'], v: [2 ** 40, id] })],
      [[{ field: 'EPOCHS', direction: 'ASC' }], b64({ k: ['epochs', 'id'], v: [1.5, id] })],
      [[{ field: 'SEED', direction: 'ASC' }], b64({ k: ['seed', 'id'], v: ['1', id] })],
      [[], b64({ k: ['createdAt', 'id'], v: ['-100000-01-01T00:00:00.000Z', id] })],
      [[], b64({ k: ['createdAt', 'id'], v: ['2020-01-01T00:00:00.000Z', '-'.repeat(36)] })],
    ]
    for (const [orderBy, after] of cases) await refused(RUNS, { orderBy, after })
  })

  it.each(['datasets', 'sweeps', 'experiments'])('tampered %s cursors are BAD_USER_INPUT', async (list) => {
    const q = `query($after: String) { ${list}(after: $after) { totalCount } }`
    for (const after of [
      raw(`2020-01-01T00:00:00.000Z|${'-'.repeat(36)}`),
      raw(`2020-01-01T00:00:00.000Z|${'g'.repeat(36)}`),
      raw(`-100000-01-01T00:00:00.000Z|${id}`),
      raw(`+200000-01-01T00:00:00.000Z|${id}`),
      raw('garbage'),
      NUL,
    ]) {
      await refused(q, { after })
    }
  })
})

describe('database races', () => {
  it('a run whose dataset was deleted meanwhile is NOT_FOUND, not a raw foreign-key error', async () => {
    const repo = new RunRepository(t.lab.db)
    const spec = {
      id: randomUUID(),
      name: 'orphan',
      experiment: 'input-race',
      datasetId: randomUUID(),
      family: 'MLP',
      hiddenLayers: [4],
      activation: 'RELU',
      epochs: 1,
      batchSize: 1,
      learningRate: 0.01,
      optimizer: 'ADAM',
      validationSplit: 0.2,
      seed: 1,
      latentDim: null,
      beta: null,
      likelihood: null,
      tags: [],
      explainMethods: [],
      idempotencyKey: null,
    } as unknown as Parameters<RunRepository['create']>[0]
    const err = await repo.create(spec, async () => {}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AppError)
    expect((err as AppError).code).toBe(ErrorCode.NOT_FOUND)
    expect((err as AppError).message).toMatch(/dataset/)
  })
})

describe('stored error text', () => {
  const logger = () => {
    const logged: Record<string, unknown>[] = []
    const log = { error: (obj: Record<string, unknown>) => logged.push(obj) } as unknown as Logger
    return { log, logged }
  }

  it('keeps our own messages and replaces anything unexpected by an id it logs', () => {
    const { log, logged } = logger()
    expect(storedError(badInput('epochs is 0'), log)).toBe('epochs is 0')
    expect(storedError(new TrainingError('loss is NaN at epoch 3', 'NON_FINITE_LOSS', 3), log)).toBe(
      'loss is NaN at epoch 3',
    )
    expect(logged).toEqual([])
    const prisma = Object.assign(
      new Error('\nInvalid `tx.run.create()` invocation in\n/app/src/x.ts:12:3\n→ 12 ...'),
      {
        code: 'P2003',
      },
    )
    const text = storedError(prisma, log, { runId: 'r' })
    const id = /^internal error, logged as ([0-9a-f-]{36})$/.exec(text)?.[1]
    expect(id).toBeDefined()
    expect(logged).toEqual([expect.objectContaining({ err: prisma, errorId: id, runId: 'r' })])
    expect(storedError(new TrainingError('x'.repeat(100_000), 'INVALID_DATA'), log).length).toBe(
      MAX_ERROR_LENGTH,
    )
  })

  it('a long error is bounded before it is stored and sent with NOTIFY', async () => {
    const res = await t.gql<{ startRun: { id: string } }>(START_RUN, { input: { datasetId, ...SMALL } })
    const runId = res.data!.startRun.id
    const repo = new RunRepository(t.lab.db)
    const cancelled = await repo.requestCancel(runId, '\u0001'.repeat(100_000))
    expect(cancelled?.status).toBe('CANCELLED')
    expect(cancelled!.error!.length).toBeLessThanOrEqual(MAX_ERROR_LENGTH)
  })
})
