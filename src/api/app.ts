/**
 * buildApp(deps): the HTTP application, assembled explicitly in one place — request ids, auth,
 * microversion negotiation, routes, then the error and not-found handlers. It never listens, so
 * tests drive it with `app.inject`. Errors are answered in Nova's fault format, except under /v1
 * (ActionTrail's write API), which has its own (see errors.ts).
 */
import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { Authenticator } from '../auth/principal.js'
import type { ActionService } from '../domain/action-service.js'
import { isAppError } from '../domain/errors.js'
import { systemClock, type Clock } from '../domain/timestamp.js'
import {
  appErrorAnswer,
  clientErrorAnswer,
  FAULT_CONTENT_TYPE,
  faultBody,
  INTERNAL_ANSWER,
  isV1Path,
  V1_CONTENT_TYPE,
  v1ErrorBody,
  type ErrorAnswer,
} from './errors.js'
import { formatVersion, negotiateVersion, UnsupportedVersionError, type ApiVersion } from './microversion.js'
import { isPublicPath } from './request-state.js'
import { instanceActionRoutes } from './routes/instance-actions.js'
import { serverRoutes } from './routes/servers.js'
import { v1Routes } from './routes/v1/index.js'
import { versionRoutes } from './routes/versions.js'
import type { IdempotencyStore } from './v1/idempotency.js'

/** Everything the application needs, built by the caller. */
export interface AppDeps {
  service: ActionService
  authenticator: Authenticator
  logger: Logger
  /** Where the write API remembers answers to requests sent with an Idempotency-Key (the store). */
  idempotency: IdempotencyStore
  /** Source of "now" for idempotency expiry; the system clock unless a test moves time. */
  clock?: Clock
}

function setVersionHeaders(reply: FastifyReply, version: ApiVersion): void {
  const text = formatVersion(version)
  reply.header('OpenStack-API-Version', `compute ${text}`)
  reply.header('X-OpenStack-Nova-API-Version', text)
  reply.header('Vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version')
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? '/'
}

/** Sends an error in the format of the request's API: ActionTrail's under /v1, Nova's elsewhere. */
function sendError(request: FastifyRequest, reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  if (isV1Path(pathOf(request))) return reply.code(answer.status).type(V1_CONTENT_TYPE).send(v1ErrorBody(answer))
  return reply.code(answer.status).type(FAULT_CONTENT_TYPE).send(faultBody(answer.status, answer.message))
}

function setRequestIdHeaders(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-openstack-request-id', request.id)
  reply.header('x-compute-request-id', request.id)
}

/** Sets `request.principal`, or answers 401 and returns false. Public paths need no token. */
async function authenticate(authenticator: Authenticator, request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  if (isPublicPath(pathOf(request))) return true
  const token = request.headers['x-auth-token']
  const principal = typeof token === 'string' && token.length > 0 ? await authenticator.authenticate(token) : undefined
  if (!principal) {
    reply.header('WWW-Authenticate', `Keystone uri="${request.protocol}://${request.host}/"`)
    sendError(request, reply, { status: 401, code: 'unauthorized', message: 'The request you have made requires authentication.' })
    return false
  }
  request.principal = principal
  return true
}

/** Negotiates the microversion of a /v2.1 API request and echoes it; throws 400 / 406 AppErrors. */
function negotiate(request: FastifyRequest, reply: FastifyReply): void {
  const path = pathOf(request)
  if (isPublicPath(path) || !path.startsWith('/v2.1/')) return
  try {
    request.apiVersion = negotiateVersion(request.headers)
  } catch (err) {
    if (err instanceof UnsupportedVersionError) setVersionHeaders(reply, err.requested)
    throw err
  }
  setVersionHeaders(reply, request.apiVersion)
}

/** Builds the ActionTrail HTTP application. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const clock = deps.clock ?? systemClock()
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Our own onResponse line logs the route template, never the raw URL with its ids.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => `req-${randomUUID()}`,
    routerOptions: { maxParamLength: 1024 },
    return503OnClosing: true,
    // The router rejects an undecodable path (`%zz`) or an over-long segment before any hook or the
    // error handler runs; answer those in the API's error format too, after the same auth check.
    frameworkErrors: (err, request, reply) => {
      setRequestIdHeaders(request, reply)
      authenticate(deps.authenticator, request, reply)
        .then((ok) => {
          if (!ok) return
          try {
            negotiate(request, reply)
          } catch (versionErr) {
            if (isAppError(versionErr)) return sendError(request, reply, appErrorAnswer(versionErr))
            throw versionErr
          }
          // An over-long segment cannot be an id Nova knows: its router would find no such resource.
          if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
            return sendError(request, reply, { status: 404, code: 'not_found', message: 'The resource could not be found.' })
          }
          return sendError(request, reply, { status: 400, code: 'invalid_input', message: 'Malformed request URL.' })
        })
        .catch((unexpected: unknown) => {
          request.log.error({ err: unexpected }, 'unexpected error')
          if (!reply.sent) sendError(request, reply, INTERNAL_ANSWER)
        })
    },
  })

  app.addHook('onRequest', async (request, reply) => {
    setRequestIdHeaders(request, reply)
  })

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!(await authenticate(deps.authenticator, request, reply))) return reply
    negotiate(request, reply)
  })

  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request completed',
    )
  })

  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, { status: 404, code: 'not_found', message: 'The resource could not be found.' }),
  )

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (isAppError(err)) {
      const answer = appErrorAnswer(err)
      if (answer.status >= 500) request.log.error({ err }, 'request failed')
      return sendError(request, reply, answer)
    }
    // Fastify's own client errors (bad JSON, body too large, wrong media type, schema validation)
    // keep their 4xx status and message.
    const client = clientErrorAnswer(err)
    if (client) return sendError(request, reply, client)
    request.log.error({ err }, 'unexpected error')
    return sendError(request, reply, INTERNAL_ANSWER)
  })

  // Routes come after the handlers so that their encapsulated contexts inherit them.
  await app.register(versionRoutes)
  await app.register(serverRoutes(deps.service))
  await app.register(instanceActionRoutes(deps.service))
  await app.register(v1Routes({ service: deps.service, idempotency: deps.idempotency, clock }), { prefix: '/v1' })

  return app
}
