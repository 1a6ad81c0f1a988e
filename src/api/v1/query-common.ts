/**
 * What `GET /v1/actions` and `GET /v1/events` share beyond parsing (search-params.ts): the
 * querystring documentation of their common parameters, the caller's access restrictions and
 * stuck deadlines applied to a parsed search, the event view for the query API, and one page's
 * assembly with its next cursor.
 */
import { Type } from 'typebox'
import type { AccessPolicy } from '../../auth/access-policy.js'
import {
  canFilterByHost,
  canQueryActions,
  canQueryAllProjects,
  canQueryEvents,
  canSeeEventDetails,
  canSeeEventInternals,
} from '../../auth/policy.js'
import type { Principal } from '../../auth/principal.js'
import { AppError } from '../../domain/errors.js'
import type { ActionEvent, InstanceAction } from '../../domain/instance-action.js'
import { stuckDeadlines, type StuckDeadlines, type StuckPolicy } from '../../domain/stuck-work.js'
import type { Clock, Timestamp } from '../../domain/timestamp.js'
import type { ActionPosition, FoundEvent } from '../../store/action-store.js'
import type { CursorCodec } from './query-cursor.js'
import { DEFAULT_LIMIT, MAX_LIMIT, type CommonSearch, type ParsedSearch } from './search-params.js'
import { actionView, EventViewSchema } from './views.js'

const text = (description: string) => Type.Optional(Type.String({ description }))

/** The documented parameters both searches take (typebox properties; they feed the OpenAPI). */
export function commonQuerystring(what: 'actions' | 'events') {
  const time =
    what === 'actions'
      ? 'start_time (default) or updated_at'
      : 'start_time (default) or updated_at (start_time while unfinished)'
  return {
    instance: text('Instance uuid.'),
    project: text("The initiator project of the action (of the event's action)."),
    owner_project: text('The project owning the instance (non-admins: their own only).'),
    user: text('The user who started the action.'),
    action: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String())], {
        description: 'Action name; repeat for any of several.',
      }),
    ),
    request_id: text('Request id of the action.'),
    result: Type.Optional(
      Type.Union([Type.Literal('success'), Type.Literal('error'), Type.Literal('running')], {
        description:
          what === 'actions'
            ? '`error`: an event failed; `running`: not finished; `success`: finished, no failure.'
            : '`error`: the event failed; `running`: not finished; `success`: finished otherwise.',
      }),
    ),
    host: text(
      `The host ${what === 'actions' ? 'any event of the action' : 'the event'} ran on (admins only; others get 403).`,
    ),
    since: text('ISO 8601; only rows whose time field is at or after it.'),
    until: text('ISO 8601; only rows whose time field is at or before it.'),
    time_field: Type.Optional(
      Type.Union([Type.Literal('start_time'), Type.Literal('updated_at')], {
        description: `The time that orders the page (newest first) and that since/until bound: ${time}.`,
      }),
    ),
    state: Type.Optional(
      Type.Literal('stuck', {
        description:
          'Only stuck work: unfinished, and started longer ago than the deadline of its action ' +
          'name (ACTIONTRAIL_STUCK_AFTER, ACTIONTRAIL_STUCK_AFTER_ACTIONS).',
      }),
    ),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_LIMIT,
        default: DEFAULT_LIMIT,
        description: 'Page size.',
      }),
    ),
    cursor: text('`next_cursor` of the previous page, with the same filters.'),
    archived: Type.Optional(
      Type.Union([Type.Literal('true'), Type.Literal('false')], {
        description:
          '`true`: the archived history (moved by `actiontrail archive` or the retention policy) ' +
          'instead of the live one; admins only (others get 403), with only the filters ' +
          'instance, owner_project, request_id, since and until (others get 400).',
      }),
    ),
  }
}

/** A writer tag as the query API shows it to admins (null for records older than tags). */
export function writerTagSchema(what: string) {
  return Type.Union([Type.String(), Type.Null()], {
    description: `${what} (\`w:\` + 16 hex digits, a keyed hash of the principal; admins only; null when unknown).`,
  })
}

/** An event as the query API shows it: traceback, host, details and writer tags only for admins. */
export const QueryEventSchema = Type.Object(
  {
    ...EventViewSchema.properties,
    traceback: Type.Optional(EventViewSchema.properties.traceback),
    host: Type.Optional(EventViewSchema.properties.host),
    details: Type.Optional(EventViewSchema.properties.details),
    written_by: Type.Optional(writerTagSchema('Writer tag of who started the event')),
    finished_by: Type.Optional(writerTagSchema('Writer tag of who finished the event')),
  },
  {
    additionalProperties: false,
    title: 'QueryEvent',
    description: 'An event; traceback, host, details and writer tags only for admins.',
  },
)

/** What a caller may see of events. */
export interface EventVisibility {
  internals: boolean
  details: boolean
}

/**
 * The caller's event visibility (policy.ts), asked once per request with the caller's project as
 * the target: a caller confined to their project sees only its instances; one who reaches all
 * projects gets one answer.
 */
export function eventVisibility(policy: AccessPolicy, principal: Principal): EventVisibility {
  return {
    internals: canSeeEventInternals(policy, principal, principal.projectId),
    details: canSeeEventDetails(policy, principal, principal.projectId),
  }
}

/**
 * An event as a caller of the query API sees it: the event view's fields, then (internals) the
 * traceback, host and writer tags, then (details) the details. Object literals rather than a rest
 * and spreads: an export builds one of these per event, and the spreads were 12 % of an export's
 * CPU profile (bench/export.ts, 2026-12-06), and spread copies outlive a scavenge (see
 * queryActionView); the key order is the one clients have always seen.
 */
export function queryEventView(e: ActionEvent, visibility: EventVisibility) {
  if (visibility.internals && visibility.details)
    return {
      event: e.event,
      start_time: e.startTime,
      finish_time: e.finishTime,
      result: e.result,
      created_at: e.createdAt,
      updated_at: e.updatedAt,
      traceback: e.traceback,
      host: e.host,
      written_by: e.writtenBy ?? null,
      finished_by: e.finishedBy ?? null,
      details: e.details,
    }
  if (visibility.internals)
    return {
      event: e.event,
      start_time: e.startTime,
      finish_time: e.finishTime,
      result: e.result,
      created_at: e.createdAt,
      updated_at: e.updatedAt,
      traceback: e.traceback,
      host: e.host,
      written_by: e.writtenBy ?? null,
      finished_by: e.finishedBy ?? null,
    }
  if (visibility.details)
    return {
      event: e.event,
      start_time: e.startTime,
      finish_time: e.finishTime,
      result: e.result,
      created_at: e.createdAt,
      updated_at: e.updatedAt,
      details: e.details,
    }
  return {
    event: e.event,
    start_time: e.startTime,
    finish_time: e.finishTime,
    result: e.result,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
  }
}

/**
 * A found event as `GET /v1/events` shows it: its view, then what identifies its parent action.
 * Added to the fresh view rather than spread into a copy (see queryActionView).
 */
export function queryFoundEventView(f: FoundEvent, visibility: EventVisibility) {
  const view: ReturnType<typeof queryEventView> & {
    instance_uuid?: string
    request_id?: string
    action?: string
  } = queryEventView(f.event, visibility)
  view.instance_uuid = f.instanceUuid
  view.request_id = f.requestId
  view.action = f.action
  return view
}

/**
 * An action as a caller of the query API sees it: admins also see who started it. One literal per
 * case, though the admin's repeats actionView's fields: on Node 20 the spread copies of a page's
 * views survived the next young-generation collection (0.93 MB of every scavenge during `GET
 * /v1/actions` served back to back, 2–3 ms pauses; 23 kB and 1.1–1.3 ms with literals), and so
 * did actionView's object with `written_by` assigned to it afterwards (1.8 MB); those pauses are
 * the query API's p99 tail (2026-12-07, docs/benchmarks.md session 13).
 */
export function queryActionView(a: InstanceAction, visibility: EventVisibility) {
  if (!visibility.internals) return actionView(a)
  return {
    instance_uuid: a.instanceUuid,
    action: a.action,
    request_id: a.requestId,
    user_id: a.userId,
    project_id: a.projectId,
    start_time: a.startTime,
    finish_time: a.finishTime,
    message: a.message,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
    written_by: a.writtenBy ?? null,
  }
}

/** What a route needs to turn a parsed search into a store search. */
export interface SearchContext {
  policy: AccessPolicy
  cursors: CursorCodec
  clock: Clock
  stuck: StuckPolicy
}

/** A parsed search with what the caller's request adds: a position and the stuck deadlines. */
export type PositionedSearch<S> = S & { after?: ActionPosition; stuck?: StuckDeadlines }

/**
 * Refuses callers who may not query (403): checked before the parameters, so that the service
 * role learns nothing from the query API, not even which parameters it takes.
 */
export function requireQueryAccess(
  policy: AccessPolicy,
  principal: Principal,
  what: 'actions' | 'events',
): void {
  const allowed =
    what === 'actions' ? canQueryActions(policy, principal) : canQueryEvents(policy, principal)
  if (!allowed)
    throw new AppError('forbidden', `Querying ${what} requires the reader or admin role.`)
}

/**
 * The store search for a caller: refuses callers who may not query (403) and non-admins' host
 * filter (hosts are hidden from them; the filter would let them test host names one guess at a
 * time); restricts non-admins to their own project's instances (another owner project finds
 * nothing: `undefined`); binds the cursor to that project; adds the stuck deadlines at the clock's
 * now and the position of the cursor.
 */
export function callerSearch<S extends CommonSearch>(
  principal: Principal,
  parsed: ParsedSearch<S>,
  context: SearchContext,
  what: 'actions' | 'events',
): { search: PositionedSearch<S>; scope: string } | undefined {
  const policy = context.policy
  requireQueryAccess(policy, principal, what)
  const search: PositionedSearch<S> = { ...parsed.search }
  let scope = parsed.scope
  if (search.host !== undefined && !canFilterByHost(policy, principal))
    throw new AppError('forbidden', 'Filtering by host requires the admin role.')
  // Archived history spans every project and holds what Nova's API no longer shows (issue 13).
  if (search.archived === true && !canQueryAllProjects(policy, principal))
    throw new AppError('forbidden', 'Reading archived history requires the admin role.')
  if (!canQueryAllProjects(policy, principal)) {
    if (search.ownerProjectId !== undefined && search.ownerProjectId !== principal.projectId)
      return undefined
    search.ownerProjectId = principal.projectId
    scope = `${scope}\n${principal.projectId}`
  }
  if (parsed.stuck) search.stuck = stuckDeadlines(context.stuck, context.clock.now())
  if (parsed.cursor !== undefined) search.after = context.cursors.decode(scope, parsed.cursor)
  return { search, scope }
}

/**
 * The page of `rows` (fetched with one row more than the page, which tells whether there is a
 * next page without another query) and its next cursor.
 */
export function pageOf<T>(
  rows: readonly T[],
  limit: number,
  scope: string,
  cursors: CursorCodec,
  position: (row: T) => { time: Timestamp; id: number },
): { page: T[]; next: string | null } {
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  if (rows.length <= limit || last === undefined) return { page, next: null }
  const p = position(last)
  return { page, next: cursors.encode(scope, { startTime: p.time, id: p.id }) }
}
