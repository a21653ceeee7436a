import { isIP } from 'node:net'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { isLoopbackHost } from '../config'

/** Who may reach the API by name, and which web pages may open its WebSocket. */
export interface GuardOptions {
  /** HOST the server listens on. */
  host: string
  /** Further names accepted in the Host header (LAB_ALLOWED_HOSTS). */
  allowedHosts: string[]
  /** Further origins allowed to open a WebSocket (LAB_ALLOWED_ORIGINS). */
  allowedOrigins: string[]
}

/** The host name of a Host header (`name:port`, `[v6]:port`), lower-cased; undefined when unparsable. */
function hostName(header: string): string | undefined {
  try {
    return new URL(`http://${header}`).hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1')
  } catch {
    return undefined
  }
}

/**
 * Against DNS rebinding: a page on a name the attacker controls that resolves to this server sends
 * that name in Host. IP literals cannot be rebound; loopback names, HOST itself and the configured
 * names are ours. Anything else is refused.
 */
export function hostAllowed(header: string | undefined, opts: GuardOptions): boolean {
  if (header === undefined) return false
  const name = hostName(header)
  if (name === undefined || name === '') return false
  if (isIP(name) !== 0 || isLoopbackHost(name)) return true
  const ours = [opts.host, ...opts.allowedHosts].map((h) => h.toLowerCase())
  return ours.includes(name)
}

/**
 * Browsers always send Origin on a WebSocket upgrade and cannot forge it; other clients send none.
 * Allowed: no Origin, the server's own origin (the page was served by this Host), or a listed one.
 */
export function originAllowed(
  origin: string | undefined,
  hostHeader: string | undefined,
  opts: GuardOptions,
): boolean {
  if (origin === undefined) return true
  if (opts.allowedOrigins.includes(origin)) return true
  if (hostHeader === undefined) return false
  const own = hostHeader.toLowerCase()
  const asked = origin.toLowerCase()
  return asked === `http://${own}` || asked === `https://${own}`
}

/** Why an upgrade is refused, as an HTTP status and a line of text; undefined when it may proceed. */
export function checkUpgrade(
  req: IncomingMessage,
  opts: GuardOptions & { path: string; connections: number; maxConnections: number },
): { status: number; message: string } | undefined {
  const path = (req.url ?? '').split('?')[0]
  if (path !== opts.path) return { status: 404, message: 'Not Found' }
  const host = req.headers.host
  if (!hostAllowed(host, opts)) return { status: 403, message: 'Host not allowed' }
  if (!originAllowed(req.headers.origin, host, opts)) return { status: 403, message: 'Origin not allowed' }
  if (opts.connections >= opts.maxConnections) return { status: 503, message: 'Too many connections' }
  return undefined
}

/** Answers a refused upgrade with a plain HTTP response and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = `${message}\n`
  socket.end(
    `HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}
