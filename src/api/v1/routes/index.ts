/**
 * The write routes in one scope: every write needs the service or admin role, accepts only the
 * media types it can read (no text/plain), validates with strict schemas (nothing coerced, unknown
 * fields rejected) and honours Idempotency-Key.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AccessPolicy } from '../../../auth/access-policy.js'
import { canWrite } from '../../../auth/policy.js'
import type { ActionService } from '../../../domain/action-service.js'
import { AppError } from '../../../domain/errors.js'
import type { Clock } from '../../../domain/timestamp.js'
import { principalOf } from '../../plugins/authentication.js'
import { installIdempotency, type IdempotencyStore } from '../idempotency.js'
import type { IdempotencyLimits } from '../idempotency-limits.js'
import { v1Ajv } from '../schemas.js'
import { decodeUtf8Body } from '../utf8-body.js'
import { actionRoutes } from './actions.js'
import { batchRoutes } from './batch.js'
import { eventRoutes } from './events.js'
import { instanceRoutes } from './instances.js'

/** What the write routes need. */
export interface WriteRoutesDeps {
  service: ActionService
  /** The access policy (defaults + policy file), built once at start. */
  policy: AccessPolicy
  idempotency: IdempotencyStore
  clock: Clock
  /** Caps on remembered answers; the defaults for those not given. */
  idempotencyLimits?: Partial<IdempotencyLimits>
}

/** Registers the write routes. */
export const writeRoutes: FastifyPluginAsyncTypebox<WriteRoutesDeps> = async (app, deps) => {
  app.addHook('onRequest', async (request) => {
    if (!canWrite(deps.policy, principalOf(request))) {
      throw new AppError('forbidden', 'The write API requires the service or admin role.')
    }
  })
  installIdempotency(app, {
    store: deps.idempotency,
    clock: deps.clock,
    ...(deps.idempotencyLimits ? { limits: deps.idempotencyLimits } : {}),
  })

  app.setValidatorCompiler(({ schema }) => v1Ajv.compile(schema))

  // Only JSON here (the batch adds NDJSON). The text is kept for the idempotency request hash.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string
    try {
      text = decodeUtf8Body(body as Buffer)
    } catch (err) {
      done(err as Error, undefined)
      return
    }
    request.rawBody = text
    if (text.length === 0) {
      done(null, undefined)
      return
    }
    void parseJson(request, text, done)
  })
  // An absent body is an empty object, so that the schema names the first missing field and the
  // finish endpoints, whose fields are all optional, accept no body at all.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined) request.body = {}
  })

  const options = { service: deps.service }
  await app.register(instanceRoutes, options)
  await app.register(actionRoutes, options)
  await app.register(eventRoutes, options)
  await app.register(batchRoutes, options)
}
