/**
 * Request ids: every request gets a fresh `req-<uuid>` (Nova's form), bound to its log lines by
 * Fastify and returned in `x-openstack-request-id` and `x-compute-request-id`.
 *
 * A caller's own `X-OpenStack-Request-ID` is taken as the request's global request id, as Nova's
 * request-id middleware and oslo.context do: only in the exact `req-<uuid>` form (anything else is
 * ignored, so a header cannot inject text into the logs), never as the local id (which stays
 * ours and unique), and bound to the request's log lines as `global_request_id` — which the
 * redacting logger writes as its keyed tag, like every id (`actiontrail log-tag` computes it).
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

/** The form oslo.context accepts for an inbound global request id. */
const GLOBAL_REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The caller's global request id, when its X-OpenStack-Request-ID header is one. */
export function globalRequestId(request: FastifyRequest): string | undefined {
  const value = request.headers['x-openstack-request-id']
  return typeof value === 'string' && GLOBAL_REQUEST_ID.test(value) ? value : undefined
}

/** Adds the request-id headers to every answer and binds a caller's global request id to the log. */
export const requestIdPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', async (request, reply) => {
      setRequestIdHeaders(request, reply)
      const global = globalRequestId(request)
      if (global !== undefined) request.log = request.log.child({ global_request_id: global })
    })
  },
  { name: 'actiontrail-request-id' },
)
