import fs from 'node:fs'
import path from 'node:path'
import { createPubSub } from '@graphql-yoga/subscription'
import { ResolverContainer } from '../../src/server/container'
import { buildLabSchema, printLabSchema } from '../../src/server/schema'

describe('schema.graphql', () => {
  it('is the schema the code emits (run `npm run schema:emit` after changing resolvers or types)', async () => {
    const schema = await buildLabSchema({ container: new ResolverContainer(), pubSub: createPubSub() })
    const committed = fs.readFileSync(path.join(__dirname, '..', '..', 'schema.graphql'), 'utf8')
    expect(printLabSchema(schema)).toBe(committed)
  })
})
