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

/** Starts `node dist/src/main.js` and waits for its "listening" log line. */
async function startMain(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
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
