/**
 * SQLite backend: one file, WAL journal, `synchronous = FULL` so a committed write survives power
 * loss (a write is acknowledged only after it is durable), foreign keys enforced.
 *
 * Two hazards of a file shared with other processes are handled here: a write lock another
 * process holds is waited for without blocking the event loop (sqlite-write-executor.ts), and the
 * file deleted or replaced under the server stops writes from being acknowledged
 * (sqlite-file-identity.ts).
 */
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import type { Database } from '../schema.js'
import type { StoreDatabase } from '../store-database.js'
import { sqliteChainReader } from './sqlite-chain-scan.js'
import { createExportLinesPool } from './export-lines-pool.js'
import { sqliteExportLines } from './sqlite-export-json.js'
import { mapSqliteError } from './sqlite-errors.js'
import { SqliteFileIdentity } from './sqlite-file-identity.js'
import { cachedPrepare } from './statement-cache.js'
import { sqliteOfflineLoad } from './sqlite-offline-load.js'
import { DEFAULT_LOCK_WAIT_MS, SqliteWriteExecutor } from './sqlite-write-executor.js'

/** Options for opening a SQLite database. */
export interface SqliteOptions {
  /** File path, or `:memory:` for a private in-memory database (tests). */
  filename: string
  /**
   * Milliseconds a write waits for a write lock another process holds before it fails with
   * `store_unavailable` (default 5000). The wait does not block the event loop.
   */
  lockWaitMs?: number
  /** Told once, with a message for operators, if the database file is deleted or replaced. */
  onLost?: (message: string) => void
  /**
   * Extend the hash chain on every write (default true). False only to measure what the chain
   * costs (bench:ingest): verify reports every change written without it.
   */
  chain?: boolean
}

/**
 * Opens (creating if needed) a SQLite database for the stores (not yet migrated). Until its
 * `serving()` is called, statements wait for other processes' locks by blocking (fine for
 * migrations and one-off commands, not for a server).
 */
export function openSqliteDatabase({
  filename,
  lockWaitMs,
  onLost,
  chain = true,
}: SqliteOptions): StoreDatabase {
  const inMemory = filename === ':memory:' || filename === ''
  if (!inMemory) mkdirSync(dirname(filename), { recursive: true })
  const native = new BetterSqlite3(filename)
  // First, since switching to WAL needs the lock too. Opening and migrating run before anything
  // is served and may simply wait for a lock (SQLite's busy handler). Once the stores are open
  // (`serving`), the connection has no busy timeout: the busy handler sleeps on the event loop's
  // thread, and a held lock stalled every request for the whole timeout. The write executor then
  // waits for the lock with timers instead; the few other statements that write (remembered
  // idempotent answers, their purge) fail at once while another process holds the lock, which
  // their callers log and survive. WAL readers never wait for it.
  const waitMs = lockWaitMs ?? DEFAULT_LOCK_WAIT_MS
  native.pragma(`busy_timeout = ${Math.trunc(waitMs)}`)
  native.pragma('journal_mode = WAL')
  native.pragma('synchronous = FULL')
  // A larger WAL between checkpoints: pages rewritten by consecutive transactions (hot index
  // pages of busy instances) are copied into the database once per checkpoint, not once per few
  // commits. Measured +10-13 % ingest (docs/benchmarks.md); readers are unaffected.
  native.pragma('wal_autocheckpoint = 10000')
  native.pragma('foreign_keys = ON')
  // Resolved now: the process may change directory later.
  const files = inMemory ? undefined : new SqliteFileIdentity(resolve(filename), { onLost })
  const exportLines = createExportLinesPool({
    filename: inMemory ? undefined : resolve(filename),
    inline: sqliteExportLines(native),
  })
  // Kysely's destroy() closes the native handle (and stops the file check). Reads go through
  // Kysely; writes run on the same connection through the synchronous executor (never inside a
  // Kysely transaction). Kysely prepares every query again: its statements are kept here.
  const database = {
    prepare: cachedPrepare(native),
    close: () => {
      files?.stop()
      void exportLines.close()
      native.close()
    },
  }
  return {
    db: new Kysely<Database>({ dialect: new SqliteDialect({ database }) }),
    dialect: 'sqlite',
    exportLines: (ids, request) => exportLines.read(ids, request),
    // verify reads raw arrays on the native handle (sqlite-chain-scan.ts), not Kysely's row objects.
    chainReader: () => sqliteChainReader(native),
    writeExecutor: new SqliteWriteExecutor(native, { lockWaitMs: waitMs, files, chain }),
    serving: () => native.pragma('busy_timeout = 0'),
    mapError: mapSqliteError,
    choosesWindowPlan: true,
    ...(files
      ? { assertReady: () => files.assertIntact(), offlineLoad: sqliteOfflineLoad(native, files) }
      : {}),
  }
}
