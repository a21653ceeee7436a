import fs from 'node:fs'
import path from 'node:path'
import { createPubSub } from '@graphql-yoga/subscription'
import { ResolverContainer } from './container'
import { buildLabSchema, printLabSchema } from './schema'

/** Writes schema.graphql from the code (`npm run schema:emit`); a test fails when the file is stale. */
async function main() {
  const schema = await buildLabSchema({ container: new ResolverContainer(), pubSub: createPubSub() })
  const file = path.resolve(__dirname, '..', '..', '..', 'schema.graphql')
  fs.writeFileSync(file, printLabSchema(schema))
  console.log(`wrote ${file}`)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
