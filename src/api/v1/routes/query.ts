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
import type { ActionService } from '../../../domain/action-service.js'
import type { InstanceAction } from '../../../domain/instance-action.js'
import type { StuckPolicy } from '../../../domain/stuck-work.js'
import type { Clock } from '../../../domain/timestamp.js'
import { parseQuery } from '../../compute/query-params.js'
import { described } from '../../described.js'
import { principalOf } from '../../plugins/authentication.js'
import { parseActionQuery } from '../action-query.js'
import { V1_CONTENT_TYPE } from '../error-body.js'
import {
  callerSearch,
  commonQuerystring,
  eventVisibility,
  pageOf,
  queryActionView,
  QueryEventSchema,
  queryEventView,
  requireQueryAccess,
  writerTagSchema,
} from '../query-common.js'
import { CursorCodec } from '../query-cursor.js'
import { eventQueryRoutes } from './query-events.js'
import { instanceQueryRoutes } from './query-instances.js'
import { v1ErrorResponse, v1Responses } from '../responses.js'
import { ActionViewSchema } from '../views.js'

/** What the query routes need. */
export interface QueryRoutesOptions {
  service: ActionService
  /** The access policy (defaults + policy file), built once at start. */
  policy: AccessPolicy
  /** Signs page cursors; a key shared by every node makes cursors valid on all of them. */
  cursorKey: Buffer
  /** "Now" for stuck deadlines; injected so tests need not wait. */
  clock: Clock
  /** How long work may run before `state=stuck` finds it. */
  stuck: StuckPolicy
}

/** The documented parameters (parsed by action-query.ts from the raw URL; see below). */
const ActionsQuerystring = Type.Object(
  {
    ...commonQuerystring('actions'),
    include: Type.Optional(Type.Literal('events', { description: "Embed each action's events." })),
  },
  { additionalProperties: false },
)

const QueryActionSchema = Type.Object(
  {
    ...ActionViewSchema.properties,
    written_by: Type.Optional(writerTagSchema('Writer tag of who started the action')),
    events: Type.Optional(Type.Array(QueryEventSchema)),
  },
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

/** Registers `GET /v1/actions`. */
export const queryRoutes: FastifyPluginAsyncTypebox<QueryRoutesOptions> = async (app, deps) => {
  const cursors = new CursorCodec(deps.cursorKey)
  const context = { policy: deps.policy, cursors, clock: deps.clock, stuck: deps.stuck }
  // The querystring schemas documents the parameters; checking happens in parseActionQuery, on the
  // raw URL, where a repeated single-valued parameter is still visible and every message names
  // its parameter (Fastify's validator would coerce, drop unknown ones, or keep one value).
  app.setValidatorCompiler(() => () => true)
  await app.register(instanceQueryRoutes, { service: deps.service, policy: deps.policy, cursors })
  await app.register(eventQueryRoutes, { service: deps.service, context })

  app.get(
    '/actions',
    {
      schema: {
        operationId: 'queryActions',
        summary: 'Query actions across instances',
        description:
          'Newest first by start_time (or updated_at with time_field). Admins see every ' +
          'project; readers and members only ' +
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
      requireQueryAccess(deps.policy, principal, 'actions')
      const parsed = parseActionQuery(parseQuery(request.raw.url ?? ''))
      const caller = callerSearch(principal, parsed, context, 'actions')
      if (caller === undefined)
        return reply.type(V1_CONTENT_TYPE).send({ actions: [], next_cursor: null })
      const { search, scope } = caller
      const rows = await deps.service.searchActions({ ...search, limit: search.limit + 1 })
      const byUpdate = search.timeField === 'updated_at'
      const { page, next } = pageOf(rows, search.limit, scope, cursors, (a) => ({
        time: byUpdate ? (a.updatedAt ?? a.startTime) : a.startTime,
        id: a.id,
      }))
      const visibility = eventVisibility(deps.policy, principal)
      // One read for the whole page's events, not one per action.
      const events = parsed.includeEvents
        ? await deps.service.listEventsOfActions(
            page.map((a) => a.id),
            search.archived === true ? { archived: true } : {},
          )
        : undefined
      const actions = page.map((a: InstanceAction) => {
        // The events added to the fresh view, not the view spread into a copy (queryActionView).
        const view: ReturnType<typeof queryActionView> & { events?: unknown[] } = queryActionView(
          a,
          visibility,
        )
        if (events) view.events = (events.get(a.id) ?? []).map((e) => queryEventView(e, visibility))
        return view
      })
      return reply.type(V1_CONTENT_TYPE).send({ actions, next_cursor: next })
    },
  )
}
