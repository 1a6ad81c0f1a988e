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
 * Unfinished work that started before the deadline of its action name. The latest of all deadlines
 * is a plain bound on start_time, so the (finish_time, start_time, id) index serves the query as a
 * range; the per-name terms then decide row by row:
 * `finish IS NULL AND start < latest AND ((name IN (overridden) AND start < deadline(name)) OR
 * (name NOT IN (overridden) AND start < default))`.
 */
export function stuckWork(
  finish: string,
  start: string,
  name: string,
  deadlines: StuckDeadlines,
): RawBuilder<SqlBool> {
  const s = sql.ref(start)
  const unfinished = sql<SqlBool>`${sql.ref(finish)} IS NULL`
  if (deadlines.byAction.length === 0)
    return sql<SqlBool>`${unfinished} AND ${s} < ${deadlines.before}`
  const latest = deadlines.byAction.reduce((max, [, t]) => (t > max ? t : max), deadlines.before)
  const n = sql.ref(name)
  const names = sql.join(deadlines.byAction.map(([action]) => action))
  const perName = deadlines.byAction.map(
    ([action, before]) => sql<SqlBool>`(${n} = ${action} AND ${s} < ${before})`,
  )
  const rest = sql<SqlBool>`(${n} NOT IN (${names}) AND ${s} < ${deadlines.before})`
  return sql<SqlBool>`${unfinished} AND ${s} < ${latest} AND (${sql.join([...perName, rest], sql` OR `)})`
}
