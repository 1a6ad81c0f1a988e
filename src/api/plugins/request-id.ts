/**
 * Request ids: every request gets a fresh `req-<uuid>` (Nova's form), bound to its log lines by
 * Fastify and returned in `x-openstack-request-id` and `x-compute-request-id`.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/** A new request id; Fastify's `genReqId`. */
export function generateRequestId(): string {
  return `req-${randomUUID()}`
}

/** Echoes the request id; also called for router-level errors, which run no hook. */
export function setRequestIdHeaders(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-openstack-request-id', request.id)
  reply.header('x-compute-request-id', request.id)
}

/** Adds the request-id headers to every answer. */
export const requestIdPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', async (request, reply) => {
      setRequestIdHeaders(request, reply)
    })
  },
  { name: 'actiontrail-request-id' },
)
