/**
 * A server with nothing but `GET /metrics` (issue 14), for processes that have no API of their
 * own: `actiontrail follow-nova` run on its own (`--metrics-port`). The same metrics plugin as
 * `serve`'s, so the same exposition and the same optional bearer token (ACTIONTRAIL_METRICS_TOKEN).
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { metricsPlugin } from '../api/plugins/metrics.js'
import type { ServiceMetrics } from './service-metrics.js'

/** Where and how to serve the metrics. */
export interface MetricsServerOptions {
  host: string
  port: number
  /** The bearer token a scrape must send; none when absent. */
  token?: string
}

/** A listening metrics server. */
export interface MetricsServer {
  /** `http://host:port/metrics` */
  url: string
  close(): Promise<void>
}

/** Serves `metrics` at `http://host:port/metrics` until closed. */
export async function startMetricsServer(
  metrics: ServiceMetrics,
  options: MetricsServerOptions,
): Promise<MetricsServer> {
  const app: FastifyInstance = Fastify({ logger: false })
  await app.register(metricsPlugin, {
    metrics,
    ...(options.token ? { token: options.token } : {}),
  })
  await app.listen({ host: options.host, port: options.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return { url: `http://${host}:${port}/metrics`, close: () => app.close() }
}
