/**
 * SQLite backend: one file, WAL journal, `synchronous = FULL` so a committed write survives power
 * loss (a write is acknowledged only after it is durable), foreign keys enforced.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import type { Database } from '../schema.js'
import type { StoreDatabase } from '../store-database.js'
import { mapSqliteError } from './sqlite-errors.js'
import { SqliteWriteExecutor } from './sqlite-write-executor.js'

/** Options for opening a SQLite database. */
export interface SqliteOptions {
  /** File path, or `:memory:` for a private in-memory database (tests). */
  filename: string
  /** Milliseconds to wait for a lock held by another process. */
  busyTimeoutMs?: number
}

/** Opens (creating if needed) a SQLite database for the stores (not yet migrated). */
export function openSqliteDatabase({
  filename,
  busyTimeoutMs = 5000,
}: SqliteOptions): StoreDatabase {
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true })
  const native = new BetterSqlite3(filename)
  native.pragma('journal_mode = WAL')
  native.pragma('synchronous = FULL')
  // A larger WAL between checkpoints: pages rewritten by consecutive transactions (hot index
  // pages of busy instances) are copied into the database once per checkpoint, not once per few
  // commits. Measured +10-13 % ingest (docs/benchmarks.md); readers are unaffected.
  native.pragma('wal_autocheckpoint = 10000')
  native.pragma('foreign_keys = ON')
  native.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`)
  // Kysely's destroy() closes the native handle. Reads go through Kysely; writes run on the same
  // connection through the synchronous executor (never inside a Kysely transaction).
  return {
    db: new Kysely<Database>({ dialect: new SqliteDialect({ database: native }) }),
    dialect: 'sqlite',
    writeExecutor: new SqliteWriteExecutor(native),
    mapError: mapSqliteError,
    choosesWindowPlan: true,
  }
}
