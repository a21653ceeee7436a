import fc from 'fast-check'
import {
  getNamedType,
  GraphQLField,
  GraphQLInputType,
  GraphQLObjectType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isRequiredArgument,
  isScalarType,
} from 'graphql'
import { Client, createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { createTestDatabase, TestDatabase } from '../helpers/db'
import { startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

/**
 * Every query and mutation of the schema with random and hostile arguments, sent as variables:
 * the server must never answer INTERNAL_SERVER_ERROR or a 5xx, and a refused call must not change
 * a row. Seeded, so a failure replays; FUZZ_SEED and FUZZ_RUNS override the defaults.
 */

const SEED = Number(process.env['FUZZ_SEED'] ?? 20_261_201)
const RUNS_PER_FIELD = Number(process.env['FUZZ_RUNS'] ?? 100)
/** Subscriptions cost more per call (each is followed by a valid one on the same connection). */
const RUNS_PER_SUBSCRIPTION = Number(process.env['FUZZ_SUBSCRIPTION_RUNS'] ?? 40)

let t: TestLab
let database: TestDatabase | undefined
let datasetId: string
let runId: string
let tables: string[]

const b64 = (text: string) => Buffer.from(text).toString('base64url')
const UUID_ZERO = '00000000-0000-0000-0000-000000000000'

/** Strings a hostile client sends; mixed with random ones. */
const nastyStrings = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(
      '',
      ' ',
      'a\u0000b',
      '\u0000',
      '\u0007bell',
      'x'.repeat(20_000),
      'x'.repeat(300_000),
      'NaN',
      '-Infinity',
      '1e400',
      '-0',
      'valLoss',
      'kl_0',
      'loss',
      'learningRate',
      'RELU',
      'a,target\n1,2\n3,4\n5,6\n',
      'a,target\n1,\u00002\n',
      '\'; DROP TABLE "Run"; --',
      '\ud800',
      '%s%n',
      b64('2020-01-01T00:00:00.000Z|' + '-'.repeat(36)),
      b64('-100000-01-01T00:00:00.000Z|' + UUID_ZERO),
      b64(JSON.stringify({ k: ['createdAt', 'id'], v: ['2020-01-01', 'x'] })),
      b64(JSON.stringify({ k: ['learningRate', 'id'], v: ['abc', UUID_ZERO] })),
    ),
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
  )

const ids = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(datasetId, runId, UUID_ZERO, 'nope', '', '-'.repeat(36), 'i'.repeat(5_000), 'a\u0000b'),
    fc.uuid(),
  )

const floats = (): fc.Arbitrary<number> =>
  fc.oneof(
    fc.constantFrom(
      0,
      -0,
      1,
      -1,
      0.5,
      3.5e38,
      -3.5e38,
      3.4e38,
      -3e38,
      1e30,
      1e308,
      5e-324,
      2 ** 53,
      0.001,
      0.2,
      0.95,
    ),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  )

const ints = (): fc.Arbitrary<number> =>
  fc.oneof(
    fc.constantFrom(
      0,
      1,
      -1,
      2,
      3,
      4,
      8,
      16,
      100,
      10_001,
      2 ** 31 - 1,
      -(2 ** 31),
      2 ** 31,
      2 ** 53,
      -(2 ** 53),
    ),
    fc.integer(),
    fc.integer({ min: -2, max: 20 }),
  )

/** A JSON value with hostile corners: deep, wide, NUL inside, numbers out of range. */
const jsonValues = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom<unknown>(
      [4, 4],
      'RELU',
      { '\u0000': 1 },
      'a\u0000',
      2 ** 40,
      -0,
      3.5e38,
      JSON.parse('['.repeat(50) + '1' + ']'.repeat(50)) as unknown,
      Array(20_000).fill(1),
    ),
  )

/** An optional argument or field: mostly left out or plausible, now and then hostile. */
function optional(type: GraphQLInputType, depth: number, name: string): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(undefined) },
    { weight: 7, arbitrary: benignOf(type, depth, name) },
    { weight: 1, arbitrary: valuesOf(type, depth) },
  )
}

/** Plausible values, so that calls get past the first check and reach the deeper ones. */
function benignOf(type: GraphQLInputType, depth = 0, name = ''): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return benignOf(type.ofType, depth, name)
  if (isListType(type)) {
    const item = benignOf(type.ofType, depth + 1, name)
    // 5 is the fixture dataset's feature count: rows of that width reach the model.
    return fc.oneof(
      fc.array(item, { minLength: 5, maxLength: 5 }),
      fc.array(item, { minLength: 1, maxLength: 3 }),
    )
  }
  if (isInputObjectType(type)) {
    if (depth > 3) return fc.constant(null)
    const shape: Record<string, fc.Arbitrary<unknown>> = {}
    const required: string[] = []
    for (const f of Object.values(type.getFields())) {
      if (isNonNullType(f.type)) {
        required.push(f.name)
        shape[f.name] = benignOf(f.type, depth + 1, f.name)
      } else {
        shape[f.name] = optional(f.type, depth + 1, f.name)
      }
    }
    return fc.record(shape, { requiredKeys: required })
  }
  if (isEnumType(type)) return fc.constantFrom(...type.getValues().map((v) => v.value as unknown))
  if (!isScalarType(type)) return fc.constant(null)
  switch (type.name) {
    case 'String':
      return fc.constantFrom(
        'fuzz',
        'valLoss',
        'loss',
        'learningRate',
        'default',
        'a,target\n1,2\n3,4\n5,6\n',
      )
    case 'ID':
      return /run/i.test(name)
        ? fc.constant(runId)
        : /dataset/i.test(name)
          ? fc.constant(datasetId)
          : fc.constantFrom(datasetId, runId)
    case 'Int':
      return fc.integer({ min: 1, max: 8 })
    case 'Float':
      return fc.oneof(
        fc.constantFrom(0.001, 0.1, 0.5, 1, 3.4e38, -3e38, 1e30),
        fc.double({ min: -10, max: 10, noNaN: true }),
      )
    case 'Boolean':
      return fc.boolean()
    case 'DateTime':
      return fc.constant('2020-01-01T00:00:00Z')
    default:
      return fc.oneof(fc.constantFrom<unknown>(0.01, 4, [4, 4], 'RELU'), jsonValues())
  }
}

/** Values of a GraphQL input type: mostly of the right shape, so they get past coercion, sometimes not. */
function valuesOf(type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> {
  const wrong = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(null))
  if (isNonNullType(type)) return valuesOf(type.ofType, depth)
  let right: fc.Arbitrary<unknown>
  if (isListType(type)) {
    right = fc.array(valuesOf(type.ofType, depth + 1), { maxLength: depth > 1 ? 3 : 6 })
  } else if (isInputObjectType(type)) {
    if (depth > 3) return fc.constant(null)
    const shape: Record<string, fc.Arbitrary<unknown>> = {}
    const required: string[] = []
    for (const f of Object.values(type.getFields())) {
      shape[f.name] = valuesOf(f.type, depth + 1)
      if (isNonNullType(f.type)) required.push(f.name)
    }
    right = fc.record(shape, { requiredKeys: required })
  } else if (isEnumType(type)) {
    right = fc.constantFrom(...type.getValues().map((v) => v.value as unknown))
  } else if (isScalarType(type)) {
    switch (type.name) {
      case 'String':
        right = nastyStrings()
        break
      case 'ID':
        right = ids()
        break
      case 'Int':
        right = ints()
        break
      case 'Float':
        right = floats()
        break
      case 'Boolean':
        right = fc.boolean()
        break
      case 'DateTime':
        right = fc.constantFrom('2020-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', 'x')
        break
      default:
        right = jsonValues()
    }
  } else {
    right = wrong
  }
  return fc.oneof({ weight: 9, arbitrary: right }, { weight: 1, arbitrary: wrong })
}

/** The operation for one root field: every argument as a variable, leaf fields selected. */
function operationFor(
  kind: 'query' | 'mutation' | 'subscription',
  field: GraphQLField<unknown, unknown>,
): string {
  const defs = field.args.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ')
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ')
  const named = getNamedType(field.type)
  let selection = ''
  if (isObjectType(named)) {
    const leaves = Object.values((named as GraphQLObjectType).getFields())
      .filter((f) => isLeafType(getNamedType(f.type)) && !f.args.some(isRequiredArgument))
      .map((f) => f.name)
    selection = `{ __typename ${leaves.join(' ')} }`
  } else if (!isLeafType(named)) {
    selection = '{ __typename }'
  }
  return `${kind}${defs ? `(${defs})` : ''} { ${field.name}${args ? `(${args})` : ''} ${selection} }`
}

async function rowCounts(): Promise<Record<string, number>> {
  const sql = tables
    .map((name) => `SELECT '${name}' AS name, count(*)::int AS n FROM ${name}`)
    .join(' UNION ALL ')
  const rows = await t.lab.db.$queryRawUnsafe<{ name: string; n: number }[]>(sql)
  return Object.fromEntries(rows.map((r) => [r.name, r.n]))
}

beforeAll(async () => {
  // A lab with a worker trains one small model (so predict and explainInstance reach a network), then
  // the fuzzed lab runs without workers: a row written by training would look like a refused call's.
  database = await createTestDatabase()
  const trainer = await startTestLab(
    { LAB_WORKERS: '1', LAB_TF_BACKEND: 'cpu' },
    { databaseUrl: database.url },
  )
  try {
    const gen = await trainer.gql<{ generateDataset: { id: string } }>(
      `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
      { input: { name: 'fuzz-linear', generator: 'LINEAR', rows: 60, seed: 1 } },
    )
    datasetId = gen.data!.generateDataset.id
    const run = await trainer.gql<{ startRun: { id: string } }>(
      `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`,
      { input: { datasetId, hiddenLayers: [4], epochs: 2, batchSize: 16, seed: 7 } },
    )
    runId = run.data!.startRun.id
    await waitFor(
      async () => {
        const res = await trainer.gql<{ run: { status: string } }>(
          `query($id: ID!) { run(id: $id) { status } }`,
          {
            id: runId,
          },
        )
        return res.data?.run.status === 'SUCCEEDED' ? true : undefined
      },
      { timeoutMs: 60_000, what: 'the fuzz fixture run to train' },
    )
  } finally {
    await trainer.stop()
  }
  t = await startTestLab({}, { databaseUrl: database.url })
  const found = await t.lab.db.$queryRawUnsafe<{ name: string }[]>(
    `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
     WHERE table_schema IN ('public', 'pgboss') AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'`,
  )
  tables = found.map((r) => r.name)
}, 120_000)

afterAll(async () => {
  await t?.stop()
  await database?.drop()
})

describe('found by fuzzing', () => {
  it('rows within float32 that overflow the network are BAD_USER_INPUT, not a NaN', async () => {
    const rows = [[3.4e38, 3.4e38, -4e-116, -4e-65, 0.5]]
    const predict = await t.gql(`query($id: ID!, $rows: [[Float!]!]!) { predict(runId: $id, rows: $rows) }`, {
      id: runId,
      rows,
    })
    expect(predict.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT'])
    const explain = await t.gql(
      `query($id: ID!, $row: [Float!]!) { explainInstance(runId: $id, row: $row) { prediction attributions { value } } }`,
      { id: runId, row: rows[0] },
    )
    expect(explain.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT'])
  })
})

describe('fuzz', () => {
  const fields = () => {
    const schema = t.lab.app.schema
    const all: (readonly ['query' | 'mutation', GraphQLField<unknown, unknown>])[] = [
      ...Object.values(schema.getQueryType()!.getFields()).map((f) => ['query', f] as const),
      ...Object.values(schema.getMutationType()!.getFields()).map((f) => ['mutation', f] as const),
    ]
    // Deleting the shared dataset first would leave the other fields less to reach.
    return all.sort(([, a], [, b]) => Number(a.name === 'deleteDataset') - Number(b.name === 'deleteDataset'))
  }

  it('no argument answers INTERNAL_SERVER_ERROR or changes a row when refused', async () => {
    const failures: string[] = []
    const answered = new Map<string, number>()
    for (const [kind, field] of fields()) {
      if (field.args.length === 0) continue
      const query = operationFor(kind, field)
      const hostile: Record<string, fc.Arbitrary<unknown>> = {}
      const plausible: Record<string, fc.Arbitrary<unknown>> = {}
      for (const a of field.args) {
        hostile[a.name] = valuesOf(a.type)
        plausible[a.name] = isNonNullType(a.type) ? benignOf(a.type, 0, a.name) : optional(a.type, 0, a.name)
      }
      const required = field.args.filter((a) => isNonNullType(a.type)).map((a) => a.name)
      await fc
        .assert(
          fc.asyncProperty(
            fc.oneof(
              fc.record(hostile, { requiredKeys: required }),
              fc.record(plausible, { requiredKeys: required }),
            ),
            async (variables) => {
              const before = kind === 'mutation' ? await rowCounts() : undefined
              const res = await t.gql(query, variables)
              if (!res.errors) answered.set(field.name, (answered.get(field.name) ?? 0) + 1)
              else if (process.env['FUZZ_VERBOSE'] === field.name)
                console.log(res.errors[0]?.message.slice(0, 200))
              const codes = (res.errors ?? []).map((e) => e.extensions?.code)
              const where = `${field.name} ${JSON.stringify(variables).slice(0, 300)}`
              if (res.status >= 500 || codes.includes('INTERNAL_SERVER_ERROR')) {
                const internal = res.errors?.find((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR')
                failures.push(
                  `${where}: ${res.status} ${JSON.stringify(internal ?? res.errors).slice(0, 300)}`,
                )
                return false
              }
              if (before && res.errors) {
                const after = await rowCounts()
                if (JSON.stringify(after) !== JSON.stringify(before)) {
                  failures.push(`${where}: refused but rows changed ${JSON.stringify({ before, after })}`)
                  return false
                }
              }
              return true
            },
          ),
          { seed: SEED, numRuns: RUNS_PER_FIELD, endOnFailure: true },
        )
        .catch(() => {})
    }
    if (process.env['FUZZ_VERBOSE']) console.log(Object.fromEntries(answered))
    expect(failures).toEqual([])
  }, 600_000)
})

/** The first thing a subscription answers: an error, a result, completion, or nothing for a while. */
type FirstAnswer =
  | { kind: 'error'; error: unknown }
  | { kind: 'next'; value: { data?: unknown; errors?: readonly { extensions?: { code?: unknown } }[] } }
  | { kind: 'complete' }
  | { kind: 'silent' }

/** A subscription that is accepted and has nothing to say yet (a live table) is left after this long. */
const SILENT_MS = 300

function firstAnswer(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
): Promise<FirstAnswer> {
  return new Promise((resolve) => {
    let settled = false
    const settle = (answer: FirstAnswer) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      unsubscribe()
      resolve(answer)
    }
    const timer = setTimeout(() => settle({ kind: 'silent' }), SILENT_MS)
    const unsubscribe = client.subscribe(
      { query, variables },
      {
        next: (value) => settle({ kind: 'next', value: value as never }),
        error: (error) => settle({ kind: 'error', error }),
        complete: () => settle({ kind: 'complete' }),
      },
    )
  })
}

/** Every epoch of the fixture run and its end, over `client`: proof the connection still works. */
function fixtureEvents(client: Client): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const seen: string[] = []
    client.subscribe<{ runEvents: { __typename: string; metric?: { epoch: number }; status?: string } }>(
      {
        query: `subscription($id: ID!) { runEvents(runId: $id, afterEpoch: 0) { __typename
          ... on EpochCompleted { metric { epoch } } ... on RunStatusChanged { status } } }`,
        variables: { id: runId },
      },
      {
        next: ({ data, errors }) => {
          if (errors || !data) return reject(new Error(JSON.stringify(errors)))
          const e = data.runEvents
          seen.push(e.metric ? `epoch ${e.metric.epoch}` : (e.status ?? e.__typename))
        },
        error: (err) => reject(err instanceof Error ? err : new Error(JSON.stringify(err))),
        complete: () => resolve(seen),
      },
    )
  })
}

describe('fuzz subscriptions over graphql-ws', () => {
  it('answers hostile arguments with a stable client code, never INTERNAL_SERVER_ERROR, and keeps the connection', async () => {
    const expected = await fixtureEvents(t.ws())
    expect(expected).toEqual(['epoch 1', 'epoch 2', 'ExplanationReady', 'SUCCEEDED'])
    const fields = Object.values(t.lab.app.schema.getSubscriptionType()!.getFields())
    expect(fields.map((f) => f.name).sort()).toEqual([
      'experimentEvents',
      'generationEvents',
      'runEvents',
      'sweepEvents',
    ])

    // One connection for every call: it must never be closed by what a client sends as arguments.
    const events = { closed: [] as unknown[] }
    const client = createClient({
      url: t.lab.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      on: { closed: (e) => events.closed.push(e) },
    })
    // A live table held open all along: graphql-ws's client closes a connection with no operation left.
    const keep = client.subscribe(
      { query: `subscription { experimentEvents(experiment: "fuzz-keep") { __typename } }` },
      { next: () => {}, error: (err) => events.closed.push(err), complete: () => {} },
    )
    let closedBefore: unknown[] = []
    const failures: string[] = []
    const codes = new Map<string, Set<string>>()
    try {
      for (const field of fields) {
        const query = operationFor('subscription', field)
        const hostile: Record<string, fc.Arbitrary<unknown>> = {}
        const plausible: Record<string, fc.Arbitrary<unknown>> = {}
        for (const a of field.args) {
          hostile[a.name] = valuesOf(a.type)
          plausible[a.name] = isNonNullType(a.type)
            ? benignOf(a.type, 0, a.name)
            : optional(a.type, 0, a.name)
        }
        const required = field.args.filter((a) => isNonNullType(a.type)).map((a) => a.name)
        await fc
          .assert(
            fc.asyncProperty(
              fc.oneof(
                fc.record(hostile, { requiredKeys: required }),
                fc.record(plausible, { requiredKeys: required }),
              ),
              async (variables) => {
                const where = `${field.name} ${JSON.stringify(variables).slice(0, 300)}`
                const answer = await firstAnswer(client, query, variables)
                const errors =
                  answer.kind === 'error'
                    ? Array.isArray(answer.error)
                      ? (answer.error as { extensions?: { code?: unknown } }[])
                      : undefined
                    : answer.kind === 'next'
                      ? (answer.value.errors ?? [])
                      : []
                if (errors === undefined) {
                  failures.push(`${where}: the connection failed: ${JSON.stringify(answer).slice(0, 300)}`)
                  return false
                }
                for (const e of errors) {
                  const code = e.extensions?.code
                  if (typeof code !== 'string' || code === 'INTERNAL_SERVER_ERROR') {
                    failures.push(`${where}: ${JSON.stringify(e).slice(0, 300)}`)
                    return false
                  }
                  codes.set(field.name, (codes.get(field.name) ?? new Set()).add(code))
                }
                const after = await fixtureEvents(client)
                if (JSON.stringify(after) !== JSON.stringify(expected)) {
                  failures.push(`${where}: the next valid subscription got ${JSON.stringify(after)}`)
                  return false
                }
                return true
              },
            ),
            { seed: SEED, numRuns: RUNS_PER_SUBSCRIPTION, endOnFailure: true },
          )
          .catch(() => {})
      }
    } finally {
      // dispose() closes it normally: only closes before that count.
      closedBefore = [...events.closed]
      keep()
      await client.dispose()
    }
    if (process.env['FUZZ_VERBOSE']) console.log(Object.fromEntries([...codes].map(([k, v]) => [k, [...v]])))
    expect(failures).toEqual([])
    // The server never closes with 1000 (graphql-ws's client does, when it releases its last operation,
    // and then reconnects for the next one); any other code would be the server refusing the connection.
    const codesClosed = closedBefore.map((e) => (e as { code?: number }).code)
    expect(codesClosed.filter((c) => c !== 1000)).toEqual([])
    // Every field was refused at least once, and only with client codes.
    for (const field of fields) {
      expect([...(codes.get(field.name) ?? [])].every((c) => CLIENT_ERROR_CODES.has(c))).toBe(true)
      expect(codes.get(field.name)?.size ?? 0).toBeGreaterThan(0)
    }
  }, 240_000)
})

/** What a refused subscription may answer with: all about the request, none about the server. */
const CLIENT_ERROR_CODES = new Set([
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'BAD_REQUEST',
])
