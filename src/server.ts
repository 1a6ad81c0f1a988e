/**
 * The composition root of a running server: open and migrate the stores, build the logger,
 * service, authenticator and app, then listen. Returns a handle that shuts everything down.
 */
import { readFile } from 'node:fs/promises'
import {
  DEFAULT_CHECKPOINT_INTERVAL_S,
  startPeriodicCheckpoints,
} from './store/chain/periodic-checkpoints.js'
import { loadSigningKey, type SigningKey } from './security/chain/checkpoint-signature.js'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { buildApp } from './api/app.js'
import { loadAccessPolicy } from './auth/policy-file.js'
import type { Authenticator } from './auth/principal.js'
import { createAuthenticator } from './auth/create-authenticator.js'
import type { ReloadResult } from './auth/reloading-token-file.js'
import { AccessAudit } from './api/plugins/access-audit.js'
import type { ServeConfig } from './config.js'
import type { ActionService } from './domain/action-service.js'
import { createActionService } from './local-service.js'
import type { NovaFollower } from './nova/follow/nova-follower.js'
import { startFollower } from './nova/follow/start-follower.js'
import { RetentionJob } from './retention/retention-job.js'
import { retentionCheckpoint } from './retention/retention-checkpoint.js'
import type { RetentionCounts } from './store/write/retention-programs.js'
import { createLogger } from './security/redacting-logger.js'
import type { ActionStore } from './store/action-store.js'
import { openStores } from './store/open-store.js'
import { ServiceMetrics, STUCK_CAP } from './metrics/service-metrics.js'
import { stuckDeadlines, type StuckPolicy } from './domain/stuck-work.js'
import { AppError } from './domain/errors.js'
import { systemClock } from './domain/timestamp.js'

/** How often a scrape may count the stuck actions again (a bounded query; scrapes come often). */
const STUCK_COUNT_TTL_MS = 30_000

/**
 * The metrics' stuck-actions count: the query API's `state=stuck` search, up to STUCK_CAP rows,
 * at most once per STUCK_COUNT_TTL_MS; a failed count leaves the gauge as it was.
 */
function stuckCounter(store: ActionStore, policy: StuckPolicy): () => Promise<number | undefined> {
  let cached: { at: number; count: number } | undefined
  return async () => {
    const now = Date.now()
    if (cached && now - cached.at < STUCK_COUNT_TTL_MS) return cached.count
    try {
      const found = await store.searchActions({
        stuck: stuckDeadlines(policy, systemClock().now()),
        limit: STUCK_CAP,
      })
      cached = { at: now, count: found.length }
      return cached.count
    } catch {
      return undefined
    }
  }
}

/** The certificate and key of ACTIONTRAIL_TLS_CERT / _KEY; a file that cannot be read is named. */
async function readTls(files: { certFile: string; keyFile: string }) {
  const read = async (path: string, variable: string) => {
    try {
      return await readFile(path)
    } catch (err) {
      throw new Error(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`)
    }
  }
  return {
    cert: await read(files.certFile, 'ACTIONTRAIL_TLS_CERT'),
    key: await read(files.keyFile, 'ACTIONTRAIL_TLS_KEY'),
  }
}

/** A listening server. */
export interface RunningServer {
  app: FastifyInstance
  store: ActionStore
  /** The service the app writes through; embedders and `serve --demo` use the same one. */
  service: ActionService
  logger: Logger
  /** The base URL, e.g. http://127.0.0.1:8774 */
  url: string
  /** Counts the requests refused with 401 and 403. */
  accessAudit: AccessAudit
  /**
   * Re-reads the token file (static mode; SIGHUP does the same); undefined in the other modes.
   * A broken file keeps the tokens in use.
   */
  reloadTokens?: () => Promise<ReloadResult>
  /** The Nova notification follower, when ACTIONTRAIL_NOVA_AMQP_URL is set (`config.novaFollow`). */
  follower?: NovaFollower
  /** The retention job, when a keep period is configured (`config.retention`). */
  retention?: RetentionJob
  close(): Promise<void>
}

/**
 * Starts the server for a configuration; `authenticator` overrides the configured mode (tests,
 * `serve --demo`). In static mode, SIGHUP re-reads the token file.
 */
export async function startServer(
  config: ServeConfig,
  authenticator?: Authenticator,
): Promise<RunningServer> {
  // The logger first, so that a warning about the token file reaches the server's log.
  const { logger } = createLogger({
    level: config.logLevel,
    ...(config.logKey ? { key: config.logKey } : {}),
  })
  // Before the database: a policy file that does not load stops start-up, naming line and reason.
  const policy = await loadAccessPolicy(config.policyFile, (message) => logger.warn(message))
  const configured = authenticator ? { authenticator } : await createAuthenticator(config, logger)
  const auth = configured.authenticator
  const accessAudit = new AccessAudit()
  // One database, two stores: the audit trail behind the service, remembered answers for the
  // write API's Idempotency-Keys; closing the stores closes both.
  // Read before the database is opened: a missing or unreadable file stops start-up, named.
  const tls = config.tls ? await readTls(config.tls) : undefined
  // Before the database too: a signing key that does not load stops start-up.
  const signingKey = config.signingKey ? loadKey(config.signingKey) : undefined
  const metrics = new ServiceMetrics()
  const stores = await openStores(config.database, {
    onLost: (message) => logger.error(message),
    commitObserver: metrics,
    ...(config.chain === false ? { chain: false } : {}),
    ...(config.read ? { read: config.read } : {}),
    onReplicaChange: (message, usable) => (usable ? logger.info(message) : logger.warn(message)),
  })
  if (config.chain === false)
    logger.warn(
      'ACTIONTRAIL_BENCH_UNCHAINED=1: writes do not extend the hash chain (benchmarks only)',
    )
  // The query API's reads may be served by the read replica (stores.queries); the rest reads the
  // primary, which has every write this process acknowledged.
  const service = createActionService(stores.actions, undefined, stores.queries)
  metrics.attach({
    ...(stores.poolStats ? { pool: stores.poolStats } : {}),
    stuck: stuckCounter(stores.actions, config.stuck),
    ...(stores.replica ? { replica: stores.replica } : {}),
  })
  const app = await buildApp({
    service,
    authenticator: auth,
    policy,
    logger,
    idempotency: stores.idempotency,
    accessAudit,
    ...(config.httpLimits ? { httpLimits: config.httpLimits } : {}),
    readinessProbe: () => stores.ready(),
    ...(config.idempotencyLimits ? { idempotencyLimits: config.idempotencyLimits } : {}),
    ...(config.cursorSecret ? { cursorKey: Buffer.from(config.cursorSecret, 'utf8') } : {}),
    stuck: config.stuck,
    stream: {
      feed: stores.changes,
      ...(stores.replica ? { catchUp: stores.replica.pinned } : {}),
      ...(config.stream ? { settings: config.stream } : {}),
    },
    metrics,
    ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    ...(config.trustProxy !== undefined ? { trustProxy: config.trustProxy } : {}),
    ...(tls ? { tls } : {}),
    ...(config.overload ? { overload: config.overload } : {}),
    ...(config.rateLimit ? { rateLimit: config.rateLimit } : {}),
    checkpoints: stores.checkpoints,
  })
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (err) {
    await app.close()
    await stores.close()
    throw err
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  const reload = configured.reload
  const onHangup = () => {
    if (!reload) return
    void reload().then((result) => {
      if (result.ok) logger.info({ tokens: result.tokens }, 'token file reloaded')
      else logger.error(`token file not reloaded, the previous tokens stay: ${result.reason}`)
    })
  }
  if (reload) process.on('SIGHUP', onHangup)
  // After listening: a broker that is not there yet is retried in the background and never keeps
  // the API from serving.
  const follower = config.novaFollow ? startFollower(service, config.novaFollow, logger) : undefined
  if (follower) metrics.attach({ follower: () => follower.counters })
  const clock = systemClock()
  const retention = config.retention
    ? new RetentionJob(stores.retention, config.retention, logger, {
        ...(signingKey
          ? {
              onRemoved: (reason: 'archive' | 'purge', counts: RetentionCounts) =>
                retentionCheckpoint(stores.checkpoints, signingKey, {
                  reason,
                  before: 'the keep-days policy',
                  counts,
                  now: clock.now(),
                }),
            }
          : {}),
      })
    : undefined
  retention?.start()
  const checkpointing = signingKey
    ? startPeriodicCheckpoints({
        log: stores.checkpoints,
        key: signingKey,
        intervalMs: (config.checkpointIntervalS ?? DEFAULT_CHECKPOINT_INTERVAL_S) * 1000,
        now: () => clock.now(),
        onWritten: (c) => logger.info({ position: c.position }, 'checkpoint written'),
        onError: (err) =>
          logger.warn(`checkpoint not written (tried again later): ${(err as Error).message}`),
      })
    : undefined
  return {
    app,
    store: stores.actions,
    service,
    logger,
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    accessAudit,
    ...(reload ? { reloadTokens: reload } : {}),
    ...(follower ? { follower } : {}),
    ...(retention ? { retention } : {}),
    async close() {
      process.off('SIGHUP', onHangup)
      // Its current batch ends (commits or rolls back) before the database closes.
      await retention?.stop()
      checkpointing?.stop()
      // First, so that the notifications being handled are committed and acknowledged.
      await follower?.stop()
      await app.close()
      await stores.close()
      logger.flush()
    },
  }
}

/** The signing key, or a start-up failure naming the setting (never the key). */
function loadKey(file: string): SigningKey {
  try {
    return loadSigningKey(file)
  } catch (err) {
    throw new AppError('invalid_input', `ACTIONTRAIL_SIGNING_KEY: ${(err as Error).message}`)
  }
}
