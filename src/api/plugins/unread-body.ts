/**
 * An answer sent before the request's body has arrived (a 401 from the authentication hook, a
 * 413 or 415 before parsing) closes the connection. Node would otherwise keep the connection
 * alive and read the rest of the body to throw it away — for as long as the client keeps
 * sending, one byte every 20 s included (issue 9).
 */
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** Adds `Connection: close` to every answer whose request body is still arriving. */
export const unreadBodyPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onSend', async (request, reply) => {
      // `complete` turns true once Node has received the whole message; a request without a body
      // is complete before any hook runs, a body every route reads is complete before its handler.
      if (!request.raw.complete) reply.header('connection', 'close')
    })
  },
  { name: 'actiontrail-unread-body' },
)
