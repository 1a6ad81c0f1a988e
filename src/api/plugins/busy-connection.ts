/**
 * The idle timeout (`HttpLimits.idleTimeoutMs`) closes a connection on which nothing moves, meant
 * for a client that stops reading its answer. While the server itself works on a request — a
 * 100,000-operation batch, a write waiting for another process's SQLite lock — nothing moves
 * either, and Node would close the connection without an answer although the writes commit: the
 * client sees a failure for work that was done. Found by the crash suite: a two-chunk batch on a
 * loaded machine took 246 s, past the 120 s default. So the socket's idle timer is paused from
 * the handler's start to the answer's start. Receiving the body stays bounded by the request
 * timeout, sending the answer by the idle timeout again.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/** Options of busyConnectionPlugin. */
export interface BusyConnectionOptions {
  /** The idle timeout restored once the answer starts. */
  idleTimeoutMs: number
}

function setIdleTimeout(request: FastifyRequest, ms: number): void {
  // An injected request (app.inject) has a stand-in socket without timers.
  const socket = request.raw.socket as { setTimeout?: (ms: number) => unknown } | undefined
  if (typeof socket?.setTimeout === 'function') socket.setTimeout(ms)
}

/** Pauses the connection's idle timer while a request is being worked on. */
export const busyConnectionPlugin = fp<BusyConnectionOptions>(
  async (app: FastifyInstance, { idleTimeoutMs }) => {
    app.addHook('preHandler', async (request) => {
      setIdleTimeout(request, 0)
    })
    app.addHook('onSend', async (request) => {
      setIdleTimeout(request, idleTimeoutMs)
    })
  },
  { name: 'actiontrail-busy-connection' },
)
