import { Client, createClient } from 'graphql-ws'
import WebSocket from 'ws'
import type { Document } from './api'
import { InterruptedError, ServerError, UnreachableError, UsageError } from './errors'

/** Where the CLI talks to when neither `--url` nor `LAB_URL` says otherwise. */
export const DEFAULT_URL = 'http://127.0.0.1:4000/graphql'

/** How often a dropped WebSocket is reopened before giving up (only once it had connected). */
const RECONNECT_ATTEMPTS = 5

/** A running subscription. */
export interface Subscription {
  /** Settles when the subscription ends: completed by the server, unsubscribed, or failed. */
  done: Promise<void>
  /** Ends the subscription; `done` resolves. */
  unsubscribe(): void
}

interface FormattedError {
  message: string
  extensions?: Record<string, unknown>
}

/**
 * The CLI's GraphQL client: queries and mutations over HTTP (fetch), subscriptions over graphql-ws on
 * the same URL. Every failure becomes a typed {@link CliError}: {@link UnreachableError} when no
 * GraphQL answer came back, {@link ServerError} (with `extensions.code`) when one did, and
 * {@link InterruptedError} once `signal` aborts.
 */
export class LabClient {
  readonly url: string
  readonly wsUrl: string
  private ws: Client | undefined
  private connectedOnce = false
  private lastSocketError: unknown

  /**
   * `apiKey` is sent as `Authorization: Bearer <key>` on every HTTP request and in the graphql-ws
   * connectionParams (servers started with LAB_AUTH=required need one).
   */
  constructor(
    url: string,
    private readonly signal?: AbortSignal,
    private readonly apiKey?: string,
  ) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new UsageError(`invalid server URL ${JSON.stringify(url)}`)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new UsageError(`the server URL must start with http:// or https:// (got ${url})`)
    }
    this.url = parsed.href
    this.wsUrl = parsed.href.replace(/^http/, 'ws')
  }

  /** Runs one query or mutation and returns its `data`. */
  async request<TData, TVariables>(
    document: Document<TData, TVariables>,
    variables: TVariables,
  ): Promise<TData> {
    if (this.signal?.aborted) throw new InterruptedError()
    let res: Response
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(this.apiKey !== undefined ? { authorization: `Bearer ${this.apiKey}` } : {}),
        },
        body: JSON.stringify({ query: document.source, variables }),
        ...(this.signal ? { signal: this.signal } : {}),
      })
    } catch (err) {
      if (this.signal?.aborted) throw new InterruptedError()
      throw new UnreachableError(`cannot reach the server at ${this.url}: ${describe(err)}`)
    }
    let text: string
    try {
      text = await res.text()
    } catch (err) {
      if (this.signal?.aborted) throw new InterruptedError()
      throw new UnreachableError(`lost the connection to ${this.url}: ${describe(err)}`)
    }
    let body: { data?: unknown; errors?: FormattedError[] }
    try {
      body = JSON.parse(text) as typeof body
    } catch {
      // Not a GraphQL answer: a proxy or load balancer with no server behind it, or not a Lab at all.
      if (res.status === 502 || res.status === 503 || res.status === 504) {
        throw new UnreachableError(`the server at ${this.url} is unavailable (HTTP ${res.status})`)
      }
      throw new ServerError(
        `HTTP_${res.status}`,
        `${this.url} did not answer with GraphQL (HTTP ${res.status})`,
      )
    }
    if (Array.isArray(body.errors) && body.errors.length > 0) throw toServerError(body.errors)
    if (body.data === undefined || body.data === null) {
      throw new ServerError('NO_DATA', `the server answered HTTP ${res.status} without data`)
    }
    return body.data as TData
  }

  /**
   * Subscribes and calls `onNext` for each event; `done` resolves when the server completes the
   * subscription (or `unsubscribe` is called) and rejects with a typed error. A connection dropped after
   * it was established is reopened and the subscription made again, so callers must tolerate replays;
   * a first connection that fails is not retried.
   */
  subscribe<TData, TVariables>(
    document: Document<TData, TVariables>,
    variables: TVariables,
    onNext: (data: TData) => void,
  ): Subscription {
    const client = this.wsClient()
    let unsubscribe: () => void = () => {}
    let stop: () => void = () => {}
    const done = new Promise<void>((resolve, reject) => {
      let settled = false
      const settle = (err?: unknown) => {
        if (settled) return
        settled = true
        this.signal?.removeEventListener('abort', onAbort)
        if (err === undefined) resolve()
        else reject(err)
      }
      const onAbort = () => {
        unsubscribe()
        settle(new InterruptedError())
      }
      stop = () => {
        unsubscribe()
        settle()
      }
      if (this.signal?.aborted) return onAbort()
      this.signal?.addEventListener('abort', onAbort)
      unsubscribe = client.subscribe<TData>(
        { query: document.source, variables: variables as Record<string, unknown> },
        {
          next: (value) => {
            if (settled) return
            if (value.errors && value.errors.length > 0) {
              unsubscribe()
              return settle(toServerError(value.errors as FormattedError[]))
            }
            if (value.data === undefined || value.data === null) return
            try {
              onNext(value.data as TData)
            } catch (err) {
              unsubscribe()
              settle(err)
            }
          },
          error: (err) => settle(this.subscriptionError(err)),
          complete: () => settle(),
        },
      )
    })
    return { done, unsubscribe: () => stop() }
  }

  /** Closes the WebSocket, if one was opened, so the process can exit. */
  async close(): Promise<void> {
    const ws = this.ws
    this.ws = undefined
    if (ws) await ws.dispose()
  }

  private wsClient(): Client {
    this.ws ??= createClient({
      url: this.wsUrl,
      webSocketImpl: WebSocket,
      lazy: true,
      retryAttempts: RECONNECT_ATTEMPTS,
      ...(this.apiKey !== undefined ? { connectionParams: { authorization: `Bearer ${this.apiKey}` } } : {}),
      // A server that was never reached is reported at once (exit 4); a dropped connection to one that
      // was is worth a few retries, since a long sweep outlives a server restart.
      shouldRetry: () => this.connectedOnce && !this.signal?.aborted,
      on: {
        connected: () => {
          this.connectedOnce = true
          this.lastSocketError = undefined
        },
        error: (err) => {
          this.lastSocketError = err
        },
      },
    })
    return this.ws
  }

  private subscriptionError(err: unknown): Error {
    if (this.signal?.aborted) return new InterruptedError()
    if (Array.isArray(err)) return toServerError(err as FormattedError[])
    if (isCloseEvent(err) && err.code >= 4000 && err.code !== 4499) {
      return new ServerError(
        `CLOSE_${err.code}`,
        err.reason || `the server closed the connection (${err.code})`,
      )
    }
    const cause = this.lastSocketError ?? err
    const verb = this.connectedOnce ? 'lost the connection to' : 'cannot reach'
    return new UnreachableError(`${verb} the server at ${this.wsUrl}: ${describe(cause)}`)
  }
}

function toServerError(errors: FormattedError[]): ServerError {
  const first = errors[0] ?? { message: 'unknown error' }
  const { code, ...details } = first.extensions ?? {}
  const more =
    errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : ''
  return new ServerError(typeof code === 'string' ? code : 'UNKNOWN', first.message + more, details)
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && 'code' in value && typeof value.code === 'number'
}

/** A short reason for a network failure: fetch hides the useful part (ECONNREFUSED ...) in `cause`. */
function describe(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err)
  const cause = 'cause' in err ? err.cause : undefined
  if (typeof cause === 'object' && cause !== null) {
    if ('code' in cause && typeof cause.code === 'string') return cause.code
    if ('message' in cause && typeof cause.message === 'string') return cause.message
  }
  if ('error' in err && err.error instanceof Error) return describe(err.error)
  if ('code' in err && typeof err.code === 'string') return err.code
  if ('message' in err && typeof err.message === 'string' && err.message !== '') return err.message
  if (isCloseEvent(err)) return `connection closed (${err.code}${err.reason ? `: ${err.reason}` : ''})`
  return 'unknown error'
}
