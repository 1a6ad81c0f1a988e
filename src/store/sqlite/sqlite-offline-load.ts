/**
 * The offline bulk-load mode (store/offline-load.ts) on SQLite.
 *
 * Alone: leaving WAL mode is refused by SQLite while any other connection has the database open,
 * so switching to a rollback journal in EXCLUSIVE locking mode both proves that nobody else is
 * there and keeps it so (the first write takes the exclusive lock and holds it until finish; other
 * processes then get SQLITE_BUSY even for reads).
 *
 * Bulk settings, for the load only: a rollback journal (TRUNCATE) instead of WAL, since in WAL
 * every new page is written twice (into the log, then by the checkpoint) while a rollback journal
 * only saves the few pages that existed before; `synchronous = OFF` (a killed process loses
 * nothing the OS has, but a power cut during the load can damage the file: the load starts
 * over from a copy); and a larger page cache for the index builds. The settings in force before
 * are put back by finish, and the file goes back to WAL.
 *
 * The indexes dropped are those of `instance_actions` and `instance_actions_events` that have a
 * definition in sqlite_master: all but the keys of UNIQUE constraints, which have none and stay.
 * The load's writer (sqlite-offline-import.ts) reads only by the unique (instance, request id)
 * key and by primary keys. (The online programs, which the load ran before, read their new rows
 * back through the request_id and (action_id, event) indexes, so those were kept.) Keeping the
 * indexes whose keys arrive in order (by start time, change time, action) was measured too:
 * +0.9 s writing 50k actions for 0.2 s less rebuilding (load 3-4). Their definitions are read
 * from sqlite_master, so what is rebuilt is exactly what the migrations created, and saved in
 * {@link SAVED_TABLE} in the same transaction as the drops.
 */
import type { Database as Native } from 'better-sqlite3'
import { AppError } from '../../domain/errors.js'
import type { OfflineLoad } from '../offline-load.js'
import type { SqliteFileIdentity } from './sqlite-file-identity.js'
import { sqliteOfflineImport } from './sqlite-offline-import.js'

/** Where the definitions of the dropped indexes wait for their rebuild. */
export const SAVED_TABLE = 'offline_load_indexes'

/** The tables whose secondary indexes the load drops. */
const TABLES = ['instance_actions', 'instance_actions_events'] as const

/**
 * Indexes the load keeps: those the online programs read by when a batch names actions the store
 * has already (a rerun, a rule-7 pair split over two batches: sqlite-offline-import.ts hands such
 * a batch to them), which would otherwise scan the whole table for every part of every batch.
 * Dropping them too saved nothing measurable (2026-12-07, the writer alone on 100k actions,
 * interleaved, load 2.8-3.7: 9.6 and 10.1 s of CPU without them, 11.0 and 9.2 s with them).
 */
const KEPT: ReadonlySet<string> = new Set([
  'instance_actions_request_idx',
  'instance_actions_events_action_event_idx',
])

/**
 * Page cache during the load, KiB: room for the index builds' sorts and hot B-tree pages.
 * `PRAGMA threads` (SQLite's multi-threaded sorter) is not set: the sorter hands work to helper
 * threads only for sorts larger than this memory, and at 100k actions it changed nothing
 * (2026-12-07, load 3.1-3.4: rebuild 5.6 and 6.8 s without, 5.5 and 7.1 s with `threads = 2`).
 * Not measured at 1M, where the largest event indexes may spill and it could pay.
 */
const BULK_CACHE_KIB = 262_144

interface Settings {
  journalMode: string
  synchronous: number
  cacheSize: number
}

/**
 * The offline load mode on a native better-sqlite3 connection to a database file, whose files'
 * identity `files` watches (it is told that the WAL files go away on purpose).
 */
export function sqliteOfflineLoad(native: Native, files: SqliteFileIdentity): OfflineLoad {
  let normal: Settings | undefined
  const pragma = (text: string) => native.pragma(text, { simple: true }) as unknown

  const dropIndexes = native.transaction((): number => {
    native.exec(
      `CREATE TABLE IF NOT EXISTS ${SAVED_TABLE} (name TEXT PRIMARY KEY, sql TEXT NOT NULL) ` +
        'WITHOUT ROWID',
    )
    const indexes = native
      .prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' " +
          `AND sql IS NOT NULL AND tbl_name IN (${TABLES.map(() => '?').join(', ')})`,
      )
      .all(...TABLES) as { name: string; sql: string }[]
    const save = native.prepare(`INSERT INTO ${SAVED_TABLE} (name, sql) VALUES (?, ?)`)
    for (const ix of indexes) {
      if (KEPT.has(ix.name)) continue
      save.run(ix.name, ix.sql)
      native.exec(`DROP INDEX ${JSON.stringify(ix.name)}`)
    }
    return (native.prepare(`SELECT count(*) AS n FROM ${SAVED_TABLE}`).get() as { n: number }).n
  })

  const savedExists = () =>
    native
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
      .get(SAVED_TABLE) !== undefined

  return {
    importer: (online) => sqliteOfflineImport(native, online),
    // Synchronous work (better-sqlite3); async so that a failure is a rejection.
    async begin() {
      if (native.inTransaction) throw new Error('offline load begun inside a transaction')
      const before: Settings = {
        journalMode: String(pragma('journal_mode')),
        synchronous: Number(pragma('synchronous')),
        cacheSize: Number(pragma('cache_size')),
      }
      pragma('locking_mode = EXCLUSIVE')
      let mode: unknown
      try {
        mode = pragma('journal_mode = TRUNCATE')
      } catch (err) {
        mode = err
      }
      if (mode !== 'truncate') {
        pragma('locking_mode = NORMAL')
        throw new AppError(
          'store_unavailable',
          'the store is open in another process (a running server, another import?): ' +
            'an offline import needs it alone',
          mode instanceof Error ? { cause: mode } : undefined,
        )
      }
      normal = before
      files.forgetWalFiles()
      pragma('synchronous = OFF')
      pragma(`cache_size = ${-BULK_CACHE_KIB}`)
      // The first write: from here on the exclusive lock is held.
      return dropIndexes()
    },
    async finish(onIndex) {
      const saved = savedExists()
        ? (native.prepare(`SELECT name, sql FROM ${SAVED_TABLE} ORDER BY name`).all() as {
            name: string
            sql: string
          }[])
        : []
      const forget = native.prepare(`DELETE FROM ${SAVED_TABLE} WHERE name = ?`)
      // One transaction per index: an interruption keeps the ones built.
      const build = native.transaction((name: string, sql: string) => {
        native.exec(sql)
        forget.run(name)
      })
      saved.forEach((ix, i) => {
        onIndex?.(ix.name, i, saved.length)
        build(ix.name, ix.sql)
      })
      native.exec(`DROP TABLE IF EXISTS ${SAVED_TABLE}`)
      if (normal) {
        pragma(`synchronous = ${normal.synchronous}`)
        pragma(`cache_size = ${normal.cacheSize}`)
        // NORMAL takes effect when the lock is next released (after this read); only then may
        // the file go back to WAL without keeping its index in this process's memory.
        pragma('locking_mode = NORMAL')
        native.prepare('SELECT count(*) FROM sqlite_master').get()
        pragma(`journal_mode = ${normal.journalMode}`)
        normal = undefined
      }
    },
  }
}
