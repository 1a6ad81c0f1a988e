/**
 * The SQL of `ActionStore.searchActions`, one Kysely query for every backend. Its own module so
 * that the EXPLAIN test (test/store/action-search-plans.test.ts) plans exactly what the store runs.
 */
import { sql, type Kysely } from 'kysely'
import type { ActionSearch } from './action-store.js'
import type { Database } from './schema.js'

/**
 * Actions matching `search`, ordered start_time DESC, id DESC, at most `search.limit`. Every
 * filter is an equality or range that an index of migration 0004 starts with, followed by
 * (start_time, id), so a page is an index range read newest first without a sort.
 */
export function searchActionsQuery(db: Kysely<Database>, search: ActionSearch) {
  let q = db.selectFrom('instance_actions as a').selectAll('a')
  if (search.ownerProjectId !== undefined) {
    q = q
      .innerJoin('instances as i', 'i.uuid', 'a.instance_uuid')
      .where('i.project_id', '=', search.ownerProjectId)
  }
  if (search.instanceUuid !== undefined) q = q.where('a.instance_uuid', '=', search.instanceUuid)
  if (search.projectId !== undefined) q = q.where('a.project_id', '=', search.projectId)
  if (search.userId !== undefined) q = q.where('a.user_id', '=', search.userId)
  if (search.actions !== undefined) q = q.where('a.action', 'in', [...search.actions])
  if (search.requestId !== undefined) q = q.where('a.request_id', '=', search.requestId)
  if (search.result === 'running') q = q.where('a.finish_time', 'is', null)
  if (search.result === 'error') q = q.where('a.message', '=', 'Error')
  if (search.result === 'success') {
    q = q
      .where('a.finish_time', 'is not', null)
      .where((eb) => eb.or([eb('a.message', 'is', null), eb('a.message', '<>', 'Error')]))
  }
  if (search.host !== undefined) {
    const host = search.host
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('instance_actions_events as e')
          .select(sql.lit(1).as('one'))
          .whereRef('e.action_id', '=', 'a.id')
          .where('e.host', '=', host),
      ),
    )
  }
  if (search.since !== undefined) q = q.where('a.start_time', '>=', search.since)
  if (search.until !== undefined) q = q.where('a.start_time', '<=', search.until)
  const after = search.after
  if (after !== undefined) {
    // The plain `<=` bound lets planners start an index range scan (see #listActions).
    q = q
      .where('a.start_time', '<=', after.startTime)
      .where((eb) =>
        eb.or([
          eb('a.start_time', '<', after.startTime),
          eb.and([eb('a.start_time', '=', after.startTime), eb('a.id', '<', after.id)]),
        ]),
      )
  }
  return q.orderBy('a.start_time', 'desc').orderBy('a.id', 'desc').limit(search.limit)
}
