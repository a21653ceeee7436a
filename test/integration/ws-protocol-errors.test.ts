/**
 * A WebSocket message above LAB_WS_MAX_PAYLOAD_BYTES, sent to the shipped server (`node dist/src/main.js`,
 * built by `npm test`): the socket is closed with 1009, the server goes on serving, and everything it
 * writes stays JSON log lines (graphql-ws's own handler would print the error with console.error).
 */
import { ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import readline from 'node:readline'
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { createTestDatabase, TestDatabase } from '../helpers/db'

const ROOT = path.join(__dirname, '..', '..')
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js')
const MAX_PAYLOAD = 4096

let database: TestDatabase | undefined
let child: ChildProcess | undefined
let exited: Promise<number | null>
const lines: { stream: string; line: string }[] = []
let url = ''

beforeAll(async () => {
  database = await createTestDatabase()
  child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: '0',
      LOG_LEVEL: 'debug',
      LAB_WORKERS: '0',
      LAB_WS_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD),
      DATABASE_URL: database.url,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  exited = new Promise((resolve) => child!.on('exit', (code) => resolve(code)))
  for (const stream of ['stdout', 'stderr'] as const) {
    readline.createInterface({ input: child[stream]! }).on('line', (line) => lines.push({ stream, line }))
  }
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 60 s')), 60_000)
    const poll = setInterval(() => {
      for (const { line } of lines) {
        try {
          const log = JSON.parse(line) as { url?: string; msg?: string }
          if (log.msg === 'Explainable Lab is listening' && log.url) {
            clearTimeout(timer)
            clearInterval(poll)
            resolve(log.url)
          }
        } catch {
          // checked by the test
        }
      }
    }, 50)
    void exited.then((code) => {
      clearInterval(poll)
      reject(
        new Error(`server exited with ${code} before listening:\n${lines.map((l) => l.line).join('\n')}`),
      )
    })
  })
}, 90_000)

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM')
    await exited
  }
  await database?.drop()
})

it('closes a socket whose message is above maxPayload with 1009, logs it as JSON and keeps serving', async () => {
  const wsUrl = url.replace(/^http/, 'ws')
  const raw = new WebSocket(wsUrl, 'graphql-transport-ws')
  raw.on('error', () => {})
  await new Promise<void>((resolve) => raw.once('open', () => resolve()))
  const closed = new Promise<number>((resolve) => raw.once('close', (code) => resolve(code)))
  raw.send(JSON.stringify({ type: 'connection_init' }))
  raw.send(JSON.stringify({ type: 'ping', payload: { pad: 'p'.repeat(4 * MAX_PAYLOAD) } }))
  expect(await closed).toBe(1009)

  // Still serving, over HTTP and over a new WebSocket.
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ datasets { totalCount } }' }),
  })
  expect(await res.json()).toEqual({ data: { datasets: { totalCount: 0 } } })
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 })
  try {
    const result = await new Promise<unknown>((resolve, reject) => {
      client.subscribe(
        { query: '{ datasets { totalCount } }' },
        { next: resolve, error: reject, complete: () => {} },
      )
    })
    expect(result).toEqual({ data: { datasets: { totalCount: 0 } } })
  } finally {
    await client.dispose()
  }

  child!.kill('SIGTERM')
  expect(await exited).toBe(0)
  const notJson = lines.filter(({ line }) => {
    try {
      return typeof JSON.parse(line) !== 'object'
    } catch {
      return true
    }
  })
  expect(notJson).toEqual([])
  const logged = lines.map(({ line }) => JSON.parse(line) as { msg?: string; code?: string })
  expect(logged).toContainEqual(
    expect.objectContaining({
      msg: 'WebSocket closed on a protocol error',
      code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    }),
  )
}, 60_000)
