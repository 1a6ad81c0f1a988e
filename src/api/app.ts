/**
 * buildApp(deps): the HTTP application, assembled explicitly in one place — request ids, auth,
 * microversion negotiation, routes, then the error and not-found handlers. It never listens, so
 * tests drive it with `app.inject`.
 */
import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { Authenticator } from '../auth/principal.js'
import type { ActionService } from '../domain/action-service.js'
import { isAppError } from '../domain/errors.js'
import { FAULT_CONTENT_TYPE, faultBody, STATUS_BY_CODE, UNEXPECTED_ERROR_MESSAGE } from './errors.js'
import { formatVersion, negotiateVersion, UnsupportedVersionError, type ApiVersion } from './microversion.js'
import { isPublicPath } from './request-state.js'
import { instanceActionRoutes } from './routes/instance-actions.js'
import { serverRoutes } from './routes/servers.js'
import { versionRoutes } from './routes/versions.js'

/** Everything the application needs, built by the caller. */
export interface AppDeps {
  service: ActionService
  authenticator: Authenticator
  logger: Logger
}

function setVersionHeaders(reply: FastifyReply, version: ApiVersion): void {
  const text = formatVersion(version)
  reply.header('OpenStack-API-Version', `compute ${text}`)
  reply.header('X-OpenStack-Nova-API-Version', text)
  reply.header('Vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version')
}

function sendFault(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type(FAULT_CONTENT_TYPE).send(faultBody(status, message))
}

function setRequestIdHeaders(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-openstack-request-id', request.id)
  reply.header('x-compute-request-id', request.id)
}

/** Sets `request.principal`, or answers 401 and returns false. Public paths need no token. */
async function authenticate(authenticator: Authenticator, request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  const path = request.url.split('?')[0] ?? '/'
  if (isPublicPath(path)) return true
  const token = request.headers['x-auth-token']
  const principal = typeof token === 'string' && token.length > 0 ? await authenticator.authenticate(token) : undefined
  if (!principal) {
    reply.header('WWW-Authenticate', `Keystone uri="${request.protocol}://${request.host}/"`)
    sendFault(reply, 401, 'The request you have made requires authentication.')
    return false
  }
  request.principal = principal
  return true
}

/** Negotiates the microversion of a /v2.1 API request and echoes it; throws 400 / 406 AppErrors. */
function negotiate(request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?')[0] ?? '/'
  if (isPublicPath(path) || !path.startsWith('/v2.1/')) return
  try {
    request.apiVersion = negotiateVersion(request.headers)
  } catch (err) {
    if (err instanceof UnsupportedVersionError) setVersionHeaders(reply, err.requested)
    throw err
  }
  setVersionHeaders(reply, request.apiVersion)
}

// Fastify's own client errors (bad JSON, body too large, wrong media type) keep their 4xx status.
function clientErrorStatus(err: FastifyError): number | undefined {
  const status = err.statusCode
  return status !== undefined && status >= 400 && status < 500 ? status : undefined
}

/** Builds the ActionTrail HTTP application. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Our own onResponse line logs the route template, never the raw URL with its ids.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => `req-${randomUUID()}`,
    routerOptions: { maxParamLength: 1024 },
    return503OnClosing: true,
    // The router rejects an undecodable path (`%zz`) or an over-long segment before any hook or the
    // error handler runs; answer those in Nova's fault format too, after the same auth check.
    frameworkErrors: (err, request, reply) => {
      setRequestIdHeaders(request, reply)
      authenticate(deps.authenticator, request, reply)
        .then((ok) => {
          if (!ok) return
          try {
            negotiate(request, reply)
          } catch (versionErr) {
            if (isAppError(versionErr)) return sendFault(reply, STATUS_BY_CODE[versionErr.code], versionErr.message)
            throw versionErr
          }
          // An over-long segment cannot be an id Nova knows: its router would find no such resource.
          if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendFault(reply, 404, 'The resource could not be found.')
          return sendFault(reply, 400, 'Malformed request URL.')
        })
        .catch((unexpected: unknown) => {
          request.log.error({ err: unexpected }, 'unexpected error')
          if (!reply.sent) sendFault(reply, 500, UNEXPECTED_ERROR_MESSAGE)
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

  app.setNotFoundHandler((_request, reply) => sendFault(reply, 404, 'The resource could not be found.'))

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (isAppError(err)) {
      const status = STATUS_BY_CODE[err.code]
      if (status < 500) return sendFault(reply, status, err.message)
      request.log.error({ err }, 'request failed')
      return sendFault(reply, status, status === 503 ? 'The service is unavailable.' : UNEXPECTED_ERROR_MESSAGE)
    }
    const clientStatus = clientErrorStatus(err)
    if (clientStatus !== undefined) return sendFault(reply, clientStatus, err.message)
    request.log.error({ err }, 'unexpected error')
    return sendFault(reply, 500, UNEXPECTED_ERROR_MESSAGE)
  })

  // Routes come after the handlers so that their encapsulated contexts inherit them.
  await app.register(versionRoutes)
  await app.register(serverRoutes(deps.service))
  await app.register(instanceActionRoutes(deps.service))

  return app
}
