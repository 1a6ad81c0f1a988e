/**
 * `GET /v1/instances`: the instances the caller may see, by project, name substring and deletion,
 * ordered by name then uuid, in keyset pages with a signed cursor (issue 10). Non-admins see only
 * their own project's instances (filtered in the query, so pages stay full); the `service` role
 * alone is refused, as for Nova's `servers:index`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AccessPolicy } from '../../../auth/access-policy.js'
import { canQueryAllInstances, canQueryInstances } from '../../../auth/policy.js'
import type { ActionService } from '../../../domain/action-service.js'
import { AppError } from '../../../domain/errors.js'
import type { InstanceFilter } from '../../../store/action-store.js'
import { parseQuery } from '../../compute/query-params.js'
import { described } from '../../described.js'
import { principalOf } from '../../plugins/authentication.js'
import { checkQueryParams, DEFAULT_LIMIT, MAX_LIMIT, parseLimit } from '../action-query.js'
import { V1_CONTENT_TYPE } from '../error-body.js'
import type { CursorCodec } from '../query-cursor.js'
import { v1ErrorResponse, v1Responses } from '../responses.js'
import { InstanceViewSchema, instanceView } from '../views.js'

/** What the instance query route needs. */
export interface InstanceQueryOptions {
  service: ActionService
  /** The access policy (defaults + policy file), built once at start. */
  policy: AccessPolicy
  cursors: CursorCodec
}

const PARAMS = ['project', 'name', 'deleted', 'limit', 'cursor'] as const

const InstancesQuerystring = Type.Object(
  {
    project: Type.Optional(Type.String({ description: 'Owner project (admins; others: own).' })),
    name: Type.Optional(
      Type.String({ description: 'Substring of the name (ASCII case ignored).' }),
    ),
    deleted: Type.Optional(
      Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('any')], {
        description: 'Deleted instances only, live ones only (default), or both.',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT })),
    cursor: Type.Optional(Type.String({ description: '`next_cursor` of the previous page.' })),
  },
  { additionalProperties: false },
)

const InstancesPage = Type.Object(
  {
    instances: Type.Array(InstanceViewSchema),
    next_cursor: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
)

/** Registers `GET /v1/instances` (in the query scope: parameters are checked by hand). */
export const instanceQueryRoutes: FastifyPluginAsyncTypebox<InstanceQueryOptions> = async (
  app,
  { service, policy, cursors },
) => {
  app.get(
    '/instances',
    {
      schema: {
        operationId: 'queryInstances',
        summary: 'List instances',
        tags: ['query'],
        querystring: InstancesQuerystring,
        response: v1Responses({
          200: described(InstancesPage, 'A page of instances, by name then uuid.'),
          403: v1ErrorResponse('The caller may not list instances (`forbidden`).'),
        }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      if (!canQueryInstances(policy, principal))
        throw new AppError('forbidden', 'Listing instances requires the reader or admin role.')
      const params = parseQuery(request.raw.url ?? '')
      checkQueryParams(params, PARAMS)
      const one = (name: (typeof PARAMS)[number]) => params.get(name)?.[0]
      const deleted = one('deleted') ?? 'false'
      if (!['true', 'false', 'any'].includes(deleted))
        throw new AppError('invalid_input', `Invalid deleted: '${deleted}' (true, false or any).`)
      const limit = parseLimit(one('limit'))
      const filter: InstanceFilter = {
        includeDeleted: deleted !== 'false',
        onlyDeleted: deleted === 'true',
        limit: limit + 1,
      }
      const project = one('project')
      const name = one('name')
      if (name !== undefined) filter.nameContains = name
      if (canQueryAllInstances(policy, principal)) {
        if (project !== undefined) filter.projectId = project
      } else {
        if (project !== undefined && project !== principal.projectId)
          return reply.type(V1_CONTENT_TYPE).send({ instances: [], next_cursor: null })
        filter.projectId = principal.projectId
      }
      const scope = JSON.stringify(['instances', filter.projectId ?? null, name ?? null, deleted])
      const cursor = one('cursor')
      if (cursor !== undefined) filter.after = cursors.decodeInstance(scope, cursor)
      const rows = await service.searchInstances(filter)
      const page = rows.slice(0, limit)
      const last = page.at(-1)
      const next = rows.length > limit && last ? cursors.seal(scope, [last.name, last.uuid]) : null
      return reply
        .type(V1_CONTENT_TYPE)
        .send({ instances: page.map(instanceView), next_cursor: next })
    },
  )
}
