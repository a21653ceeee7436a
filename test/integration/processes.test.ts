/**
 * The shipped entry points as a user runs them: `npm start` (dist/src/main.js) with its embedded
 * PostgreSQL, and `npm run worker` (dist/src/training/worker-main.js). They run compiled code, which
 * `npm test` builds first.
 */
import { ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { findFreePort } from '../../src/db/embedded'
import pg from 'pg'
import { createTestDatabase } from '../helpers/db'
import { startTestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

const ROOT = path.join(__dirname, '..', '..')
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js')
const WORKER = path.join(ROOT, 'dist', 'src', 'training', 'worker-main.js')

interface Started {
  child: ChildProcess
  url: string
  exited: Promise<number | null>
}

/**
 * Starts `node dist/src/main.js` and waits for its "listening" log line. `detached` makes it the leader of a
 * process group of its own, as a shell makes a foreground command: a signal to `-pid` then reaches the group.
 */
async function startMain(env: Record<string, string>, { detached = false } = {}): Promise<Started> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    detached,
    // NODE_ENV as a user has it: jest's "test" hides Apollo's default signal handling.
    env: { ...process.env, NODE_ENV: 'production', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 60 s')), 60_000)
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const log = JSON.parse(line) as { url?: string; msg?: string }
        if (log.msg === 'Explainable Lab is listening' && log.url) {
          clearTimeout(timer)
          resolve(log.url)
        }
      } catch {
        // not a log line
      }
    })
    child.stderr!.on('data', (d: Buffer) => process.stderr.write(d))
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening`)))
  })
  return { child, url, exited }
}

async function gql<T>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  })
  const body = (await res.json()) as { data?: T; errors?: unknown[] }
  if (body.errors) throw new Error(JSON.stringify(body.errors))
  return body.data as T
}

describe('npm start', () => {
  it('serves GraphQL on an embedded PostgreSQL, stops cleanly on SIGTERM and SIGINT, and keeps the data', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-main-'))
    const env = {
      LAB_DATA_DIR: dataDir,
      LAB_EMBEDDED_PG_PORT: String(await findFreePort()),
      LAB_WORKERS: '1',
      LAB_TF_BACKEND: 'cpu',
      DATABASE_URL: '',
    }
    try {
      const first = await startMain(env)
      const { generateDataset } = await gql<{ generateDataset: { id: string } }>(
        first.url,
        `mutation { generateDataset(input: { name: "kept", generator: XOR, rows: 100, seed: 1 }) { id } }`,
      )
      // The compiled trainer process trains a run.
      const { startRun } = await gql<{ startRun: { id: string } }>(
        first.url,
        `mutation($id: ID!) { startRun(input: { datasetId: $id, epochs: 2, hiddenLayers: [4], explain: [] }) { id } }`,
        { id: generateDataset.id },
      )
      await waitFor(
        async () =>
          (
            await gql<{ run: { status: string } }>(first.url, `query($id: ID!) { run(id: $id) { status } }`, {
              id: startRun.id,
            })
          ).run.status === 'SUCCEEDED',
        { timeoutMs: 60_000, what: 'the run' },
      )
      const health = await fetch(first.url.replace('/graphql', '/healthz'))
      expect(health.status).toBe(200)
      first.child.kill('SIGTERM')
      expect(await first.exited).toBe(0)

      const second = await startMain(env)
      const { dataset } = await gql<{ dataset: { id: string; name: string } | null }>(
        second.url,
        `query($id: ID!) { dataset(id: $id) { id name } }`,
        { id: generateDataset.id },
      )
      expect(dataset).toEqual({ id: generateDataset.id, name: 'kept' })
      second.child.kill('SIGINT')
      expect(await second.exited).toBe(0)
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }, 180_000)
})

describe('npm run worker', () => {
  it('trains runs queued by an API that has no workers of its own', async () => {
    const database = await createTestDatabase()
    const lab = await startTestLab({ LAB_WORKERS: '0' }, { databaseUrl: database.url })
    const worker = spawn(process.execPath, [WORKER], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        LAB_WORKERS: '1',
        LAB_TF_BACKEND: 'cpu',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    const exited = new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)))
    try {
      const ds = await lab.gql<{ generateDataset: { id: string } }>(
        `mutation { generateDataset(input: { name: "remote", generator: LINEAR, rows: 100, seed: 1 }) { id } }`,
      )
      const run = await lab.gql<{ startRun: { id: string } }>(
        `mutation($id: ID!) { startRun(input: { datasetId: $id, epochs: 2, hiddenLayers: [4] }) { id } }`,
        { id: ds.data!.generateDataset.id },
      )
      const id = run.data!.startRun.id
      const done = await waitFor(
        async () => {
          const r = await lab.gql<{
            run: { status: string; backend: string; explanation: { methods: string[] } | null }
          }>(`query($id: ID!) { run(id: $id) { status backend explanation { methods } } }`, { id })
          return r.data!.run.status === 'SUCCEEDED' ? r.data!.run : undefined
        },
        { timeoutMs: 90_000, what: 'the remote worker to train the run' },
      )
      expect(done.backend).toBe('cpu')
      expect(done.explanation!.methods).toHaveLength(6)
      worker.kill('SIGTERM')
      expect(await exited).toBe(0)
    } finally {
      if (worker.exitCode === null) worker.kill('SIGKILL')
      await lab.stop()
      await database.drop()
    }
  }, 150_000)
})

async function sql<R extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(text, values)).rows
  } finally {
    await client.end()
  }
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Generates a dataset and starts a run of `epochs` (long enough to be in flight when the test interrupts it). */
async function runInFlight(url: string, epochs: number): Promise<string> {
  const { generateDataset } = await gql<{ generateDataset: { id: string } }>(
    url,
    `mutation { generateDataset(input: { name: "in-flight", generator: FRIEDMAN1, rows: 2000, seed: 5 }) { id } }`,
  )
  const { startRun } = await gql<{ startRun: { id: string } }>(
    url,
    `mutation($id: ID!) { startRun(input: { datasetId: $id, epochs: ${epochs}, hiddenLayers: [16], batchSize: 32, explain: [] }) { id } }`,
    { id: generateDataset.id },
  )
  await waitFor(
    async () =>
      (
        await gql<{ run: { lastEpoch: number } }>(url, `query($id: ID!) { run(id: $id) { lastEpoch } }`, {
          id: startRun.id,
        })
      ).run.lastEpoch >= 1,
    { timeoutMs: 90_000, what: 'the first epoch' },
  )
  return startRun.id
}

describe('npm start with a run in flight on its embedded PostgreSQL', () => {
  it.each([
    ['SIGTERM to the process', (pid: number) => process.kill(pid, 'SIGTERM')],
    // What Ctrl-C in a terminal does: every process of the foreground group gets SIGINT.
    ['SIGINT to its process group', (pid: number) => process.kill(-pid, 'SIGINT')],
  ])(
    'exits 0 on %s, hands the run back, then stops PostgreSQL (no orphan left)',
    async (_name, signal) => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-main-signal-'))
      const env = {
        LAB_DATA_DIR: dataDir,
        LAB_EMBEDDED_PG_PORT: String(await findFreePort()),
        LAB_WORKERS: '1',
        LAB_TF_BACKEND: 'cpu',
        DATABASE_URL: '',
      }
      let postmaster: number | undefined
      const started: Started[] = []
      try {
        const first = await startMain(env, { detached: true })
        started.push(first)
        const id = await runInFlight(first.url, 500)
        postmaster = Number(
          fs.readFileSync(path.join(dataDir, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0],
        )
        expect(isAlive(postmaster)).toBe(true)
        signal(first.child.pid!)
        expect(await first.exited).toBe(0)
        expect(isAlive(postmaster)).toBe(false)
        expect(fs.existsSync(path.join(dataDir, 'pgdata', 'postmaster.pid'))).toBe(false)

        // The next start finds the run handed back to the queue, not RUNNING under a dead trainer.
        const second = await startMain({ ...env, LAB_WORKERS: '0' })
        started.push(second)
        const { run } = await gql<{ run: { status: string; error: string | null } }>(
          second.url,
          `query($id: ID!) { run(id: $id) { status error } }`,
          { id },
        )
        expect(run).toEqual({ status: 'QUEUED', error: 'retrying: its worker shut down' })
        second.child.kill('SIGTERM')
        expect(await second.exited).toBe(0)
      } finally {
        for (const { child } of started) if (child.exitCode === null) child.kill('SIGKILL')
        if (postmaster !== undefined && isAlive(postmaster)) process.kill(postmaster, 'SIGINT')
        fs.rmSync(dataDir, { recursive: true, force: true })
      }
    },
    240_000,
  )
})

describe('kill -9 of the API while a run trains', () => {
  it('its trainer hands the run back and exits; a new API on the same database trains it, each epoch once', async () => {
    const database = await createTestDatabase()
    const epochs = 30
    try {
      const api = await startMain({ DATABASE_URL: database.url, LAB_WORKERS: '1', LAB_TF_BACKEND: 'cpu' })
      let id: string
      try {
        id = await runInFlight(api.url, epochs)
      } finally {
        api.child.kill('SIGKILL')
        await api.exited
      }
      const [{ workerId }] = (await sql<{ workerId: string }>(
        database.url,
        `SELECT "workerId" FROM "Run" WHERE id = $1`,
        [id],
      )) as [{ workerId: string }]
      const trainer = Number(workerId.split(':').pop())
      await waitFor(() => !isAlive(trainer), { timeoutMs: 30_000, what: 'the orphaned trainer to exit' })
      const [handedBack] = await sql<{ status: string; error: string }>(
        database.url,
        `SELECT status, error FROM "Run" WHERE id = $1`,
        [id],
      )
      expect(handedBack).toEqual({
        status: 'QUEUED',
        error: 'retrying: its worker pool went away (the process that started the trainer ended)',
      })

      const lab = await startTestLab(
        { LAB_WORKERS: '1', LAB_TF_BACKEND: 'cpu' },
        { databaseUrl: database.url },
      )
      try {
        const done = await waitFor(
          async () => {
            const r = await lab.gql<{ run: { status: string; history: { epoch: number }[] } }>(
              `query($id: ID!) { run(id: $id) { status history { epoch } } }`,
              { id },
            )
            const run = r.data?.run
            return run && run.status !== 'QUEUED' && run.status !== 'RUNNING' ? run : undefined
          },
          { timeoutMs: 150_000, what: 'the handed-back run to end' },
        )
        expect(done.status).toBe('SUCCEEDED')
        expect(done.history.map((h) => h.epoch)).toEqual(Array.from({ length: epochs }, (_, i) => i + 1))
      } finally {
        await lab.stop()
      }
    } finally {
      await database.drop()
    }
  }, 300_000)
})
