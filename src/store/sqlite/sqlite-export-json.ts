/**
 * SQLite builds an export's lines itself (issue 13's export target: 1M actions with 5M events at
 * ≥ 50,000 actions/s): each record `{"instance":…,"action":…,"events":[…]}` as one JSON text.
 *
 * Why SQL and not objects: through Kysely's SQLite driver every row is an object, mapped to a
 * domain record, then to its view, then stringified. Measured 2026-12-07 on a 200,000-action store
 * (1M events): 17 CPU s for the whole export that way; 3.9–4.5 CPU s with each action's events as
 * one JSON text from `json_object` / `json_group_array` (SQLite's C code, rows never becoming
 * JavaScript objects); the whole line built so is what bench:export calls the floor. SQLite keeps
 * every time in canonical text (store/rows.ts canonicalTime passes it through untouched) and every
 * other shown column as written, so the text is the views': the same keys in the same order,
 * escaped as JSON.stringify escapes (test/store/sqlite-export-json.test.ts compares the two on
 * awkward values, each path, with and without ids).
 */
import type BetterSqlite3 from 'better-sqlite3'
import type { ExportLines, ExportLinesRequest } from '../action-store.js'

/** Builds the lines of these actions (by stored id), in the order of the ids. */
export type ExportLinesReader = (
  actionIds: readonly number[],
  request: ExportLinesRequest,
) => ExportLines

/**
 * An empty writer tag reads as none: toAction/toEvent (store/rows.ts) keep only a non-empty tag,
 * and the views show a missing one as null.
 */
const tag = (column: string) => `NULLIF(${column}, '')`

/** api/v1/views.ts instanceView, key for key. */
const INSTANCE_JSON = `json_object('uuid', i.uuid, 'name', i.name, 'project_id', i.project_id,
  'user_id', i.user_id, 'created_at', i.created_at, 'updated_at', i.updated_at,
  'deleted_at', i.deleted_at)`

/** The admin action view (api/v1/query-common.ts queryActionView with internals), key for key. */
const ACTION_JSON = `json_object('instance_uuid', a.instance_uuid, 'action', a.action,
  'request_id', a.request_id, 'user_id', a.user_id, 'project_id', a.project_id,
  'start_time', a.start_time, 'finish_time', a.finish_time, 'message', a.message,
  'created_at', a.created_at, 'updated_at', a.updated_at, 'written_by', ${tag('a.written_by')})`

/**
 * The admin event view (api/v1/query-common.ts queryEventView with internals and details), key
 * for key: an export shows everything.
 */
const EVENT_JSON = `json_object('event', e.event, 'start_time', e.start_time,
  'finish_time', e.finish_time, 'result', e.result, 'created_at', e.created_at,
  'updated_at', e.updated_at, 'traceback', e.traceback, 'host', e.host,
  'written_by', ${tag('e.written_by')}, 'finished_by', ${tag('e.finished_by')}, 'details', e.details)`

/** listEventsOfActions' order, newest first, stated in each aggregate (SQLite 3.44+). */
const EVENT_ORDER = 'ORDER BY e.created_at DESC, e.id DESC'

/**
 * The statement of a page's text: every line and its newline, concatenated by SQLite in the
 * order of the ids, as one BLOB (UTF-8 bytes), with the count. The ids arrive as one JSON
 * parameter (json_each): one statement text for any page size, no 999-parameter limit, and
 * `j.key` (the position in the list) keeps the page's order. Each action's events are one
 * correlated aggregate over the (action_id, …) index.
 *
 * One BLOB a page rather than a string a row: measured 2026-12-07 on 100,000 actions (500,000
 * events), 1.65 CPU s against 2.35 for the rows as strings joined in JavaScript and encoded for
 * the output — nothing per record crosses into JavaScript, and the bytes are what the output
 * takes (a worker hands them over without a copy). Run by the store's own connection
 * (sqliteExportLines) and by export-lines-worker.ts.
 */
export function pageSql({ withIds }: ExportLinesRequest): string {
  const eventsOf = (value: string) =>
    `(SELECT json_group_array(${value} ${EVENT_ORDER}) FROM instance_actions_events e
      WHERE e.action_id = a.id)`
  const ids = withIds ? `, 'ids', json_object('action', a.id, 'events', ${eventsOf('e.id')})` : ''
  const line = `json_object('instance', ${INSTANCE_JSON}, 'action', ${ACTION_JSON},
      'events', ${eventsOf(EVENT_JSON)}${ids})`
  return `SELECT CAST(group_concat(${line} || char(10), '' ORDER BY j.key) AS BLOB), count(*)
    FROM json_each(?) j
    JOIN instance_actions a ON a.id = j.value
    JOIN instances i ON i.uuid = a.instance_uuid`
}

/**
 * A reader of export lines on a native handle (the store's own connection, or a worker's:
 * export-lines-pool.ts). Statements are prepared on first use: the tables exist only once the
 * store is migrated.
 */
export function sqliteExportLines(native: BetterSqlite3.Database): ExportLinesReader {
  const statements = new Map<boolean, BetterSqlite3.Statement<[string], [Buffer | null, number]>>()
  return (actionIds, request) => {
    let statement = statements.get(request.withIds)
    if (!statement) {
      statement = native.prepare<[string], [Buffer | null, number]>(pageSql(request)).raw(true)
      statements.set(request.withIds, statement)
    }
    const [bytes, count] = statement.get(JSON.stringify(actionIds)) as [Buffer | null, number]
    return { data: bytes ?? Buffer.alloc(0), count }
  }
}
