/**
 * Prometheus metrics (issue 14): every answered request is observed by route template, method and
 * status (never the raw URL, which carries instance and request ids), answers replayed for an
 * Idempotency-Key are counted, and `GET /metrics` serves the exposition text. It needs no
 * ActionTrail token (Prometheus scrapes with its own credentials): when a metrics token is set
 * (ACTIONTRAIL_METRICS_TOKEN), the scrape must send it as `Authorization: Bearer …`.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ServiceMetrics } from '../../metrics/service-metrics.js'
import { REPLAYED_HEADER } from '../v1/idempotency.js'

/** Options of the metrics plugin. */
export interface MetricsOptions {
  metrics: ServiceMetrics
  /** The bearer token a scrape must send; none needed when absent. */
  token?: string
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest()

/** Observes every answer and serves `GET /metrics`. */
export const metricsPlugin = fp(
  async (app: FastifyInstance, { metrics, token }: MetricsOptions) => {
    const expected = token === undefined ? undefined : digest(token)
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched'
      metrics.request(route, request.method, reply.statusCode, reply.elapsedTime / 1000)
      if (reply.getHeader(REPLAYED_HEADER) === 'true') metrics.replayed()
    })
    app.get(
      '/metrics',
      { config: { public: true }, schema: { hide: true } },
      async (request, reply) => {
        if (expected) {
          const header = request.headers.authorization ?? ''
          const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : ''
          // Digests of equal length, compared in constant time: the token's length leaks nothing.
          if (!timingSafeEqual(digest(given), expected))
            return reply
              .code(401)
              .header('www-authenticate', 'Bearer realm="actiontrail-metrics"')
              .type('text/plain; charset=utf-8')
              .send('A metrics token is required.\n')
        }
        const { text, contentType } = await metrics.scrape()
        return reply.type(contentType).send(text)
      },
    )
  },
  { name: 'actiontrail-metrics' },
)
