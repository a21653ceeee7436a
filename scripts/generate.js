#!/usr/bin/env node
// Runs `prisma generate` offline. The Prisma CLI wants to download a schema-engine binary it does not
// need for generation; pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file skips the download.
// Migrations never use that binary: src/db/migrate.ts drives the WebAssembly schema engine instead.
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const env = { ...process.env }
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath
env.PRISMA_HIDE_UPDATE_MESSAGE = '1'
const cli = path.join(__dirname, '..', 'node_modules', 'prisma', 'build', 'index.js')
const result = spawnSync(process.execPath, [cli, 'generate', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
})
process.exit(result.status ?? 1)
