/**
 * ActionTrail's own API under `/v1`, one encapsulated plugin: the write routes (the query API and
 * the stream join them), ActionTrail's error format for every error and unknown path, and the
 * OpenAPI document at `/v1/openapi.json`.
 * @module
 */
import { checkpointRoutes } from './routes/checkpoints.js'
import type { CheckpointLog } from '../../store/chain/checkpoint-log.js'
import swagger from '@fastify/swagger'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { OpenAPIV3_1 } from 'openapi-types'
import type { AccessPolicy } from '../../auth/access-policy.js'
import type { ActionService } from '../../domain/action-service.js'
import type { Clock } from '../../domain/timestamp.js'
import { installErrorFormat } from '../errors.js'
import { sendV1Error } from './error-body.js'
import type { IdempotencyStore } from './idempotency.js'
import type { IdempotencyLimits } from './idempotency-limits.js'
import { randomCursorKey } from './query-cursor.js'
import { writeRoutes } from './routes/index.js'
import { defaultStuckPolicy, type StuckPolicy } from '../../domain/stuck-work.js'
import { exportRoutes } from './routes/export.js'
import { queryRoutes } from './routes/query.js'
import { streamRoutes } from './routes/stream.js'
import type { ChangeFeed } from '../../store/change-feed.js'
import type { CatchUpReads, StreamSettings } from './stream/stream-hub.js'
import type { ServiceMetrics } from '../../metrics/service-metrics.js'

/** Where the surface is mounted. */
export const V1_PREFIX = '/v1'

/** What the /v1 surface needs. */
export interface V1SurfaceOptions {
  service: ActionService
  /** The access policy (defaults + policy file), built once at start. */
  policy: AccessPolicy
  /** Where the write API remembers answers to requests sent with an Idempotency-Key. */
  idempotency: IdempotencyStore
  clock: Clock
  /** Caps on remembered answers; the defaults for those not given. */
  idempotencyLimits?: Partial<IdempotencyLimits>
  /**
   * Signs the query API's page cursors; a random key per process when absent (cursors then do not
   * survive a restart nor work on another node).
   */
  cursorKey?: Buffer
  /** How long work may run before `state=stuck` finds it; defaultStuckPolicy() when absent. */
  stuck?: StuckPolicy
  /** The change feed and settings of `GET /v1/stream`; the route is absent without them. */
  stream?: {
    feed: ChangeFeed
    /** Where catching-up subscribers read (a read replica); `feed` when absent. */
    catchUp?: CatchUpReads
    settings: StreamSettings
    metrics?: ServiceMetrics
  }
  /** The hash chain's checkpoints behind `GET /v1/checkpoints`; the route is absent without. */
  checkpoints?: CheckpointLog
}

const DESCRIPTION =
  'Records instances, actions and events (the write side of the Nova-compatible /v2.1 ' +
  'os-instance-actions API). Every write needs an X-Auth-Token with the service or admin role. ' +
  'GET /v1/actions and GET /v1/events query actions and events across instances (readers: ' +
  'their own project; admins: all); GET /v1/stream follows their changes live (Server-Sent ' +
  'Events). ' +
  'Errors are `{"error": {"status", "code", "message"}}`. Writes may carry an Idempotency-Key.'

// Fastify needs a body whenever a route has a body schema, so the generator marks every request
// body required; the finish endpoints, whose fields are all optional, accept none.
function markOptionalBodies(doc: OpenAPIV3_1.Document): OpenAPIV3_1.Document {
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item ?? {})) {
      const body = (op as OpenAPIV3_1.OperationObject | undefined)?.requestBody as
        OpenAPIV3_1.RequestBodyObject | undefined
      const schema = body?.content['application/json']?.schema as
        { required?: string[] } | undefined
      if (body && schema && (schema.required ?? []).length === 0) body.required = false
    }
  }
  return doc
}

/** Registers the /v1 surface; mount it with `{ prefix: V1_PREFIX }`. */
export const v1Surface: FastifyPluginAsyncTypebox<V1SurfaceOptions> = async (app, deps) => {
  installErrorFormat(app, sendV1Error)
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'ActionTrail API', version: '1', description: DESCRIPTION },
      components: {
        securitySchemes: { authToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' } },
      },
      security: [{ authToken: [] }],
    },
    transformObject: (doc) =>
      'openapiObject' in doc
        ? markOptionalBodies(doc.openapiObject as OpenAPIV3_1.Document)
        : doc.swaggerObject,
  })
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () =>
    app.swagger(),
  )
  // Not `deps` itself: it carries this plugin's own `prefix`, which would apply twice.
  await app.register(writeRoutes, {
    service: deps.service,
    policy: deps.policy,
    idempotency: deps.idempotency,
    clock: deps.clock,
    ...(deps.idempotencyLimits ? { idempotencyLimits: deps.idempotencyLimits } : {}),
  })
  // Outside the write scope: readers query, and there is no body to parse.
  await app.register(queryRoutes, {
    service: deps.service,
    policy: deps.policy,
    cursorKey: deps.cursorKey ?? randomCursorKey(),
    clock: deps.clock,
    stuck: deps.stuck ?? defaultStuckPolicy(),
  })
  await app.register(exportRoutes, { service: deps.service, policy: deps.policy })
  if (deps.checkpoints)
    await app.register(checkpointRoutes, { checkpoints: deps.checkpoints, policy: deps.policy })
  if (deps.stream) await app.register(streamRoutes, { ...deps.stream, policy: deps.policy })
}
