import { createPubSub } from '@graphql-yoga/subscription'
import { getOperationAST, GraphQLSchema, parse } from 'graphql'
import { ApiKeyScope } from '../../../src/modules/apikey/apikey.scope'
import { bearerToken, requiredScope } from '../../../src/server/auth'
import { ResolverContainer } from '../../../src/server/container'
import { buildLabSchema } from '../../../src/server/schema'

describe('requiredScope', () => {
  let schema: GraphQLSchema
  beforeAll(async () => {
    schema = await buildLabSchema({ container: new ResolverContainer(), pubSub: createPubSub() })
  })
  const scopeOf = (source: string) => {
    const document = parse(source)
    return requiredScope(schema, document, getOperationAST(document)!)
  }

  it('asks READ for queries and subscriptions, WRITE for every mutation', () => {
    expect(scopeOf(`{ datasets { totalCount } }`)).toBe(ApiKeyScope.READ)
    expect(scopeOf(`subscription { runEvents(runId: "x") { __typename } }`)).toBe(ApiKeyScope.READ)
    for (const name of Object.keys(schema.getMutationType()!.getFields())) {
      const expected = /ApiKey/.test(name) ? ApiKeyScope.ADMIN : ApiKeyScope.WRITE
      expect([name, scopeOf(`mutation { ${name} }`)]).toEqual([name, expected])
    }
  })

  it('asks ADMIN for key management however it is selected', () => {
    expect(scopeOf(`{ apiKeys { id } }`)).toBe(ApiKeyScope.ADMIN)
    expect(scopeOf(`{ datasets { totalCount } ... on Query { apiKeys { id } } }`)).toBe(ApiKeyScope.ADMIN)
    expect(scopeOf(`{ ...A } fragment A on Query { ...B } fragment B on Query { k: apiKeys { id } }`)).toBe(
      ApiKeyScope.ADMIN,
    )
    expect(scopeOf(`mutation { startRun(input: { datasetId: "x" }) { id } revokeApiKey(id: "y") }`)).toBe(
      ApiKeyScope.ADMIN,
    )
  })
})

describe('bearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer   abc ', 'abc'],
    ['Basic abc', undefined],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    [42, undefined],
    [undefined, undefined],
  ])('reads %j as %j', (value, expected) => {
    expect(bearerToken(value)).toBe(expected)
  })
})
