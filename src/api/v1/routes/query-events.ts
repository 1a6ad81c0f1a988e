/**
 * `GET /v1/events`: the events of every instance the caller may see, filtered, newest first, in
 * keyset pages with a signed cursor (issue 10). The same access rules as `GET /v1/actions`:
 * non-admins see only events on their project's instances, never tracebacks, hosts or details.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { ActionService } from '../../../domain/action-service.js'
import { parseQuery } from '../../compute/query-params.js'
import { described } from '../../described.js'
import { principalOf } from '../../plugins/authentication.js'
import { V1_CONTENT_TYPE } from '../error-body.js'
import { parseEventQuery } from '../event-query.js'
import {
  callerSearch,
  commonQuerystring,
  eventVisibility,
  pageOf,
  QueryEventSchema,
  queryFoundEventView,
  requireQueryAccess,
  type SearchContext,
} from '../query-common.js'
import { v1ErrorResponse, v1Responses } from '../responses.js'

/** What the event query route needs. */
export interface EventQueryOptions {
  service: ActionService
  context: SearchContext
}

const EventsQuerystring = Type.Object(
  {
    ...commonQuerystring('events'),
    event: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String())], {
        description: 'Event name; repeat for any of several.',
      }),
    ),
  },
  { additionalProperties: false },
)

const FoundEventSchema = Type.Object(
  {
    ...QueryEventSchema.properties,
    instance_uuid: Type.String({ description: "The parent action's instance." }),
    request_id: Type.String({ description: "The parent action's request id." }),
    action: Type.String({ description: "The parent action's name." }),
  },
  {
    additionalProperties: false,
    title: 'FoundEvent',
    description: 'An event with its action; traceback, host and details only for admins.',
  },
)

const EventsPage = Type.Object(
  {
    events: Type.Array(FoundEventSchema),
    next_cursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Cursor of the next page; null on the last page.',
    }),
  },
  { additionalProperties: false },
)

/** Registers `GET /v1/events` (inside the query scope, whose validator is off: see query.ts). */
export const eventQueryRoutes: FastifyPluginAsyncTypebox<EventQueryOptions> = async (app, deps) => {
  app.get(
    '/events',
    {
      schema: {
        operationId: 'queryEvents',
        summary: 'Query events across instances',
        description:
          'Newest first by start_time (or updated_at with time_field; an unfinished event, whose ' +
          'updated_at is null, by its start_time). Same access as GET /v1/actions.',
        tags: ['query'],
        querystring: EventsQuerystring,
        response: v1Responses({
          200: described(EventsPage, 'A page of events.'),
          403: v1ErrorResponse(
            'The caller may not query events, or filtered by host (`forbidden`).',
          ),
        }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      requireQueryAccess(deps.context.policy, principal, 'events')
      const parsed = parseEventQuery(parseQuery(request.raw.url ?? ''))
      const caller = callerSearch(principal, parsed, deps.context, 'events')
      if (caller === undefined)
        return reply.type(V1_CONTENT_TYPE).send({ events: [], next_cursor: null })
      const { search, scope } = caller
      const rows = await deps.service.searchEvents({ ...search, limit: search.limit + 1 })
      const byUpdate = search.timeField === 'updated_at'
      const { page, next } = pageOf(rows, search.limit, scope, deps.context.cursors, (f) => ({
        time: byUpdate ? (f.event.updatedAt ?? f.event.startTime) : f.event.startTime,
        id: f.event.id,
      }))
      const visibility = eventVisibility(deps.context.policy, principal)
      const events = page.map((f) => queryFoundEventView(f, visibility))
      return reply.type(V1_CONTENT_TYPE).send({ events, next_cursor: next })
    },
  )
}
