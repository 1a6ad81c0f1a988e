/**
 * The composition root of a running server: open and migrate the stores, build the logger,
 * service, authenticator and app, then listen. Returns a handle that shuts everything down.
 */
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { buildApp } from './api/app.js'
import type { Authenticator } from './auth/principal.js'
import { loadTokenFile } from './auth/token-file.js'
import type { ServeConfig } from './config.js'
import { AppError } from './domain/errors.js'
import type { ActionService } from './domain/action-service.js'
import { createActionService } from './local-service.js'
import { createLogger } from './security/redacting-logger.js'
import type { ActionStore } from './store/action-store.js'
import { openStores } from './store/open-store.js'

/** A listening server. */
export interface RunningServer {
  app: FastifyInstance
  store: ActionStore
  /** The service the app writes through; embedders and `serve --demo` use the same one. */
  service: ActionService
  logger: Logger
  /** The base URL, e.g. http://127.0.0.1:8774 */
  url: string
  close(): Promise<void>
}

/** Starts the server for a configuration; `authenticator` overrides the token file (tests). */
export async function startServer(
  config: ServeConfig,
  authenticator?: Authenticator,
): Promise<RunningServer> {
  // The logger first, so that a warning about the token file reaches the server's log.
  const { logger } = createLogger({
    level: config.logLevel,
    ...(config.logKey ? { key: config.logKey } : {}),
  })
  const auth =
    authenticator ??
    (config.tokenFile
      ? await loadTokenFile(config.tokenFile, {
          strict: config.tokensStrict === true,
          warn: (message) => logger.warn(message),
        })
      : undefined)
  if (!auth)
    throw new AppError(
      'invalid_input',
      'a token file is required: set ACTIONTRAIL_TOKENS or --tokens',
    )
  // One database, two stores: the audit trail behind the service, remembered answers for the
  // write API's Idempotency-Keys; closing the stores closes both.
  const stores = await openStores(config.database, { onLost: (message) => logger.error(message) })
  const service = createActionService(stores.actions)
  const app = await buildApp({
    service,
    authenticator: auth,
    logger,
    idempotency: stores.idempotency,
    ...(config.httpLimits ? { httpLimits: config.httpLimits } : {}),
    readinessProbe: () => stores.ready(),
    ...(config.idempotencyLimits ? { idempotencyLimits: config.idempotencyLimits } : {}),
    ...(config.cursorSecret ? { cursorKey: Buffer.from(config.cursorSecret, 'utf8') } : {}),
    stream: { feed: stores.changes, ...(config.stream ? { settings: config.stream } : {}) },
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
  return {
    app,
    store: stores.actions,
    service,
    logger,
    url: `http://${host}:${port}`,
    async close() {
      await app.close()
      await stores.close()
      logger.flush()
    },
  }
}
