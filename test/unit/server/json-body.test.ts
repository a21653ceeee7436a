import { AppError } from '../../../src/errors'
import { packMatrix } from '../../../src/modules/common/packed-rows'
import { checkedPackedRows, checkRows } from '../../../src/modules/run/model-query'
import { MAX_CLONED_DEPTH, parseJsonBody, type ParsedBody } from '../../../src/server/json-body'

// A large body as a query thread parses it: the same JSON as express.json would give, with the variables
// that only feed predict(rows:) packed, and the packed rows refused with the same errors as nested ones.

const PREDICT = `query($id: ID!, $rows: [[Float!]!]!) { predict(runId: $id, rows: $rows) }`
const rows = [
  [1, 2.5, -3],
  [4e-7, 5, 6],
]
const bytes = (text: string) => new TextEncoder().encode(text)
const parsed = (body: unknown): Extract<ParsedBody, { kind: 'parsed' }> => {
  const result = parseJsonBody(bytes(JSON.stringify(body)))
  if (result.kind !== 'parsed') throw new Error(`not parsed: ${result.kind}`)
  return result
}

describe('parseJsonBody', () => {
  it('packs a predict rows variable into shared memory and gives GraphQL an empty list in its place', () => {
    const { body, packed } = parsed({ query: PREDICT, variables: { id: 'r', rows }, operationName: null })
    expect(body).toEqual({ query: PREDICT, variables: { id: 'r', rows: [] }, operationName: null })
    expect(Object.keys(packed)).toEqual(['rows'])
    expect(packed['rows']!.columns).toBe(3)
    expect(Array.from(packed['rows']!.values)).toEqual(rows.flat())
    expect(packed['rows']!.values.buffer).toBeInstanceOf(SharedArrayBuffer)
  })

  it('packs a variable that several predict fields share, also inside fragments', () => {
    const query = `query($id: ID!, $rows: [[Float!]!]) { a: predict(runId: $id, rows: $rows) ...F }
      fragment F on Query { b: predict(runId: $id, rows: $rows) }`
    expect(Object.keys(parsed({ query, variables: { id: 'r', rows } }).packed)).toEqual(['rows'])
  })

  it('leaves a variable that any other argument also reads, so that field sees the real value', () => {
    const query = `query($id: ID!, $rows: [[Float!]!]!) { predict(runId: $id, rows: $rows) decode(runId: $id, latents: $rows) }`
    const body = { query, variables: { id: 'r', rows } }
    expect(parsed(body)).toEqual({ kind: 'parsed', body, packed: {} })
  })

  it.each([
    ['ragged rows', [[1, 2], [3]]],
    ['a string among the numbers', [[1, 'x\u0000']]],
    ['a null', [[1, null]]],
    ['an empty list', []],
    ['an empty row', [[]]],
    ['a list of numbers', [1, 2]],
  ])('leaves %s to GraphQL and the services (same errors as before)', (_what, value) => {
    const body = { query: PREDICT, variables: { id: 'r', rows: value } }
    expect(parsed(body)).toEqual({ kind: 'parsed', body, packed: {} })
  })

  it('leaves Infinity (1e999 in the JSON text) to GraphQL, which refuses it as a Float', () => {
    const text = `{"query":${JSON.stringify(PREDICT)},"variables":{"id":"r","rows":[[1,1e999]]}}`
    expect(parseJsonBody(bytes(text))).toMatchObject({ kind: 'parsed', packed: {} })
  })

  it('leaves documents it cannot tell about: several operations, a syntax error, no Float matrix type', () => {
    const cases = [
      `${PREDICT} query Other { __typename }`,
      `query($rows: [[Float!]!]!) { predict(runId: "r", rows: $rows) `,
      `query($rows: [[Int!]!]!) { predict(runId: "r", rows: $rows) }`,
      `query($rows: [Float!]!) { predict(runId: "r", rows: [$rows]) }`,
    ]
    for (const query of cases) expect(parsed({ query, variables: { rows } }).packed).toEqual({})
  })

  it('parses as express.json does: BOM dropped, empty body {}, only an object or an array at the top', () => {
    expect(parseJsonBody(bytes('\ufeff{"query":"{ __typename }"}'))).toEqual({
      kind: 'parsed',
      body: { query: '{ __typename }' },
      packed: {},
    })
    expect(parseJsonBody(bytes(''))).toEqual({ kind: 'parsed', body: {}, packed: {} })
    expect(parseJsonBody(bytes(' [1]'))).toEqual({ kind: 'parsed', body: [1], packed: {} })
    for (const text of ['  \n', '"query"', '3', 'null', '{"query": ', '{]']) {
      expect(parseJsonBody(bytes(text))).toEqual({ kind: 'invalid' })
    }
  })

  it('hands back as text JSON nested deeper than a structured clone carries, and clones what it parsed', () => {
    const deep = (levels: number) => `{"variables":{"v":${'['.repeat(levels)}4${']'.repeat(levels)}}}`
    const tooDeep = deep(100_000)
    expect(parseJsonBody(bytes(tooDeep))).toEqual({ kind: 'tooDeep', text: tooDeep })
    const fits = parseJsonBody(bytes(deep(MAX_CLONED_DEPTH - 2)))
    expect(fits.kind).toBe('parsed')
    expect(() => structuredClone(fits)).not.toThrow()
  })
})

describe('checkedPackedRows', () => {
  const messageOf = (check: () => unknown) => {
    try {
      check()
    } catch (err) {
      if (err instanceof AppError) return { code: err.code, message: err.message, details: err.details }
      throw err
    }
    return undefined
  }

  it.each([
    [
      'a value beyond float32 in a later row',
      [
        [1, 2],
        [3, -1e39],
      ],
      2,
    ],
    ['rows wider than the model', [[1, 2, 3]], 2],
    ['rows narrower than the model', [[1], [2]], 2],
    ['more rows than one call may send', Array.from({ length: 10_001 }, () => [0.5]), 1],
  ])('refuses %s with the same error as nested rows', (_what, matrix, featureCount) => {
    const packed = packMatrix(matrix)!
    const nested = messageOf(() => checkRows(matrix, featureCount))
    expect(nested).toMatchObject({ code: 'BAD_USER_INPUT' })
    expect(messageOf(() => checkedPackedRows(packed, featureCount))).toEqual(nested)
  })

  it('answers the rows as views of the packed values', () => {
    const checked = checkedPackedRows(packMatrix(rows)!, 3)
    expect(checked.map((r) => Array.from(r))).toEqual(rows)
  })
})
