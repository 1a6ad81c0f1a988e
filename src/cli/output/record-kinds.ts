/**
 * What the CLI shows of each kind of record: the table's columns (with the priority deciding
 * which go first when the terminal is narrow) and the CSV's fields. Times in tables are
 * `YYYY-MM-DD HH:MM:SS` (UTC, seconds); JSON, NDJSON and CSV keep the API's values unchanged.
 */

/** A record as the API returns it. */
export type Row = Record<string, unknown>

/** One table column. */
export interface Column {
  header: string
  /** The cell's plain text. */
  cell: (row: Row) => string
  /** 1 = always shown; higher numbers are dropped first when the table does not fit. */
  priority: number
  /** Long values may be cut down to this width (with `…`); undefined: never cut. */
  minWidth?: number
  /** Whether the cell is a status word to colour (colors.ts paintStatus). */
  status?: boolean
}

/** A kind of record: its table columns and its CSV fields (known ones first). */
export interface RecordKind {
  columns: readonly Column[]
  fields: readonly string[]
}

function str(value: unknown): string {
  return value === null || value === undefined ? '' : String(value)
}

/** A canonical API time (`2026-12-06T10:46:20.123456`) as `2026-12-06 10:46:20`. */
export function shortTime(value: unknown): string {
  const s = str(value)
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(s)
  return m ? `${m[1]} ${m[2]}` : s
}

/** An action's status: `error` once an event failed, else `running` until it finished. */
export function actionStatus(row: Row): string {
  if (row.message === 'Error') return 'error'
  return row.finish_time === null || row.finish_time === undefined ? 'running' : 'success'
}

/** An event's status from its result. */
export function eventStatus(row: Row): string {
  if (row.result === 'Error') return 'error'
  if (row.result === 'Success') return 'success'
  return 'running'
}

const ID = 9

/** Actions (`/v1/actions` items). */
export const ACTIONS: RecordKind = {
  columns: [
    { header: 'START', cell: (r) => shortTime(r.start_time), priority: 1 },
    { header: 'ACTION', cell: (r) => str(r.action), priority: 1, minWidth: 8 },
    { header: 'STATUS', cell: actionStatus, priority: 1, status: true },
    { header: 'INSTANCE', cell: (r) => str(r.instance_uuid), priority: 2, minWidth: ID },
    { header: 'REQUEST', cell: (r) => str(r.request_id), priority: 3, minWidth: ID },
    { header: 'USER', cell: (r) => str(r.user_id), priority: 4, minWidth: ID },
    { header: 'FINISH', cell: (r) => shortTime(r.finish_time), priority: 5 },
    { header: 'PROJECT', cell: (r) => str(r.project_id), priority: 6, minWidth: ID },
  ],
  fields: [
    'instance_uuid',
    'action',
    'request_id',
    'user_id',
    'project_id',
    'start_time',
    'finish_time',
    'message',
    'created_at',
    'updated_at',
  ],
}

/** Events (`/v1/events` items, and the events embedded in an action). */
export const EVENTS: RecordKind = {
  columns: [
    { header: 'START', cell: (r) => shortTime(r.start_time), priority: 1 },
    { header: 'EVENT', cell: (r) => str(r.event), priority: 1, minWidth: 10 },
    { header: 'STATUS', cell: eventStatus, priority: 1, status: true },
    { header: 'ACTION', cell: (r) => str(r.action), priority: 2, minWidth: 8 },
    { header: 'INSTANCE', cell: (r) => str(r.instance_uuid), priority: 3, minWidth: ID },
    { header: 'REQUEST', cell: (r) => str(r.request_id), priority: 4, minWidth: ID },
    { header: 'HOST', cell: (r) => str(r.host), priority: 5, minWidth: 8 },
    { header: 'FINISH', cell: (r) => shortTime(r.finish_time), priority: 6 },
  ],
  fields: [
    'instance_uuid',
    'request_id',
    'action',
    'event',
    'start_time',
    'finish_time',
    'result',
    'host',
    'traceback',
    'details',
    'created_at',
    'updated_at',
  ],
}

/** Instances (`/v1/instances` items). */
export const INSTANCES: RecordKind = {
  columns: [
    { header: 'NAME', cell: (r) => str(r.name), priority: 1, minWidth: 10 },
    { header: 'UUID', cell: (r) => str(r.uuid), priority: 1, minWidth: ID },
    { header: 'PROJECT', cell: (r) => str(r.project_id), priority: 2, minWidth: ID },
    { header: 'CREATED', cell: (r) => shortTime(r.created_at), priority: 3 },
    { header: 'DELETED', cell: (r) => shortTime(r.deleted_at), priority: 4 },
    { header: 'USER', cell: (r) => str(r.user_id), priority: 5, minWidth: ID },
  ],
  fields: ['uuid', 'name', 'project_id', 'user_id', 'created_at', 'updated_at', 'deleted_at'],
}
