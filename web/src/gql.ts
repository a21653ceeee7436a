// The page's only way to the server: GraphQL over HTTP (queries, mutations) and graphql-ws (subscriptions),
// the same public API any outside client uses. The API key (when the server wants one) rides as the Bearer
// header and in connection_init.
import { Client, createClient } from 'graphql-ws'

const KEY_STORAGE = 'explainable-lab.apiKey'

/** An error worth showing a person: `code` is the server's extensions.code, or UNREACHABLE. */
export class LabError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message)
  }
}

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting'

export interface Sink<T> {
  next(data: T): void
  error?(err: LabError): void
  complete?(): void
}

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE)
}

export function storeKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY_STORAGE)
  else sessionStorage.setItem(KEY_STORAGE, key)
}

const UNREACHABLE =
  'The Explainable Lab server cannot be reached. It may be stopped or restarting; the page retries on its own.'

function toLabError(errors: { message?: string; extensions?: { code?: unknown } }[]): LabError {
  const first = errors[0] ?? {}
  const code = typeof first.extensions?.code === 'string' ? first.extensions.code : 'ERROR'
  return new LabError(first.message ?? 'The server refused the request.', code)
}

/** A GraphQL client for this page's origin. */
export class LabClient {
  private readonly ws: Client
  private state: ConnectionState = 'connecting'
  private readonly stateListeners = new Set<(s: ConnectionState) => void>()
  private readonly reconnectListeners = new Set<() => void>()
  private everConnected = false
  /** Subscriptions the page holds: the lazy socket closing with none is no lost connection. */
  private active = 0

  constructor(private readonly httpUrl = '/graphql') {
    const wsUrl = new URL(httpUrl, location.href)
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:'
    this.ws = createClient({
      url: wsUrl.href,
      lazy: true,
      connectionParams: () => {
        const key = storedKey()
        return key ? { authorization: `Bearer ${key}` } : {}
      },
      // Forever, with graphql-ws's randomised exponential backoff: a restarted server is found again.
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
      on: {
        connected: () => {
          const wasRetry = this.everConnected
          this.everConnected = true
          this.setState('connected')
          if (wasRetry) for (const l of this.reconnectListeners) l()
        },
        closed: () => {
          if (this.everConnected && this.active > 0) this.setState('reconnecting')
          else this.setState('connecting')
        },
      },
    })
  }

  /** One query or mutation over HTTP; rejects with a LabError written for a person. */
  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const key = storedKey()
    let res: Response
    try {
      res = await fetch(this.httpUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      })
    } catch {
      throw new LabError(UNREACHABLE, 'UNREACHABLE')
    }
    let body: { data?: T; errors?: { message?: string; extensions?: { code?: unknown } }[] }
    try {
      body = (await res.json()) as typeof body
    } catch {
      throw new LabError(
        res.status >= 500 ? UNREACHABLE : `The server answered ${res.status} without a GraphQL body.`,
        res.status >= 500 ? 'UNREACHABLE' : 'ERROR',
      )
    }
    if (body.errors && body.errors.length > 0) throw toLabError(body.errors)
    if (body.data === undefined) throw new LabError('The server sent no data.', 'ERROR')
    return body.data
  }

  /**
   * A subscription that survives reconnects: after the socket drops, it is subscribed again with
   * `variables()` evaluated anew (so a run's events resume with `afterEpoch` = the last point held).
   * Returns the unsubscribe function.
   */
  subscribe<T>(query: string, variables: () => Record<string, unknown>, sink: Sink<T>): () => void {
    let stopped = false
    let current: (() => void) | null = null
    let offClosed: () => void = () => {}
    let generation = 0
    const start = () => {
      const gen = ++generation
      current = this.ws.subscribe<T>(
        { query, variables: variables() },
        {
          next: (value) => {
            if (gen !== generation) return
            if (value.errors && value.errors.length > 0) sink.error?.(toLabError([...value.errors]))
            else if (value.data) sink.next(value.data as T)
          },
          error: (err) => {
            if (Array.isArray(err)) sink.error?.(toLabError(err as { message?: string }[]))
            // Close events and socket errors are retried by graphql-ws; nothing to tell the sink.
          },
          complete: () => {
            // A released generation completes too (asynchronously): only the current one's counts.
            if (stopped || gen !== generation) return
            stopped = true
            this.active -= 1
            offClosed()
            sink.complete?.()
          },
        },
      )
    }
    const restart = () => {
      if (stopped) return
      current?.()
      start()
    }
    // On a drop, release the old subscription (graphql-ws would resend the same variables) and subscribe
    // again with fresh ones; the new subscribe is what makes the lazy client reconnect.
    offClosed = this.ws.on('closed', () => queueMicrotask(restart))
    this.active += 1
    start()
    return () => {
      if (!stopped) this.active -= 1
      stopped = true
      offClosed()
      current?.()
    }
  }

  /** Called after every reconnect (not the first connect): a view refetches what it may have missed. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener)
    return () => this.reconnectListeners.delete(listener)
  }

  onState(listener: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(listener)
    listener(this.state)
    return () => this.stateListeners.delete(listener)
  }

  /** Drops the socket so the next subscription reconnects with the current key. */
  async resetConnection(): Promise<void> {
    this.ws.terminate()
  }

  private setState(s: ConnectionState) {
    if (s === this.state) return
    this.state = s
    for (const l of this.stateListeners) l(s)
  }
}
