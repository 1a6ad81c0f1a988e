/**
 * SQL terms shared by the cross-instance searches (action-search-query.ts, event-search-query.ts):
 * the keyset position and the stuck-work deadline. Each is written so that a planner can start an
 * index range from a plain bound on the ordering column (see the comments below).
 */
import { sql, type RawBuilder, type SqlBool } from 'kysely'
import type { StuckDeadlines } from '../domain/stuck-work.js'
import type { ActionPosition } from './action-store.js'

/**
 * Rows after `after` in (time DESC, id DESC) order. The plain `time <= t` bound is implied by the
 * OR, but planners only start an index range scan from a plain bound; without it SQLite and
 * PostgreSQL filter every newer row (docs/storage.md).
 */
export function afterPosition(
  time: string,
  id: string,
  after: ActionPosition,
): RawBuilder<SqlBool> {
  const t = sql.ref(time)
  const at = after.startTime
  return sql<SqlBool>`${t} <= ${at} AND (${t} < ${at} OR (${t} = ${at} AND ${sql.ref(id)} < ${after.id}))`
}

/**
 * Work that started before the deadline of its action name; the caller adds `finish IS NULL` as a
 * term of its own (`.where(finish, 'is', null)`), so that it stays a top-level condition the
 * MariaDB index hint (mysql/search-index-plugin.ts) sees and counts like an equality filter: a
 * raw `IS NULL` inside this term hid it, and `state=stuck&action=X` was forced onto the
 * (action, start_time, id) index, every action of that name read (386–441 ms at 1M actions,
 * docs/benchmarks.md). The latest of all deadlines is a plain bound on start_time, so the
 * (finish_time, start_time, id) index serves the query as a range; the per-name terms then decide
 * row by row: `start < latest AND ((name IN (overridden) AND start < deadline(name)) OR
 * (name NOT IN (overridden) AND start < default))`.
 */
export function startedBeforeDeadline(
  start: string,
  name: string,
  deadlines: StuckDeadlines,
  orderedByStart: boolean,
): RawBuilder<SqlBool> {
  const s = sql.ref(start)
  // Ordered by another time (changed_at, updated_at), the deadline is a filter and not where a
  // range starts: written as a plain bound, it made SQLite (no statistics) read a project's
  // stuck events through (owner_project_id, start_time, id) and sort them by changed_at (35 ms at
  // 1M actions) rather than walk the unfinished (owner_project_id, changed_at, id) index of
  // migration 0014. SQLite starts no range from a NOT term; PostgreSQL and MariaDB rewrite
  // `NOT (s >= t)` to `s < t` and keep their choice.
  const bound = (t: string) =>
    orderedByStart ? sql<SqlBool>`${s} < ${t}` : sql<SqlBool>`NOT (${s} >= ${t})`
  if (deadlines.byAction.length === 0) return bound(deadlines.before)
  const latest = deadlines.byAction.reduce((max, [, t]) => (t > max ? t : max), deadlines.before)
  const n = sql.ref(name)
  const names = sql.join(deadlines.byAction.map(([action]) => action))
  const perName = deadlines.byAction.map(
    ([action, before]) => sql<SqlBool>`(${n} = ${action} AND ${s} < ${before})`,
  )
  const rest = sql<SqlBool>`(${n} NOT IN (${names}) AND ${s} < ${deadlines.before})`
  return sql<SqlBool>`${bound(latest)} AND (${sql.join([...perName, rest], sql` OR `)})`
}
