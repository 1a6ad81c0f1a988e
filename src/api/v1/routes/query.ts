/**
 * `GET /v1/actions` (and `GET /v1/instances`, query-instances.ts): the actions of every instance
 * the caller may see, filtered, newest first, in keyset pages with a signed cursor (issue 10). Not
 * in the write scope: readers read here, and there is no body. Access is a filter of the query, so
 * pages stay full: a non-admin's search is restricted to instances owned by their project, and
 * never shows tracebacks, hosts or details (as the compute views for non-admins).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AccessPolicy } from '../../../auth/access-policy.js'
import {
  canFilterByHost,
  canQueryActions,
  canQueryAllProjects,
  canSeeEventDetails,
  canSeeEventInternals,
} from '../../../auth/policy.js'
import type { ActionService } from '../../../domain/action-service.js'
import { AppError } from '../../../domain/errors.js'
import type { ActionEvent, InstanceAction } from '../../../domain/instance-action.js'
import { parseQuery } from '../../compute/query-params.js'
import { described } from '../../described.js'
import { principalOf } from '../../plugins/authentication.js'
import { DEFAULT_LIMIT, MAX_LIMIT, parseActionQuery } from '../action-query.js'
import { V1_CONTENT_TYPE } from '../error-body.js'
import { CursorCodec } from '../query-cursor.js'
import { instanceQueryRoutes } from './query-instances.js'
import { v1ErrorResponse, v1Responses } from '../responses.js'
import { ActionViewSchema, actionView, EventViewSchema, eventView } from '../views.js'

/** What the query routes need. */
export interface QueryRoutesOptions {
  service: ActionService
  /** The access policy (defaults + policy file), built once at start. */
  policy: AccessPolicy
  /** Signs page cursors; a key shared by every node makes cursors valid on all of them. */
  cursorKey: Buffer
}

const text = (description: string) => Type.Optional(Type.String({ description }))

/** The documented parameters (parsed by action-query.ts from the raw URL; see below). */
const ActionsQuerystring = Type.Object(
  {
    instance: text('Instance uuid.'),
    project: text("The action's initiator project."),
    owner_project: text("The project owning the action's instance."),
    user: text('The user who started the action.'),
    action: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String())], {
        description: 'Action name; repeat for any of several.',
      }),
    ),
    request_id: text('Request id.'),
    result: Type.Optional(
      Type.Union([Type.Literal('success'), Type.Literal('error'), Type.Literal('running')], {
        description:
          '`error`: an event failed; `running`: not finished; `success`: finished, no failure.',
      }),
    ),
    host: text('A host any event of the action ran on (admins only; others get 403).'),
    since: text('ISO 8601; only actions with start_time at or after it.'),
    until: text('ISO 8601; only actions with start_time at or before it.'),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_LIMIT,
        default: DEFAULT_LIMIT,
        description: 'Page size.',
      }),
    ),
    cursor: text('`next_cursor` of the previous page, with the same filters.'),
    include: Type.Optional(Type.Literal('events', { description: "Embed each action's events." })),
  },
  { additionalProperties: false },
)

const QueryEventSchema = Type.Object(
  {
    ...EventViewSchema.properties,
    traceback: Type.Optional(EventViewSchema.properties.traceback),
    host: Type.Optional(EventViewSchema.properties.host),
    details: Type.Optional(EventViewSchema.properties.details),
  },
  {
    additionalProperties: false,
    title: 'QueryEvent',
    description: 'An event; traceback, host and details only for admins.',
  },
)

const QueryActionSchema = Type.Object(
  { ...ActionViewSchema.properties, events: Type.Optional(Type.Array(QueryEventSchema)) },
  { additionalProperties: false, title: 'QueryAction' },
)

const ActionsPage = Type.Object(
  {
    actions: Type.Array(QueryActionSchema),
    next_cursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Cursor of the next page; null on the last page.',
    }),
  },
  { additionalProperties: false },
)

/** An event as a caller of the query API sees it. */
function queryEventView(e: ActionEvent, admin: { internals: boolean; details: boolean }) {
  const { traceback, host, details, ...rest } = eventView(e)
  return {
    ...rest,
    ...(admin.internals ? { traceback, host } : {}),
    ...(admin.details ? { details } : {}),
  }
}

/** Registers `GET /v1/actions`. */
export const queryRoutes: FastifyPluginAsyncTypebox<QueryRoutesOptions> = async (app, deps) => {
  const cursors = new CursorCodec(deps.cursorKey)
  // The querystring schemas documents the parameters; checking happens in parseActionQuery, on the
  // raw URL, where a repeated single-valued parameter is still visible and every message names
  // its parameter (Fastify's validator would coerce, drop unknown ones, or keep one value).
  app.setValidatorCompiler(() => () => true)
  await app.register(instanceQueryRoutes, { service: deps.service, policy: deps.policy, cursors })

  app.get(
    '/actions',
    {
      schema: {
        operationId: 'queryActions',
        summary: 'Query actions across instances',
        description:
          'Newest first by start_time. Admins see every project; readers and members only ' +
          "actions on their own project's instances; the service role alone is refused (403). " +
          'Cursors are signed with the server secret (ACTIONTRAIL_CURSOR_SECRET): without one they ' +
          'do not survive a restart nor work on another node.',
        tags: ['query'],
        querystring: ActionsQuerystring,
        response: v1Responses({
          200: described(ActionsPage, 'A page of actions.'),
          403: v1ErrorResponse('The caller may not query actions (`forbidden`).'),
        }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      if (!canQueryActions(deps.policy, principal))
        throw new AppError('forbidden', 'Querying actions requires the reader or admin role.')
      const parsed = parseActionQuery(parseQuery(request.raw.url ?? ''))
      const search = { ...parsed.search }
      let scope = parsed.scope
      // Hosts are hidden from non-admins (as in Nova's views); filtering by one would let them
      // test host names one guess at a time.
      if (search.host !== undefined && !canFilterByHost(deps.policy, principal))
        throw new AppError('forbidden', 'Filtering by host requires the admin role.')
      if (!canQueryAllProjects(deps.policy, principal)) {
        // A non-admin's owner project is their own; asking for another one finds nothing.
        if (search.ownerProjectId !== undefined && search.ownerProjectId !== principal.projectId)
          return reply.type(V1_CONTENT_TYPE).send({ actions: [], next_cursor: null })
        search.ownerProjectId = principal.projectId
        scope = `${scope}\n${principal.projectId}`
      }
      const after = parsed.cursor === undefined ? undefined : cursors.decode(scope, parsed.cursor)
      // One row more than the page tells whether there is a next page without another query.
      const rows = await deps.service.searchActions({
        ...search,
        ...(after ? { after } : {}),
        limit: search.limit + 1,
      })
      const page = rows.slice(0, search.limit)
      const last = page.at(-1)
      const next =
        rows.length > search.limit && last
          ? cursors.encode(scope, { startTime: last.startTime, id: last.id })
          : null
      // Asked once per request, with the caller's project as the target: a caller confined to
      // their project sees only its instances; one who reaches all projects gets one answer.
      const visibility = {
        internals: canSeeEventInternals(deps.policy, principal, principal.projectId),
        details: canSeeEventDetails(deps.policy, principal, principal.projectId),
      }
      const actions = await Promise.all(
        page.map(async (a: InstanceAction) =>
          parsed.includeEvents
            ? {
                ...actionView(a),
                events: (await deps.service.listEvents(a.id)).map((e) =>
                  queryEventView(e, visibility),
                ),
              }
            : actionView(a),
        ),
      )
      return reply.type(V1_CONTENT_TYPE).send({ actions, next_cursor: next })
    },
  )
}
