/**
 * Per-principal rate limits (issue 14 item 7; ACTIONTRAIL_RATE_LIMIT, off by default): a token
 * bucket per authenticated caller — user, project and scope, so that fetching more tokens buys no
 * more requests — checked right after authentication. A caller over its rate gets 429
 * `rate_limited` with `Retry-After` (whole seconds) in its surface's format: `/v1` and `/ui` their
 * error body, the compute surface Nova's `overLimit` fault with `retryAfter`.
 *
 * Requests without a principal are not limited here: public routes (health, readiness, metrics,
 * version discovery, the OpenAPI documents, the page's files) must answer probes and scrapes
 * whatever the load, and a request with no valid token is refused by authentication before it
 * does any work. Keying those by client address was rejected: behind a proxy without
 * ACTIONTRAIL_TRUST_PROXY every client has the proxy's address, and one noisy client would lock
 * out all of them.
 */
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Principal } from '../../auth/principal.js'
import { AppError } from '../../domain/errors.js'
import type { ServiceMetrics } from '../../metrics/service-metrics.js'
import { BucketMap } from '../rate-limit/bucket-map.js'
import { retryAfterSeconds, type BucketSettings } from '../rate-limit/token-bucket.js'
import { UI_PREFIX } from '../ui/index.js'
import { V1_PREFIX } from '../v1/index.js'
import '../fastify-augment.js'

/** The limit: requests per second and burst per principal, and how many buckets are kept. */
export interface RateLimitSettings extends BucketSettings {
  /** Most principals tracked at once (DEFAULT_MAX_BUCKETS when absent); see bucket-map.ts. */
  maxBuckets?: number
}

/** Options of the rate-limit plugin. */
export interface RateLimitOptions {
  settings: RateLimitSettings
  metrics: ServiceMetrics
  /** Milliseconds now; Date.now when absent. */
  now?: () => number
}

/** The message of a 429 (Nova's rate-limit fault said the same). */
export const RATE_LIMITED_MESSAGE = 'This request was rate-limited.'

/**
 * The bucket key of a principal: a digest, so that a key's size is fixed whatever the ids, and the
 * map holds no ids in clear.
 */
function keyOf(p: Principal): string {
  const identity = [p.userId, p.projectId, p.domainId ?? '', p.systemScope ?? ''].join('\0')
  return createHash('sha256').update(identity, 'utf8').digest('base64')
}

/** The metric label of the surface a path belongs to (a closed set: never a path). */
export function surfaceOf(request: FastifyRequest): 'v1' | 'ui' | 'compute' {
  const path = request.url.split('?')[0] ?? '/'
  if (path === V1_PREFIX || path.startsWith(`${V1_PREFIX}/`)) return 'v1'
  if (path === UI_PREFIX || path.startsWith(`${UI_PREFIX}/`)) return 'ui'
  return 'compute'
}

/**
 * Limits each authenticated caller; register it after the authentication plugin (its hook runs
 * after the principal is set, and before the route's own hooks read the body).
 */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, { settings, metrics, now = Date.now }: RateLimitOptions) => {
    const buckets = new BucketMap(settings, settings.maxBuckets)
    app.addHook('onRequest', async (request, reply) => {
      if (!request.principal) return
      const taken = buckets.take(keyOf(request.principal), now())
      if (taken.ok) return
      metrics.rateLimited(surfaceOf(request))
      // The surface's error handler renders the error and keeps this header (Nova's fault repeats it).
      reply.header('retry-after', String(retryAfterSeconds(taken.retryAfterMs)))
      throw new AppError('rate_limited', RATE_LIMITED_MESSAGE)
    })
  },
  { name: 'actiontrail-rate-limit', dependencies: ['actiontrail-authentication'] },
)
