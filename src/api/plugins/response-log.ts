/**
 * One log line per answered request, with the route template (never the raw URL, which carries
 * instance and request ids), the status and the time taken.
 */
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** Logs `request completed` for every answer. */
export const responseLogPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onResponse', async (request, reply) => {
      request.log.info(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
        },
        'request completed',
      )
    })
  },
  { name: 'actiontrail-response-log' },
)
