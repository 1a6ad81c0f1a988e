/**
 * `GET /v1/stream`: Server-Sent Events of new and changed actions and events, with the query
 * API's filters and access rules (issue 10). Readers and admins only; a non-admin sees only the
 * instances their project owns, without tracebacks, hosts or details, and may not filter by host.
 * A client resumes with `Last-Event-ID` (or `?after=`) exactly after the last change it saw, on
 * any node sharing the database. One reader per process serves every subscriber (stream-hub.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AccessPolicy } from '../../../auth/access-policy.js'
import { canFilterByHost, canQueryAllProjects, canStream } from '../../../auth/policy.js'
import { AppError } from '../../../domain/errors.js'
import type { ServiceMetrics } from '../../../metrics/service-metrics.js'
import type { ChangeFeed } from '../../../store/change-feed.js'
import { parseQuery } from '../../compute/query-params.js'
import { principalOf } from '../../plugins/authentication.js'
import { eventVisibility } from '../query-common.js'
import { v1ErrorResponse, v1Responses } from '../responses.js'
import { StreamHub, type CatchUpReads, type StreamSettings } from '../stream/stream-hub.js'
import type { SubscriberFilter } from '../stream/stream-item.js'
import { parsePosition, parseStreamQuery } from '../stream/stream-query.js'

/** What the stream route needs. */
export interface StreamRoutesOptions {
  /** The access policy: `actiontrail:stream`, and the query API's host and all-projects rules. */
  policy: AccessPolicy
  feed: ChangeFeed
  /** Where catching-up subscribers read (a read replica); `feed` when absent. */
  catchUp?: CatchUpReads
  settings: StreamSettings
  /** Where the hub's subscriber and drop counts are reported (the server's metrics). */
  metrics?: ServiceMetrics
}

const text = (description: string) => Type.Optional(Type.String({ description }))

const StreamQuerystring = Type.Object(
  {
    instance: text('Instance uuid.'),
    project: text("The action's initiator project."),
    owner_project: text("The project owning the action's instance."),
    user: text('The user who started the action.'),
    action: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String())], {
        description: 'Action name; repeat for any of several. Events match by their action.',
      }),
    ),
    request_id: text('Request id.'),
    host: text('Only events that ran on this host (admins only; others get 403).'),
    types: text('`action`, `event` or `action,event` (default): which messages to send.'),
    after: text(
      'Resume after this position (`Last-Event-ID` wins when both are given); `0` replays every ' +
        'retained change. Without either, the stream starts at the current head.',
    ),
  },
  { additionalProperties: false },
)

const StreamHeaders = Type.Object({
  'last-event-id': text('The `id` of the last message received: resume exactly after it.'),
})

const STREAM_DESCRIPTION =
  'A `text/event-stream`. The first bytes are `retry: 1000` and the comment `: ready` (the ' +
  'subscription is live). Then one message per change, in position order, each with `id: ' +
  '<position>`: `event: action` with `data: {"action": Action}` (as /v1/actions items) and ' +
  '`event: event` with `data: {"instance_uuid", "request_id", "action": <action name>, "event": ' +
  'QueryEvent}` (traceback, host and details only for admins). A comment `: heartbeat` comes every ' +
  'ACTIONTRAIL_STREAM_HEARTBEAT_MS. A client too slow for its buffer gets `event: overflow` with ' +
  '`data: {"resume_after": "<position>"}` and the stream is closed; resume after that position. ' +
  'When the server shuts down, the stream ends with `event: shutdown` and the same `data`.'

/** Registers `GET /v1/stream`. */
export const streamRoutes: FastifyPluginAsyncTypebox<StreamRoutesOptions> = async (app, deps) => {
  const hub = new StreamHub(deps.feed, deps.settings, app.log, deps.catchUp)
  deps.metrics?.attach({ stream: () => ({ subscribers: hub.size, dropped: hub.dropped }) })
  // Parameters are checked on the raw URL (stream-query.ts), as for the query API.
  app.setValidatorCompiler(() => () => true)
  // Streams never end by themselves: end them before the server waits for its connections.
  app.addHook('preClose', async () => hub.close())

  app.get(
    '/stream',
    {
      schema: {
        operationId: 'streamChanges',
        summary: 'Stream changes to actions and events (Server-Sent Events)',
        description:
          'Positions are durable, strictly increasing and shared by every node on the database. ' +
          'Same access rules as GET /v1/actions. At most ACTIONTRAIL_STREAM_MAX_SUBSCRIBERS ' +
          'streams per node (503 with Retry-After beyond).',
        tags: ['query'],
        querystring: StreamQuerystring,
        headers: StreamHeaders,
        response: v1Responses({
          200: {
            description: STREAM_DESCRIPTION,
            content: { 'text/event-stream': { schema: Type.String() } },
          } as unknown as ReturnType<typeof Type.String>,
          403: v1ErrorResponse(
            'The caller may not read actions, or a non-admin filtered by host (`forbidden`).',
          ),
          503: v1ErrorResponse(
            'Too many streams on this node (`too_many_streams`), or the store is unavailable ' +
              '(`store_unavailable`); retry after `Retry-After` seconds.',
          ),
        }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      if (!canStream(deps.policy, principal))
        throw new AppError('forbidden', 'Streaming actions requires the reader or admin role.')
      const query = parseStreamQuery(parseQuery(request.raw.url ?? ''))
      if (query.filter.host !== undefined && !canFilterByHost(deps.policy, principal))
        throw new AppError('forbidden', 'Filtering by host requires the admin role.')
      const allProjects = canQueryAllProjects(deps.policy, principal)
      const header = request.headers['last-event-id']
      const lastEventId = Array.isArray(header) ? header[0] : header
      const after =
        lastEventId !== undefined && lastEventId.trim() !== ''
          ? parsePosition('Last-Event-ID', lastEventId.trim())
          : query.after
      if (hub.size >= deps.settings.maxSubscribers)
        throw new AppError('too_many_streams', 'Too many streams on this node.')
      const filter: SubscriberFilter = {
        ...query.filter,
        visibility: eventVisibility(deps.policy, principal),
        ...(allProjects ? {} : { scopeProject: principal.projectId }),
      }
      // Reading the head first: a database that is away is a 503 in the /v1 format, not a
      // stream that ends at once.
      await hub.start()

      reply.hijack()
      const res = reply.raw
      // The request-id headers set by the hooks (hijack bypasses Fastify's sending).
      for (const [name, value] of Object.entries(reply.getHeaders()))
        if (value !== undefined) res.setHeader(name, value)
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        // nginx and similar proxies would otherwise buffer the stream.
        'x-accel-buffering': 'no',
        // One stream per connection: its socket is not reused once the stream ends.
        connection: 'close',
      })
      // busy-connection.ts paused the idle timer for the handler; a stream is answered now, and a
      // client that stops reading must still be dropped after the idle timeout (heartbeats keep a
      // reading client's connection moving).
      const socket = request.raw.socket as { setTimeout?: (ms: number) => unknown } | undefined
      socket?.setTimeout?.(app.initialConfig.connectionTimeout ?? 0)
      await hub.subscribe(res, filter, after)
    },
  )
}
