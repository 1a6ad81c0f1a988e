/**
 * The rows of a Nova cell database that the importer reads (Nova's `nova/db/main/models.py`:
 * `instances`, `instance_actions`, `instance_actions_events`), as both drivers return them: times
 * as text (SQLite: `YYYY-MM-DD HH:MM:SS.ffffff`; MySQL `DATETIME`: whole seconds).
 *
 * Rows are arrays in the order of the column lists below (better-sqlite3's `raw` mode, mysql2's
 * `rowsAsArray`), not objects keyed by column: the drivers build a keyed object per row through
 * the engine's slow path, and the objects were a third of the import's read time and most of its
 * garbage (measured: 250k events read as objects 660–940 ms, as arrays 310–370 ms, bench cell of
 * 50k actions, load 2.5). The tuple types name each position, and readers destructure them.
 */

/** The columns of `instances` the importer reads, in the order of {@link NovaInstanceRow}. */
export const INSTANCE_COLUMNS = [
  'id',
  'uuid',
  'display_name',
  'hostname',
  'project_id',
  'user_id',
  'created_at',
  'updated_at',
  'deleted_at',
  'deleted',
] as const

/** An `instances` row ({@link INSTANCE_COLUMNS}). */
export type NovaInstanceRow = readonly [
  id: number,
  uuid: string,
  display_name: string | null,
  hostname: string | null,
  project_id: string | null,
  user_id: string | null,
  created_at: string | null,
  updated_at: string | null,
  deleted_at: string | null,
  /** Nova's soft delete: 0 while the instance lives, its id once deleted. */
  deleted: number | null,
]

/** The columns of `instance_actions`, in the order of {@link NovaActionRow}. */
export const ACTION_COLUMNS = [
  'id',
  'action',
  'instance_uuid',
  'request_id',
  'user_id',
  'project_id',
  'start_time',
  'finish_time',
  'message',
  'created_at',
  'updated_at',
] as const

/** An `instance_actions` row ({@link ACTION_COLUMNS}). */
export type NovaActionRow = readonly [
  id: number,
  action: string | null,
  instance_uuid: string | null,
  request_id: string | null,
  user_id: string | null,
  project_id: string | null,
  start_time: string | null,
  finish_time: string | null,
  message: string | null,
  created_at: string | null,
  updated_at: string | null,
]

/** The columns of `instance_actions_events`, in the order of {@link NovaEventRow}. */
export const EVENT_COLUMNS = [
  'id',
  'action_id',
  'event',
  'start_time',
  'finish_time',
  'result',
  'traceback',
  'host',
  'details',
  'created_at',
  'updated_at',
] as const

/** An `instance_actions_events` row ({@link EVENT_COLUMNS}). */
export type NovaEventRow = readonly [
  id: number,
  action_id: number | null,
  event: string | null,
  start_time: string | null,
  finish_time: string | null,
  result: string | null,
  traceback: string | null,
  host: string | null,
  details: string | null,
  created_at: string | null,
  updated_at: string | null,
]

/** A column list for SQL, each column prefixed with `alias.` when given. */
export function columnList(columns: readonly string[], alias?: string): string {
  return (alias ? columns.map((c) => `${alias}.${c}`) : columns).join(', ')
}

/** The id of the last row of a keyset batch (every row starts with its id): where the next starts. */
export function lastId(rows: readonly (readonly [number, ...unknown[]])[]): number {
  return rows[rows.length - 1]![0]
}

import type { ChainStart, ImportBatchReader } from './import-batch-reader.js'

/** One keyset batch of actions (ordered by id) with every event of those actions. */
export interface NovaActionBatch {
  actions: NovaActionRow[]
  /** The events of those actions, ordered by action id (then id). */
  events: NovaEventRow[]
  /** The instances the actions name (found ones only). */
  instances: NovaInstanceRow[]
}

/**
 * One Nova cell database, read only. Every read is a keyset batch by id (`id > after ORDER BY id
 * LIMIT n`), so a batch costs the same at any position and memory stays flat at any size.
 */
export interface NovaCellSource {
  /** The cell's name in messages and in the checkpoint: its URL without password, or the path. */
  readonly label: string
  /** Instances with id > after, by id. */
  instances(after: number, limit: number): Promise<NovaInstanceRow[]>
  /** Actions with id > after, by id, with their events and instances (one consistent read). */
  actions(after: number, limit: number): Promise<NovaActionBatch>
  /**
   * The action walk after `after` as import batches, when the source reads them in a way of its
   * own (an SQLite cell: ahead, on a thread, cell-reader-thread.ts); otherwise the importer reads
   * them with {@link actions} (import-batch-reader.ts inThreadBatches). With `chain`, the batches
   * may come with their hash chain planned ahead from there (store/sqlite/offline-batch-layout.ts).
   */
  batches?(after: number, limit: number, chain?: ChainStart): ImportBatchReader
  /** The largest action id (0 when none): the end of the walk, for progress. */
  lastActionId(): Promise<number>
  close(): Promise<void>
}
