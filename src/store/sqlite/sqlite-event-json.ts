/**
 * SQLite builds the JSON of an export's events itself (issue 13's export target: 1M actions with
 * 5M events at ≥ 50,000 actions/s).
 *
 * Why here and not as objects: through Kysely's SQLite driver every event row is an object, mapped
 * to a domain event, then to its view, then stringified — measured 2026-12-07 on a 200,000-action
 * store (1M events), 17 CPU s for the whole export; with each action's events as one JSON text from
 * `json_object`/`json_group_array` (SQLite's C code, rows never becoming JavaScript objects),
 * 3.9–4.5 CPU s. SQLite keeps every time in canonical text (store/rows.ts canonicalTime passes it
 * through untouched) and every other shown column as written, so the text is the view's: the same
 * keys in the same order, escaped as JSON.stringify escapes (test/store/sqlite-event-json.test.ts
 * compares the two on awkward values).
 */
import type BetterSqlite3 from 'better-sqlite3'
import type { EventsJson } from '../action-store.js'

/**
 * The admin event view (api/v1/query-common.ts queryEventView with internals and details), key for
 * key: an export shows everything.
 */
const EVENT_VIEW_JSON = `json_object('event', e.event, 'start_time', e.start_time,
  'finish_time', e.finish_time, 'result', e.result, 'created_at', e.created_at,
  'updated_at', e.updated_at, 'traceback', e.traceback, 'host', e.host,
  'written_by', e.written_by, 'finished_by', e.finished_by, 'details', e.details)`

/**
 * Each action's events newest first (created_at, then id: listEventsOfActions' order) as a JSON
 * array of views and a JSON array of their ids, the order stated in each aggregate (SQLite 3.44+)
 * rather than left to a subquery's. The ids arrive as one JSON parameter (json_each): one
 * statement text for any page size, no 999-parameter limit.
 */
const eventsSql = (table: string) => `SELECT e.action_id,
    json_group_array(${EVENT_VIEW_JSON} ORDER BY e.created_at DESC, e.id DESC),
    json_group_array(e.id ORDER BY e.created_at DESC, e.id DESC)
  FROM ${table} e
  WHERE e.action_id IN (SELECT value FROM json_each(?))
  GROUP BY e.action_id`

/** A reader of events as JSON on the native handle, live or archived (shadow) tables. */
export function sqliteEventsJson(
  native: BetterSqlite3.Database,
): (actionIds: readonly number[], archived: boolean) => Map<number, EventsJson> {
  let live: BetterSqlite3.Statement | undefined
  let shadow: BetterSqlite3.Statement | undefined
  return (actionIds, archived) => {
    // Prepared on first use: the tables exist only once the store is migrated.
    const statement = archived
      ? (shadow ??= native.prepare(eventsSql('shadow_instance_actions_events')).raw(true))
      : (live ??= native.prepare(eventsSql('instance_actions_events')).raw(true))
    const out = new Map<number, EventsJson>()
    for (const row of statement.all(JSON.stringify(actionIds)) as [number, string, string][])
      out.set(Number(row[0]), { views: row[1], ids: row[2] })
    return out
  }
}
