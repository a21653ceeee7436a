import { CloseCode, handleProtocols, makeServer, ServerOptions } from 'graphql-ws'
import type { ConnectionInitMessage, Disposable } from 'graphql-ws'
import type http from 'node:http'
import type { Socket } from 'node:net'
import type { WebSocket, WebSocketServer } from 'ws'

/** What the graphql-ws hooks get as `ctx.extra`: the same as graphql-ws/use/ws gives. */
export interface WsExtra {
  readonly socket: WebSocket
  readonly request: http.IncomingMessage
}

/**
 * Above this many bytes queued on one socket, a send waits until its message has reached the kernel before
 * graphql-ws sends that subscriber anything more (a slow client then holds back only its own stream).
 */
const HIGH_WATER_BYTES = 1 << 20

/**
 * A turn's writes are held at most this long: a turn that handles a backlog (many epochs for every subscriber)
 * can run for a few hundred ms on a loaded machine, and its first messages should not wait for its end.
 */
const MAX_HOLD_MS = 4

/**
 * Holds the writes of one event-loop turn back and lets each socket's go out in one system call.
 *
 * A socket is corked at its first message of a turn and uncorked once, from `setImmediate`, after every
 * promise continuation of that turn has run (or sooner, once the oldest held write is {@link MAX_HOLD_MS}
 * old). When the API keeps up, that is one message per socket, as before; when it falls behind (several
 * epochs waiting), each subscriber's waiting messages leave in one `writev` instead of one each, so the cost
 * per message falls just when the stream is the busiest. The socket write was a third of the API's busy time
 * with 100 subscribers (bench/README.md, training (b)).
 */
class TurnCorker {
  private readonly corked = new Set<Socket>()
  private openedAt = 0
  private scheduled = false

  cork(socket: Socket): void {
    if (this.corked.size > 0 && performance.now() - this.openedAt > MAX_HOLD_MS) this.flush()
    if (this.corked.has(socket)) return
    if (this.corked.size === 0) this.openedAt = performance.now()
    socket.cork()
    this.corked.add(socket)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => {
        this.scheduled = false
        this.flush()
      })
    }
  }

  private flush(): void {
    const sockets = [...this.corked]
    this.corked.clear()
    for (const socket of sockets) socket.uncork()
  }
}

/**
 * graphql-ws's `useServer` (graphql-ws/use/ws) with two changes to how messages are written, the protocol
 * and the hooks being makeServer's own:
 * - a send does not wait for its write to complete (graphql-ws awaits it before it takes the subscriber's
 *   next event), unless the socket has {@link HIGH_WATER_BYTES} queued;
 * - writes are gathered per socket over one event-loop turn ({@link TurnCorker}).
 * Order is kept: every message of a socket goes through that socket's one ws sender.
 */
export function serveGraphqlWs<P extends ConnectionInitMessage['payload'] = ConnectionInitMessage['payload']>(
  options: ServerOptions<P, WsExtra>,
  ws: WebSocketServer,
  keepAliveMs: number,
  onInternalError: (err: unknown) => void,
): Disposable {
  const server = makeServer<P, WsExtra>(options)
  const corker = new TurnCorker()
  ws.options.handleProtocols = handleProtocols
  ws.on('connection', (socket: WebSocket, request: http.IncomingMessage) => {
    // For an upgrade the request's socket is the one ws writes to.
    const raw = request.socket
    // A socket error, or a message the server failed on: the connection ends, the error goes to the log.
    const fail = (err: unknown) => {
      socket.close(CloseCode.InternalServerError, 'Internal server error')
      onInternalError(err)
    }
    socket.once('error', fail)
    let pongWait: NodeJS.Timeout | null = null
    const pingInterval =
      keepAliveMs > 0 && Number.isFinite(keepAliveMs)
        ? setInterval(() => {
            if (socket.readyState !== socket.OPEN) return
            pongWait = setTimeout(() => socket.terminate(), keepAliveMs)
            socket.once('pong', () => {
              if (pongWait) clearTimeout(pongWait)
              pongWait = null
            })
            socket.ping()
          }, keepAliveMs)
        : null
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => {
          if (socket.readyState !== socket.OPEN) return
          corker.cork(raw)
          if (socket.bufferedAmount + data.length < HIGH_WATER_BYTES) {
            // A failed write closes the socket (ws emits 'close'), which ends the subscriptions.
            socket.send(data)
            return
          }
          return new Promise<void>((resolve, reject) =>
            socket.send(data, (err) => (err ? reject(err) : resolve())),
          )
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) =>
          socket.on('message', async (event: Buffer | ArrayBuffer | Buffer[]) => {
            try {
              await cb(String(event))
            } catch (err) {
              fail(err)
            }
          }),
      },
      { socket, request },
    )
    socket.once('close', (code: number, reason: Buffer) => {
      if (pongWait) clearTimeout(pongWait)
      if (pingInterval) clearInterval(pingInterval)
      void closed(code, String(reason))
    })
  })
  return {
    dispose: async () => {
      for (const client of ws.clients) client.close(1001, 'Going away')
      ws.removeAllListeners()
      await new Promise<void>((resolve, reject) => ws.close((err) => (err ? reject(err) : resolve())))
    },
  }
}
