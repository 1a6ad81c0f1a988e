/**
 * A Nova cell database in an SQLite file, opened read-only (SQLITE_OPEN_READONLY: a write is
 * refused by SQLite itself).
 *
 * Nova's migrations give `instance_actions_events.action_id` no index on SQLite (InnoDB indexes a
 * foreign key column by itself, SQLite does not), and the importer may not add one to Nova's
 * file. Without it each batch's events would be a scan of the whole table. So when no index
 * starts with action_id, the (action_id, id) pairs still to import are copied once into a TEMP
 * table keyed by them (in SQLite's temp file, not in Nova's database; it goes when the connection
 * closes), and each batch's events are a range of that key joined to the table by primary key.
 */
import Database from 'better-sqlite3'
import { AppError } from '../../domain/errors.js'
import { threadBatches } from './cell-reader-thread.js'
import { inThreadBatches } from './import-batch-reader.js'
import {
  ACTION_COLUMNS,
  EVENT_COLUMNS,
  INSTANCE_COLUMNS,
  type NovaActionBatch,
  type NovaActionRow,
  type NovaCellSource,
  type NovaEventRow,
  type NovaInstanceRow,
} from './nova-rows.js'

/**
 * A select list of `columns` (of `alias`) with each time column's date and time joined by `T`
 * instead of the space Nova's SQLite text has: ActionTrail's canonical form
 * (store/rows.ts canonicalTime), which the mapping then takes as it is.
 *
 * Why: the mapping made a new string of every time in JavaScript (`replace`, after a regular
 * expression's check), four per event and per action: 0.6-0.9 s of the reader thread's CPU in a
 * profile of 200k actions (2026-12-07), and garbage. Reading and mapping those 200k actions
 * (alternated runs, same day) took 9.6-11.5 s of CPU before, 6.7-8.5 s with SQLite's replace. A
 * value that is not a time (or has a space elsewhere) fares as before in canonicalTime: only the
 * separator may be a space or a `T`.
 */
function selectList(columns: readonly string[], alias?: string): string {
  return columns
    .map((c) => {
      const name = alias ? `${alias}.${c}` : c
      return c.endsWith('_time') || c.endsWith('_at') ? `replace(${name}, ' ', 'T')` : name
    })
    .join(', ')
}

function hasActionIdIndex(db: Database.Database): boolean {
  const indexes = db.prepare("PRAGMA main.index_list('instance_actions_events')").all() as {
    name: string
  }[]
  return indexes.some((ix) => {
    const cols = db.prepare(`PRAGMA main.index_info(${JSON.stringify(ix.name)})`).all() as {
      seqno: number
      name: string
    }[]
    return cols.find((c) => c.seqno === 0)?.name === 'action_id'
  })
}

/** Options of {@link openSqliteCell}. */
export interface SqliteCellOptions {
  /**
   * Whether the importer's action walk reads ahead on a thread of its own (cell-reader-thread.ts;
   * default true). Off, it runs on the importer's thread, as for a MariaDB/MySQL cell.
   */
  readerThread?: boolean
}

/** Opens a Nova cell's SQLite file read-only. */
export function openSqliteCell(path: string, options: SqliteCellOptions = {}): NovaCellSource {
  let db: Database.Database
  try {
    db = new Database(path, { readonly: true, fileMustExist: true })
  } catch (err) {
    throw new AppError('invalid_input', `cannot open the Nova database ${path}`, { cause: err })
  }
  const indexed = hasActionIdIndex(db)
  let keysFrom: number | undefined
  // Rows as arrays (raw): see nova-rows.ts.
  const instances = db
    .prepare(
      `SELECT ${selectList(INSTANCE_COLUMNS)} FROM instances WHERE id > ? ORDER BY id LIMIT ?`,
    )
    .raw(true)
  const actions = db
    .prepare(
      `SELECT ${selectList(ACTION_COLUMNS)} FROM instance_actions WHERE id > ? ORDER BY id LIMIT ?`,
    )
    .raw(true)
  // The batch's instances in one statement (Nova's unique index on instances.uuid), not one
  // look-up per distinct instance: a statement per row cost more than the batch's events.
  const batchInstances = db
    .prepare(
      `SELECT ${selectList(INSTANCE_COLUMNS)} FROM instances WHERE uuid IN ` +
        '(SELECT instance_uuid FROM instance_actions WHERE id BETWEEN ? AND ?)',
    )
    .raw(true)
  let events: Database.Statement | undefined
  const read = db.transaction((after: number, limit: number): NovaActionBatch => {
    const rows = actions.all(after, limit) as NovaActionRow[]
    if (rows.length === 0) return { actions: [], events: [], instances: [] }
    const first = rows[0]![0]
    const last = rows[rows.length - 1]![0]
    if (!events) {
      if (indexed) {
        events = db.prepare(
          `SELECT ${selectList(EVENT_COLUMNS)} FROM instance_actions_events ` +
            'WHERE action_id BETWEEN ? AND ? ORDER BY action_id, id',
        )
      } else {
        // The pairs from this batch on, once (see the header).
        keysFrom = first
        db.exec(
          'CREATE TEMP TABLE import_event_keys (action_id INTEGER NOT NULL, id INTEGER NOT NULL, ' +
            'PRIMARY KEY (action_id, id)) WITHOUT ROWID',
        )
        db.prepare(
          'INSERT INTO temp.import_event_keys SELECT action_id, id FROM main.instance_actions_events ' +
            'WHERE action_id >= ? ORDER BY action_id, id',
        ).run(keysFrom)
        events = db.prepare(
          `SELECT ${selectList(EVENT_COLUMNS, 'e')} FROM temp.import_event_keys k ` +
            'JOIN main.instance_actions_events e ON e.id = k.id ' +
            'WHERE k.action_id BETWEEN ? AND ? ORDER BY k.action_id, k.id',
        )
      }
      events.raw(true)
    }
    return {
      actions: rows,
      events: events.all(first, last) as NovaEventRow[],
      instances: batchInstances.all(first, last) as NovaInstanceRow[],
    }
  })
  const source: NovaCellSource = {
    label: path,
    instances: (after, limit) => Promise.resolve(instances.all(after, limit) as NovaInstanceRow[]),
    // A deferred read transaction: the actions, their events and instances from one snapshot.
    actions: (after, limit) => {
      if (keysFrom !== undefined && after + 1 < keysFrom)
        throw new Error('the event key table does not reach back to this batch')
      return Promise.resolve(read.deferred(after, limit))
    },
    lastActionId: () =>
      Promise.resolve(
        Number(
          (db.prepare('SELECT MAX(id) AS m FROM instance_actions').get() as { m: unknown }).m ?? 0,
        ),
      ),
    close: () => {
      db.close()
      return Promise.resolve()
    },
  }
  if (options.readerThread === false) return source
  return {
    ...source,
    batches: (after, limit, chain) =>
      threadBatches(path, after, limit, () => inThreadBatches(source, after, limit), chain),
  }
}
