/**
 * The SQL of `ActionStore.searchEvents`, one Kysely query for every backend. Its own module so
 * that the EXPLAIN test (test/store/action-search.contract.test.ts) plans exactly what the store
 * runs.
 */
import { type Kysely } from 'kysely'
import type { EventSearch } from './action-store.js'
import type { Database } from './schema.js'
import { distinctValues, unionOfPages } from './per-value-union.js'
import { afterPosition, startedBeforeDeadline } from './search-terms.js'
import { actionsTable, eventsTable } from './action-search-query.js'

/**
 * Events matching `search` with their parent action's instance, request id and name, ordered by
 * the time field DESC, id DESC, at most `search.limit`. Every filter but `request_id` is on the
 * event's own columns — the parent's name, project and user are copied onto it (migration 0008) —
 * so the planner starts the (filter, start_time, id) index of migrations 0004/0005/0008 and reads
 * a page of matches, not the events between them. `request_id` starts the actions' request index
 * and reaches the few events by action_id. The parent row is joined by its primary key for the
 * page's request ids only.
 * With `timeField: 'updated_at'` the time is `changed_at`: updated_at, or start_time while the
 * event is unfinished (its updated_at is NULL until then).
 */
export function searchEventsQuery(db: Kysely<Database>, search: EventSearch) {
  // Several event names: one index range per name, merged (per-value-union.ts).
  const names = search.events && distinctValues(search.events)
  if (names !== undefined && names.length > 1) {
    const time = search.timeField === 'updated_at' ? 'changed_at' : 'start_time'
    const pages = names.map((name) => oneQuery(db, { ...search, events: [name] }))
    return unionOfPages(db, pages, time, 'id', search.limit)
  }
  return oneQuery(db, search)
}

/** searchEventsQuery with at most one event name. */
function oneQuery(db: Kysely<Database>, search: EventSearch) {
  const time = search.timeField === 'updated_at' ? 'e.changed_at' : 'e.start_time'
  let q = db
    .selectFrom(eventsTable(search))
    .innerJoin(actionsTable(search), 'a.id', 'e.action_id')
    .selectAll('e')
    .select(['a.request_id as action_request_id'])
  if (search.ownerProjectId !== undefined)
    q = q.where('e.owner_project_id', '=', search.ownerProjectId)
  if (search.instanceUuid !== undefined) q = q.where('e.instance_uuid', '=', search.instanceUuid)
  if (search.events !== undefined) q = q.where('e.event', 'in', [...search.events])
  if (search.host !== undefined) q = q.where('e.host', '=', search.host)
  if (search.result === 'running') q = q.where('e.finish_time', 'is', null)
  if (search.result === 'error') q = q.where('e.result', '=', 'Error')
  if (search.result === 'success')
    q = q.where('e.finish_time', 'is not', null).where('e.result', '<>', 'Error')
  if (search.projectId !== undefined) q = q.where('e.project_id', '=', search.projectId)
  if (search.userId !== undefined) q = q.where('e.user_id', '=', search.userId)
  if (search.actions !== undefined) q = q.where('e.action_name', 'in', [...search.actions])
  if (search.requestId !== undefined) q = q.where('a.request_id', '=', search.requestId)
  if (search.stuck !== undefined)
    q = q
      .where('e.finish_time', 'is', null)
      .where(
        startedBeforeDeadline(
          'e.start_time',
          'e.action_name',
          search.stuck,
          search.timeField !== 'updated_at',
        ),
      )
  if (search.since !== undefined) q = q.where(time, '>=', search.since)
  if (search.until !== undefined) q = q.where(time, '<=', search.until)
  if (search.after !== undefined) q = q.where(afterPosition(time, 'e.id', search.after))
  return q.orderBy(time, 'desc').orderBy('e.id', 'desc').limit(search.limit)
}
