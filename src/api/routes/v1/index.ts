/**
 * The /v1 write API: ActionTrail's own routes for recording instances, actions and events. Every
 * write needs the service or admin role, accepts only the media types it can read (no text/plain),
 * validates with strict schemas (nothing coerced, unknown fields rejected) and honours
 * Idempotency-Key. Errors use ActionTrail's format, chosen by the app's handlers from the /v1 path.
 */
import type { FastifyInstance } from 'fastify'
import { canWrite } from '../../../auth/policy.js'
import type { ActionService } from '../../../domain/action-service.js'
import { AppError } from '../../../domain/errors.js'
import type { Clock } from '../../../domain/timestamp.js'
import { principalOf } from '../../compute-request.js'
import { installIdempotency, type IdempotencyStore } from '../../v1/idempotency.js'
import type { DocumentedRoute } from '../../v1/openapi-doc.js'
import { v1Ajv, type JsonSchema } from '../../v1/schemas.js'
import { actionRoutes } from './actions.js'
import { batchRoutes } from './batch.js'
import { eventRoutes } from './events.js'
import { instanceRoutes } from './instances.js'
import { openapiRoutes } from './openapi.js'

/** What the write API needs. */
export interface V1Deps {
  service: ActionService
  idempotency: IdempotencyStore
  clock: Clock
}

/** Registers the write API; mount it with `{ prefix: '/v1' }`. */
export function v1Routes(deps: V1Deps) {
  return async function register(app: FastifyInstance): Promise<void> {
    const documented: DocumentedRoute[] = []
    app.addHook('onRoute', (route) => {
      if (route.config?.openapi) documented.push(route as DocumentedRoute)
    })
    await app.register(openapiRoutes(() => documented))

    await app.register(async (writes) => {
      writes.addHook('onRequest', async (request) => {
        if (!canWrite(principalOf(request))) {
          throw new AppError('forbidden', 'The write API requires the service or admin role.')
        }
      })
      installIdempotency(writes, { store: deps.idempotency, clock: deps.clock })

      writes.setValidatorCompiler(({ schema }) => v1Ajv.compile(schema as JsonSchema))

      // Only JSON here (the batch adds NDJSON). The text is kept for the idempotency request hash.
      const parseJson = writes.getDefaultJsonParser('error', 'error')
      writes.removeAllContentTypeParsers()
      writes.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
        const text = body as string
        request.rawBody = text
        if (text.length === 0) {
          done(null, undefined)
          return
        }
        void parseJson(request, text, done)
      })
      // An absent body is an empty object, so that the schema names the first missing field and the
      // finish endpoints, whose fields are all optional, accept no body at all.
      writes.addHook('preValidation', async (request) => {
        if (request.body === undefined) request.body = {}
      })

      await writes.register(instanceRoutes(deps.service))
      await writes.register(actionRoutes(deps.service))
      await writes.register(eventRoutes(deps.service))
      await writes.register(batchRoutes(deps.service))
    })
  }
}
