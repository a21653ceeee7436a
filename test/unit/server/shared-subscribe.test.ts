import {
  ExecutionResult,
  getOperationAST,
  GraphQLBoolean,
  GraphQLInt,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
} from 'graphql'
import { shareEvent, sharedSubscribe, variablesBelowRoot } from '../../../src/server/shared-subscribe'
import type { Principal } from '../../../src/modules/apikey/apikey.scope'
import { ApiKeyScope } from '../../../src/modules/apikey/apikey.scope'

type Tick = { n: number }

/** A schema whose `ticks` stream yields the given events and counts how often `n` is resolved. */
function tickSchema(events: Tick[]) {
  const counter = { resolved: 0 }
  const TickType = new GraphQLObjectType<Tick>({
    name: 'Tick',
    fields: {
      n: {
        type: new GraphQLNonNull(GraphQLInt),
        args: { times: { type: GraphQLInt } },
        resolve: (tick, args: { times?: number | null }) => {
          counter.resolved++
          return tick.n * (args.times ?? 1)
        },
      },
      label: { type: GraphQLString, resolve: (tick) => `tick ${tick.n}` },
    },
  })
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLBoolean } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        ticks: {
          type: new GraphQLNonNull(TickType),
          args: { from: { type: GraphQLInt } },
          // The stream depends on the root argument; each event's execution does not.
          subscribe: async function* (_root, args: { from?: number | null }) {
            for (const e of events) if (e.n >= (args.from ?? 0)) yield e
          },
          resolve: (event: Tick) => event,
        },
      },
    }),
  })
  return { schema, counter }
}

const OPEN: Principal = { kind: 'open' }

async function run(
  schema: GraphQLSchema,
  source: string,
  variables: Record<string, unknown> = {},
  principal: Principal = OPEN,
): Promise<ExecutionResult[]> {
  const stream = await sharedSubscribe({
    schema,
    document: parse(source),
    variableValues: variables,
    contextValue: { principal },
  })
  if (!(Symbol.asyncIterator in stream)) throw new Error(JSON.stringify(stream))
  const out: ExecutionResult[] = []
  for await (const result of stream) out.push(result)
  return out
}

const dataOf = (results: ExecutionResult[]) => results.map((r) => r.data)

describe('sharedSubscribe', () => {
  it('executes a shared event once per selection, whatever the number of subscribers', async () => {
    const { schema, counter } = tickSchema([shareEvent({ n: 1 }), shareEvent({ n: 2 })])
    const results = await Promise.all(
      Array.from({ length: 10 }, () => run(schema, 'subscription { ticks { n } }')),
    )
    for (const r of results) expect(dataOf(r)).toEqual([{ ticks: { n: 1 } }, { ticks: { n: 2 } }])
    expect(counter.resolved).toBe(2)
  })

  it('executes events that are not shared for every subscriber, as graphql does', async () => {
    const { schema, counter } = tickSchema([{ n: 1 }, { n: 2 }])
    await Promise.all(Array.from({ length: 3 }, () => run(schema, 'subscription { ticks { n } }')))
    expect(counter.resolved).toBe(6)
  })

  it('shares across root arguments, which only pick the stream', async () => {
    const { schema, counter } = tickSchema([shareEvent({ n: 1 }), shareEvent({ n: 2 })])
    const query = 'subscription($from: Int) { ticks(from: $from) { n } }'
    const [all, later] = await Promise.all([run(schema, query, { from: 0 }), run(schema, query, { from: 2 })])
    expect(dataOf(all)).toEqual([{ ticks: { n: 1 } }, { ticks: { n: 2 } }])
    expect(dataOf(later)).toEqual([{ ticks: { n: 2 } }])
    expect(counter.resolved).toBe(2)
  })

  it('keeps apart subscribers whose variables below the root, document or scope differ', async () => {
    const { schema, counter } = tickSchema([shareEvent({ n: 3 })])
    const byVariable = 'subscription($times: Int) { ticks { n(times: $times) } }'
    const read: Principal = { kind: 'key', keyId: 'k1', name: 'r', scope: ApiKeyScope.READ }
    const [twice, thrice, absent, other, asKey] = await Promise.all([
      run(schema, byVariable, { times: 2 }),
      run(schema, byVariable, { times: 3 }),
      run(schema, byVariable),
      run(schema, 'subscription { ticks { n label } }'),
      run(schema, 'subscription { ticks { n label } }', {}, read),
    ])
    expect(dataOf(twice)).toEqual([{ ticks: { n: 6 } }])
    expect(dataOf(thrice)).toEqual([{ ticks: { n: 9 } }])
    expect(dataOf(absent)).toEqual([{ ticks: { n: 3 } }])
    expect(dataOf(other)).toEqual([{ ticks: { n: 3, label: 'tick 3' } }])
    expect(dataOf(asKey)).toEqual(dataOf(other))
    expect(counter.resolved).toBe(5)
  })

  it('returns the errors of a subscription that cannot start', async () => {
    const { schema } = tickSchema([])
    const result = await sharedSubscribe({ schema, document: parse('subscription { nope }') })
    expect(Symbol.asyncIterator in result).toBe(false)
    expect((result as ExecutionResult).errors?.[0]?.message).toMatch(/nope/)
  })
})

describe('variablesBelowRoot', () => {
  const below = (source: string) => {
    const document = parse(source)
    return variablesBelowRoot(document, getOperationAST(document)!)
  }

  it('leaves out the root fields arguments and keeps everything below and beside them', () => {
    expect(below('subscription($a: Int, $b: Int) { ticks(from: $a) { n(times: $b) } }')).toEqual(['b'])
    expect(
      below(
        'subscription($a: Int, $c: Boolean!) { ticks(from: $a) @include(if: $c) { ...F } } fragment F on Tick { n(times: $a) }',
      ),
    ).toEqual(['a', 'c'])
    expect(below('subscription($a: Int) { ... on Subscription { ticks(from: $a) { n } } }')).toEqual(['a'])
  })
})
