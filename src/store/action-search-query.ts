/**
 * The SQL of `ActionStore.searchActions`, one Kysely query for every backend. Its own module so
 * that the EXPLAIN test (test/store/action-search.contract.test.ts) plans exactly what the store
 * runs.
 */
import { sql, type ExpressionBuilder, type Kysely } from 'kysely'
import type { ActionSearch } from './action-store.js'
import type { Database } from './schema.js'
import { dialectOf } from './dialect.js'
import { distinctValues, unionOfPages } from './per-value-union.js'
import { afterPosition, startedBeforeDeadline } from './search-terms.js'

/**
 * Actions matching `search`, ordered by the time field (start_time or updated_at) DESC, id DESC,
 * at most `search.limit`. Every filter is an equality or range that an index of migrations 0004
 * and 0005 starts with, followed by (time, id), so a page is an index range read newest first
 * without a sort. The owner project is a column of the action (migration 0005), not a join: a
 * small project's page no longer walks every project's rows.
 */
export function searchActionsQuery(
  db: Kysely<Database>,
  search: ActionSearch,
  options: SearchPlanOptions = {},
) {
  // Several action names: one index range per name, merged (per-value-union.ts).
  const names = search.actions && distinctValues(search.actions)
  if (names !== undefined && names.length > 1) {
    const time = search.timeField === 'updated_at' ? 'updated_at' : 'start_time'
    const pages = names.map((name) => oneQuery(db, { ...search, actions: [name] }, options))
    return unionOfPages(db, pages, time, 'id', search.limit)
  }
  return oneQuery(db, search, options)
}

/** What the store knows of the data that chooses between plans (MariaDB's `host`, onHost). */
export interface SearchPlanOptions {
  /** The host filter names a host with fewer than RARE_HOST_EVENTS events. */
  rareHost?: boolean
}

/**
 * MariaDB: a host with fewer events than this is searched through the EXISTS that MariaDB
 * materializes (reading all of the host's events costs less than walking the actions until a
 * page of the host's is found); from this many on, through the per-action probe (onHost).
 * Measured 2026-12-07 (docs/benchmarks.md, "Session 11: MariaDB `host` filter"): the two cost
 * alike near √(17 × actions) events on the host — ~1,850 at 200k actions, ~4,100 at 1M; below
 * that, a page is found by the walk only after ~17 × actions ÷ events-on-the-host actions.
 */
export const RARE_HOST_EVENTS = 4096

/** searchActionsQuery with at most one action name. */
function oneQuery(db: Kysely<Database>, search: ActionSearch, options: SearchPlanOptions) {
  const time = search.timeField === 'updated_at' ? 'a.updated_at' : 'a.start_time'
  let q = db.selectFrom(actionsTable(search)).selectAll('a')
  if (search.ownerProjectId !== undefined)
    q = q.where('a.owner_project_id', '=', search.ownerProjectId)
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
  if (search.stuck !== undefined)
    q = q
      .where('a.finish_time', 'is', null)
      .where(
        startedBeforeDeadline(
          'a.start_time',
          'a.action',
          search.stuck,
          search.timeField !== 'updated_at',
        ),
      )
  if (search.host !== undefined)
    q = q.where(onHost(db, search, search.host, options.rareHost === true))
  if (search.since !== undefined) q = q.where(time, '>=', search.since)
  if (search.until !== undefined) q = q.where(time, '<=', search.until)
  if (search.after !== undefined) q = q.where(afterPosition(time, 'a.id', search.after))
  return q.orderBy(time, 'desc').orderBy('a.id', 'desc').limit(search.limit)
}

/**
 * `host = X`: some event of the action ran on X. SQLite and PostgreSQL walk the actions newest
 * first and run the EXISTS as one probe of `(host, action_id)` per action walked. MariaDB 10.11
 * turns the same EXISTS into a semi-join that first MATERIALIZES every event of the host (11,841
 * index entries for `compute-7`, on 2 % of 200k actions, on every page; ~5× that at 1M). A scalar
 * subquery cannot become a semi-join, so MariaDB walks and probes as the others do: 2,341 actions
 * walked and probed for page 1, 6.4 ms against 20.3 ms in ANALYZE; at 1M, 11.7 ms against
 * 2,068 ms (2026-12-07, shared 2-vCPU machine, load 9–11; docs/benchmarks.md, "Session 11:
 * MariaDB `host` filter"). Its price, for a host on few or no actions, is the whole walk (0.2 ms →
 * 7.3 s at 1M for an unknown host): such a host (`rare`, RARE_HOST_EVENTS) keeps the EXISTS. Only
 * MariaDB gets the probe: the other plans stay as they were measured.
 */
function onHost(db: Kysely<Database>, search: ActionSearch, host: string, rare: boolean) {
  return (eb: ExpressionBuilder<Database & { a: Database['instance_actions'] }, 'a'>) => {
    const matches = eb
      .selectFrom(eventsTable(search))
      .select(sql.lit(1).as('one'))
      .whereRef('e.action_id', '=', 'a.id')
      .where('e.host', '=', host)
    if (rare || dialectOf(db) !== 'mysql') return eb.exists(matches)
    return eb(matches.limit(1), 'is not', null)
  }
}

/**
 * The actions table a search reads: the shadow table for `archived` (migration 0012, the same
 * columns). Kysely's types know one name per alias; the SQL names the table given.
 */
export function actionsTable(search: { archived?: boolean }): 'instance_actions as a' {
  return (
    search.archived === true ? 'shadow_instance_actions as a' : 'instance_actions as a'
  ) as 'instance_actions as a'
}

/** The events table a search reads (see {@link actionsTable}). */
export function eventsTable(search: { archived?: boolean }): 'instance_actions_events as e' {
  return (
    search.archived === true
      ? 'shadow_instance_actions_events as e'
      : 'instance_actions_events as e'
  ) as 'instance_actions_events as e'
}
