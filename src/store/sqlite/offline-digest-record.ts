/**
 * The records whose digests the offline import writer (sqlite-offline-import.ts) computes for the
 * hash chain, from the rows it writes: the digest columns (security/chain/canonical-record.ts) of
 * an action or event row, as an object of one fixed shape.
 *
 * Why not a record built from the column names in a loop: an object given its keys one at a time
 * by a variable name (19 for an event row) is a slow, dictionary-mode object to V8, and everything
 * that reads it after (the checks of change-feed.ts storedValues, the canonical encoding) slows
 * down with it. Measured on 200,000 event rows (2026-12-07, loaded machine, CPU per row): the
 * record, its checks and digest 3.5–4.5 µs built in a loop, 1.9–2.6 µs as this literal.
 * offline-digest-record.test.ts pins the positions to the column lists.
 */
import type { StoredRow } from '../../security/chain/canonical-record.js'
import { IMPORTED_ACTION_COLUMNS, IMPORTED_EVENT_COLUMNS } from '../write/import-program.js'

/** The columns of an action row as the offline writer writes it: its id, then the import's. */
export const ACTION_ROW = ['id', ...IMPORTED_ACTION_COLUMNS] as const

/** The columns of an event row as the offline writer writes it: its id, then the import's. */
export const EVENT_ROW = ['id', ...IMPORTED_EVENT_COLUMNS] as const

/** The digest columns of an action row (values in {@link ACTION_ROW} order). */
export function actionDigestRecord(row: readonly unknown[]): StoredRow {
  return {
    id: row[0],
    instance_uuid: row[1],
    action: row[2],
    request_id: row[3],
    user_id: row[4],
    project_id: row[5],
    start_time: row[6],
    finish_time: row[7],
    message: row[8],
    created_at: row[9],
    updated_at: row[10],
    written_by: row[12],
  }
}

/** The digest columns of an event row (values in {@link EVENT_ROW} order). */
export function eventDigestRecord(row: readonly unknown[]): StoredRow {
  return {
    id: row[0],
    action_id: row[1],
    event: row[2],
    start_time: row[3],
    finish_time: row[4],
    result: row[5],
    traceback: row[6],
    host: row[7],
    details: row[8],
    created_at: row[9],
    updated_at: row[10],
    written_by: row[17],
    finished_by: row[18],
  }
}
