/**
 * An answer sent before the request's body has arrived (a 401 from the authentication hook, a
 * 413 or 415 before parsing, a router error) closes the connection. Node would otherwise keep the
 * connection alive and read the rest of the body to throw it away — for as long as the client
 * keeps sending, one byte every 20 s included (issue 9).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Adds `Connection: close` to the answer when the request's body is still arriving. Called by the
 * plugin's hook and by the router-error answers, which run no hook.
 */
export function closeIfBodyUnread(request: FastifyRequest, reply: FastifyReply): void {
  // `complete` turns true once Node has received the whole message; a request without a body is
  // complete before any hook runs, a body every route reads is complete before its handler. An
  // injected request (app.inject) has no connection and leaves `complete` undefined.
  if (request.raw.complete === false) reply.header('connection', 'close')
}

/** Closes the connection after every answer whose request body is still arriving. */
export const unreadBodyPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onSend', async (request, reply) => {
      closeIfBodyUnread(request, reply)
    })
  },
  { name: 'actiontrail-unread-body' },
)
