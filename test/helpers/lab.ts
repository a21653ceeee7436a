import { Client, createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { loadConfig } from '../../src/config'
import { Lab, startLab } from '../../src/lab'
import { createLogger } from '../../src/logger'
import { createTestDatabase } from './db'

export interface GqlResponse<T = Record<string, unknown>> {
  status: number
  data?: T | null
  errors?: { message: string; extensions?: Record<string, unknown> & { code?: string }; path?: unknown[] }[]
}

export interface TestLab {
  lab: Lab
  /** The lab's database (its own, dropped by stop(), unless one was passed in). */
  databaseUrl: string
  /** POSTs one operation to /graphql (with `apiKey` as a Bearer token) and returns the parsed body and status. */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    opts?: { apiKey?: string },
  ): Promise<GqlResponse<T>>
  /** A graphql-ws client on the same port (sending `apiKey` in connectionParams); disposed by stop(). */
  ws(opts?: { apiKey?: string; onClosed?: (event: unknown) => void }): Client
  /** Everything started for this lab, disposed in reverse order. */
  stop(): Promise<void>
}

/**
 * Starts the real server on port 0 against a fresh database of its own (machine PostgreSQL, or the
 * embedded one global-setup started). `env` overrides configuration, as environment variables would.
 */
export async function startTestLab(
  env: Record<string, string> = {},
  opts: { databaseUrl?: string; onQuery?: (sql: string) => void } = {},
): Promise<TestLab> {
  const leftovers: (() => Promise<unknown>)[] = []
  let databaseUrl = opts.databaseUrl
  if (databaseUrl === undefined) {
    const database = await createTestDatabase()
    leftovers.push(() => database.drop())
    databaseUrl = database.url
  }
  try {
    const config = loadConfig({
      PORT: '0',
      LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
      LAB_WORKERS: '0',
      ...env,
      DATABASE_URL: databaseUrl,
    })
    const lab = await startLab(
      config,
      createLogger(config.logLevel, 'test-lab'),
      opts.onQuery ? { onQuery: opts.onQuery } : {},
    )
    leftovers.push(() => lab.stop())
    return {
      lab,
      databaseUrl,
      gql: async (query, variables, opts = {}) => {
        const res = await fetch(lab.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(opts.apiKey !== undefined ? { authorization: `Bearer ${opts.apiKey}` } : {}),
          },
          body: JSON.stringify({ query, variables }),
        })
        const body = (await res.json()) as Omit<GqlResponse, 'status'>
        return { status: res.status, ...body } as GqlResponse<never>
      },
      ws: (opts = {}) => {
        const { apiKey, onClosed } = opts
        const client = createClient({
          url: lab.wsUrl,
          webSocketImpl: WebSocket,
          retryAttempts: 0,
          lazy: true,
          ...(apiKey !== undefined ? { connectionParams: { authorization: `Bearer ${apiKey}` } } : {}),
          ...(onClosed ? { on: { closed: onClosed } } : {}),
        })
        leftovers.push(async () => client.dispose())
        return client
      },
      stop: async () => {
        for (const dispose of leftovers.reverse()) await dispose()
      },
    }
  } catch (err) {
    for (const dispose of leftovers.reverse()) await dispose()
    throw err
  }
}

/** Collects every `next` payload of one subscription until it completes (or errors). */
export function collect<T>(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const items: T[] = []
  let unsubscribe: () => void = () => {}
  const done = new Promise<T[]>((resolve, reject) => {
    unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) reject(new Error(JSON.stringify(value.errors)))
          else items.push(value.data as T)
        },
        error: (err) => reject(err instanceof Error ? err : new Error(JSON.stringify(err))),
        complete: () => resolve(items),
      },
    )
  })
  return { items, done, unsubscribe: () => unsubscribe() }
}
