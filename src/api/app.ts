/**
 * buildApp(deps): the HTTP application, assembled explicitly in one place — infrastructure plugins
 * (request ids, authentication, the response log), then the two API surfaces, each an
 * encapsulated plugin with its own error format: the Nova-compatible compute surface at the root
 * (`compute/`) and ActionTrail's own API under `/v1` (`v1/`), and the Action Log web page under
 * `/ui` (`ui/`). It never listens, so tests drive it with `app.inject`.
 */
import type { CheckpointLog } from '../store/chain/checkpoint-log.js'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { DEFAULT_POLICY, type AccessPolicy } from '../auth/access-policy.js'
import type { Authenticator } from '../auth/principal.js'
import type { ActionService } from '../domain/action-service.js'
import { systemClock, type Clock } from '../domain/timestamp.js'
import { clientErrorAnswers } from './client-errors.js'
import { computeSurface } from './compute/index.js'
import {
  applyConnectionCap,
  DEFAULT_HTTP_LIMITS,
  fastifyLimitOptions,
  type HttpLimits,
} from './http-limits.js'
import { AccessAudit, accessAuditPlugin } from './plugins/access-audit.js'
import { authenticationPlugin } from './plugins/authentication.js'
import { busyConnectionPlugin } from './plugins/busy-connection.js'
import { healthRoutes } from './plugins/health.js'
import { metricsPlugin } from './plugins/metrics.js'
import { publicUrlPlugin } from './plugins/public-url.js'
import { rateLimitPlugin, type RateLimitSettings } from './plugins/rate-limit.js'
import { DEFAULT_OVERLOAD_LIMITS, overloadPlugin, type OverloadLimits } from './plugins/overload.js'
import { ServiceMetrics } from '../metrics/service-metrics.js'
import { generateRequestId, requestIdPlugin } from './plugins/request-id.js'
import { responseLogPlugin } from './plugins/response-log.js'
import { unreadBodyPlugin } from './plugins/unread-body.js'
import { UI_PREFIX, uiSurface } from './ui/index.js'
import { routerErrorHandler } from './router-errors.js'
import type { StuckPolicy } from '../domain/stuck-work.js'
import type { IdempotencyStore } from './v1/idempotency.js'
import type { IdempotencyLimits } from './v1/idempotency-limits.js'
import { V1_PREFIX, v1Surface } from './v1/index.js'
import {
  DEFAULT_STREAM_SETTINGS,
  type CatchUpReads,
  type StreamSettings,
} from './v1/stream/stream-hub.js'
import type { ChangeFeed } from '../store/change-feed.js'
import { KeystoneAuthenticator, keystoneV3Url } from '../auth/keystone/keystone-authenticator.js'

/** Everything the application needs, built by the caller. */
export interface AppDeps {
  service: ActionService
  authenticator: Authenticator
  /** The access policy (defaults + ACTIONTRAIL_POLICY_FILE); the defaults when absent. */
  policy?: AccessPolicy
  logger: Logger
  /** Where the write API remembers answers to requests sent with an Idempotency-Key (the store). */
  idempotency: IdempotencyStore
  /** Source of "now" for idempotency expiry; the system clock unless a test moves time. */
  clock?: Clock
  /** Caps on remembered Idempotency-Key answers; DEFAULT_IDEMPOTENCY_LIMITS for those not given. */
  idempotencyLimits?: Partial<IdempotencyLimits>
  /** The liveness probe of `/healthz`; by default a trivial store read through the service. */
  healthProbe?: () => Promise<unknown>
  /** Connection timeouts and cap; DEFAULT_HTTP_LIMITS unless the configuration says otherwise. */
  httpLimits?: HttpLimits
  /**
   * The readiness probe of `/readyz` (the stores' `ready`: a query and, on SQLite, the file
   * identity check); the liveness probe when absent.
   */
  readinessProbe?: () => Promise<unknown>
  /** Signs the query API's cursors (ACTIONTRAIL_CURSOR_SECRET); random per process when absent. */
  cursorKey?: Buffer
  /** Counts refused requests (401, 403); a fresh one when absent. */
  accessAudit?: AccessAudit
  /** How long work may run before the query API's `state=stuck` finds it (config: stuck-after). */
  stuck?: StuckPolicy
  /**
   * The change feed behind `GET /v1/stream` (the stores' `changes`) and the stream's settings
   * (DEFAULT_STREAM_SETTINGS for those not given); without a feed there is no stream route.
   * `catchUp` serves resuming subscribers' pages (a read replica); the feed when absent.
   */
  stream?: { feed: ChangeFeed; catchUp?: CatchUpReads; settings?: Partial<StreamSettings> }
  /**
   * The Prometheus metrics (`GET /metrics`); a fresh set when absent. The server passes the one
   * its store reports commits to.
   */
  metrics?: ServiceMetrics
  /** The bearer token `GET /metrics` requires (ACTIONTRAIL_METRICS_TOKEN); none when absent. */
  metricsToken?: string
  /** Where clients reach the server, for the links it writes (ACTIONTRAIL_PUBLIC_URL). */
  publicUrl?: string
  /**
   * The proxies whose X-Forwarded-* headers are believed (ACTIONTRAIL_TRUST_PROXY: Fastify's
   * `trustProxy` — true for any, or a comma-separated list of addresses and CIDRs); none when absent.
   */
  trustProxy?: boolean | string
  /** When the server counts as overloaded (plugins/overload.ts); DEFAULT_OVERLOAD_LIMITS when absent. */
  overload?: OverloadLimits
  /** Serve HTTPS with this certificate and key (ACTIONTRAIL_TLS_CERT/_KEY); HTTP when absent. */
  tls?: { cert: Buffer; key: Buffer }
  /** The hash chain's checkpoints behind `GET /v1/checkpoints`; without them there is no route. */
  checkpoints?: CheckpointLog
  /** The Action Log page's built files (`web/dist` at the package root when absent). */
  webAssetsDir?: string
  /**
   * The per-principal rate limit (ACTIONTRAIL_RATE_LIMIT, _BURST; plugins/rate-limit.ts); no limit
   * when absent.
   */
  rateLimit?: RateLimitSettings
  /**
   * Keystone mode: `/readyz` answers 503 once Keystone has not answered for this long and does not
   * answer a light request either (DEFAULT_KEYSTONE_READY_WITHIN_MS when absent).
   */
  keystoneReadyWithinMs?: number
}

/**
 * How recently Keystone must have answered for a Keystone-mode node to be ready: long enough that
 * a busy node's own validations keep it ready without extra requests, short enough that a load
 * balancer stops sending to a node cut off from Keystone within a few probe periods.
 */
export const DEFAULT_KEYSTONE_READY_WITHIN_MS = 30_000

// The readiness check's own request to Keystone: within the health route's 2 s bound.
const KEYSTONE_PROBE_TIMEOUT_MS = 1500

/**
 * The stream's settings, its subscriber cap kept below the connection cap (streams hold their
 * connections: a tenth of the connections, at least one, stays for writes and queries) and its
 * heartbeat at most half the idle timeout.
 */
export function streamSettings(
  given: Partial<StreamSettings> | undefined,
  limits: HttpLimits,
): StreamSettings {
  const settings = { ...DEFAULT_STREAM_SETTINGS, ...given }
  const reserve = Math.max(1, Math.ceil(limits.maxConnections / 10))
  settings.maxSubscribers = Math.max(
    0,
    Math.min(settings.maxSubscribers, limits.maxConnections - reserve),
  )
  // A quiet stream must move before the idle timeout closes its connection.
  settings.heartbeatMs = Math.max(
    1,
    Math.min(settings.heartbeatMs, Math.floor(limits.idleTimeoutMs / 2)),
  )
  return settings
}

// A well-formed UUID that no instance has: looking it up is the cheapest real store query.
const PROBE_UUID = '00000000-0000-4000-8000-000000000000'

/** Builds the ActionTrail HTTP application. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const limits = deps.httpLimits ?? DEFAULT_HTTP_LIMITS
  const policy = deps.policy ?? DEFAULT_POLICY
  const clientErrors = clientErrorAnswers(deps.logger as FastifyBaseLogger)
  const accessAudit = deps.accessAudit ?? new AccessAudit()
  const app = Fastify({
    ...fastifyLimitOptions(limits),
    // Headers too large, a malformed request, a request timeout: answered in the surface's format.
    clientErrorHandler: clientErrors.handler,
    loggerInstance: deps.logger as FastifyBaseLogger,
    // responseLogPlugin logs the route template, never the raw URL with its ids.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: generateRequestId,
    routerOptions: { maxParamLength: 1024 },
    return503OnClosing: true,
    ...(deps.trustProxy !== undefined ? { trustProxy: deps.trustProxy } : {}),
    // The HTTPS server has the HTTP server's timeouts and events at run time; Fastify's types
    // would make every plugin generic over the server type for it, hence the cast.
    ...((deps.tls ? { https: deps.tls } : {}) as Record<string, never>),
    // The router rejects an undecodable path (`%zz`) or an over-long segment before any hook or
    // error handler runs; those are answered in the surface's format too.
    frameworkErrors: routerErrorHandler(deps.authenticator, accessAudit),
  })

  clientErrors.track(app.server)
  applyConnectionCap(app.server, limits, app.log)

  // Answers are serialized with JSON.stringify, not from the response schemas: Nova's key order
  // and shapes vary by microversion and must come out exactly as the views build them. The schemas
  // document the answers, and the API suites check every answer against them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))

  const metrics = deps.metrics ?? new ServiceMetrics()
  metrics.attach({ denied: () => accessAudit.totals() })

  await app.register(requestIdPlugin)
  await app.register(overloadPlugin, deps.overload ?? DEFAULT_OVERLOAD_LIMITS)
  await app.register(publicUrlPlugin, deps.publicUrl ? { publicUrl: deps.publicUrl } : {})
  await app.register(metricsPlugin, {
    metrics,
    ...(deps.metricsToken ? { token: deps.metricsToken } : {}),
  })
  await app.register(authenticationPlugin, { authenticator: deps.authenticator })
  if (deps.rateLimit) await app.register(rateLimitPlugin, { settings: deps.rateLimit, metrics })
  await app.register(responseLogPlugin)
  await app.register(accessAuditPlugin, { audit: accessAudit })
  await app.register(unreadBodyPlugin)
  await app.register(busyConnectionPlugin, { idleTimeoutMs: limits.idleTimeoutMs })

  // In Keystone mode the page signs in through this server (Keystone sends no CORS headers), and
  // a node cut off from Keystone is not ready.
  const keystone =
    deps.authenticator instanceof KeystoneAuthenticator ? deps.authenticator : undefined
  const liveness = deps.healthProbe ?? (() => deps.service.getInstance(PROBE_UUID))
  const storeReady = deps.readinessProbe ?? liveness
  const keystoneWithin = deps.keystoneReadyWithinMs ?? DEFAULT_KEYSTONE_READY_WITHIN_MS
  await app.register(healthRoutes, {
    probe: liveness,
    readinessProbe: keystone
      ? () =>
          Promise.all([
            storeReady(),
            keystone.assertAnsweredWithin(
              keystoneWithin,
              Math.min(keystone.timeoutMs, KEYSTONE_PROBE_TIMEOUT_MS),
            ),
          ])
      : storeReady,
  })
  await app.register(computeSurface, { service: deps.service, policy })
  await app.register(v1Surface, {
    prefix: V1_PREFIX,
    service: deps.service,
    policy,
    idempotency: deps.idempotency,
    clock: deps.clock ?? systemClock(),
    ...(deps.idempotencyLimits ? { idempotencyLimits: deps.idempotencyLimits } : {}),
    ...(deps.cursorKey ? { cursorKey: deps.cursorKey } : {}),
    ...(deps.stuck ? { stuck: deps.stuck } : {}),
    ...(deps.checkpoints ? { checkpoints: deps.checkpoints } : {}),
    ...(deps.stream
      ? {
          stream: {
            feed: deps.stream.feed,
            ...(deps.stream.catchUp ? { catchUp: deps.stream.catchUp } : {}),
            settings: streamSettings(deps.stream.settings, limits),
            metrics,
          },
        }
      : {}),
  })
  await app.register(uiSurface, {
    prefix: UI_PREFIX,
    ...(deps.webAssetsDir ? { assetsDir: deps.webAssetsDir } : {}),
    ...(keystone
      ? { keystone: { url: keystoneV3Url(keystone.identityUri), timeoutMs: keystone.timeoutMs } }
      : {}),
  })
  return app
}
