/**
 * Row ↔ record mapping shared by every backend's reads and writes, and the one place where times
 * read from a database become canonical Timestamps again.
 */
import type { Selectable } from 'kysely'
import type {
  ActionEvent,
  EventResult,
  Instance,
  InstanceAction,
} from '../domain/instance-action.js'
import type { Timestamp } from '../domain/timestamp.js'
import type { ActionsTable, EventsTable, InstancesTable } from './schema.js'

// What a server hands back for a native time column: PostgreSQL's `timestamp` text drops trailing
// fraction zeros ('2026-01-01 00:00:00.1', '2026-01-01 00:00:00'); MariaDB/MySQL `datetime(6)`
// with dateStrings keeps six digits; both use a space where the canonical form has a 'T'.
const DB_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/**
 * A time column's value in canonical form (`YYYY-MM-DDTHH:MM:SS.ffffff`). SQLite stores the
 * canonical text itself, which passes through untouched; server databases return their own text
 * forms; a Date (a driver configured to parse times) keeps only milliseconds, padded to six digits.
 */
export function canonicalTime(value: unknown): Timestamp {
  if (typeof value === 'string') {
    // The common case (SQLite): already canonical.
    if (value.length === 26 && value.charCodeAt(10) === 84 /* T */) return value as Timestamp
    // Six fraction digits and a space (MariaDB's datetime(6), Nova's SQLite text): one new string,
    // without the capture groups' four (a Nova import converts millions of these).
    if (value.length === 26 && DB_TIME.test(value)) return value.replace(' ', 'T') as Timestamp
    const m = DB_TIME.exec(value)
    if (m) return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(6, '0')}` as Timestamp
  } else if (value instanceof Date && !Number.isNaN(value.getTime())) {
    return (`${pad(value.getUTCFullYear(), 4)}-${pad(value.getUTCMonth() + 1, 2)}-${pad(value.getUTCDate(), 2)}` +
      `T${pad(value.getUTCHours(), 2)}:${pad(value.getUTCMinutes(), 2)}:${pad(value.getUTCSeconds(), 2)}` +
      `.${pad(value.getUTCMilliseconds(), 3)}000`) as Timestamp
  }
  throw new Error(`unexpected time value from the database: ${String(value)}`)
}

/** canonicalTime for nullable columns. */
export function canonicalTimeOrNull(value: unknown): Timestamp | null {
  return value === null || value === undefined ? null : canonicalTime(value)
}

/** An `instances` row as a record. */
export function toInstance(row: Selectable<InstancesTable>): Instance {
  return {
    uuid: row.uuid,
    name: row.name,
    projectId: row.project_id,
    userId: row.user_id,
    createdAt: canonicalTime(row.created_at),
    updatedAt: canonicalTime(row.updated_at),
    deletedAt: canonicalTimeOrNull(row.deleted_at),
  }
}

/** An `instance_actions` row as a record. */
export function toAction(row: Selectable<ActionsTable>): InstanceAction {
  return {
    id: Number(row.id),
    instanceUuid: row.instance_uuid,
    action: row.action,
    requestId: row.request_id,
    userId: row.user_id,
    projectId: row.project_id,
    startTime: canonicalTime(row.start_time),
    finishTime: canonicalTimeOrNull(row.finish_time),
    message: row.message,
    createdAt: canonicalTime(row.created_at),
    updatedAt: canonicalTimeOrNull(row.updated_at),
    // Only when set: records of untagged writes (and of older rows) stay as they were.
    ...(row.written_by ? { writtenBy: row.written_by } : {}),
  }
}

/** An `instance_actions_events` row as a record. */
export function toEvent(row: Selectable<EventsTable>): ActionEvent {
  return {
    id: Number(row.id),
    actionId: Number(row.action_id),
    event: row.event,
    startTime: canonicalTime(row.start_time),
    finishTime: canonicalTimeOrNull(row.finish_time),
    result: row.result as EventResult | null,
    traceback: row.traceback,
    host: row.host,
    details: row.details,
    createdAt: canonicalTime(row.created_at),
    updatedAt: canonicalTimeOrNull(row.updated_at),
    ...(row.written_by ? { writtenBy: row.written_by } : {}),
    ...(row.finished_by ? { finishedBy: row.finished_by } : {}),
  }
}
