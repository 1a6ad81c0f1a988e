/**
 * One opened database, as the stores on it share it: the Kysely instance (one SQLite connection or
 * one server pool) and what the backend's folder supplies besides. The ActionStore and the
 * IdempotencyStore are both built over the same StoreDatabase, so they use the same connection(s)
 * and are closed together (by destroying the Kysely instance).
 */
import type { Kysely, KyselyPlugin } from 'kysely'
import type { DialectName } from './dialect.js'
import type { ExportLines, ExportLinesRequest } from './action-store.js'
import type { ChainReader } from './chain/chain-reader.js'
import type { OfflineLoad } from './offline-load.js'
import type { Database } from './schema.js'
import type { WriteExecutor } from './write/write-executor.js'

/** An opened database and its backend's parts. */
/** How a server database's connection pool is used, for the metrics. */
export interface PoolStats {
  /** Connections open. */
  total: number
  /** Of those, idle. */
  idle: number
  /** Requests waiting for a connection. */
  waiting: number
}

export interface StoreDatabase {
  /** Every read goes through it; destroying it releases the connection(s). */
  readonly db: Kysely<Database>
  /** Which backend `db` talks to. */
  readonly dialect: DialectName
  /** Runs write programs on this backend. */
  readonly writeExecutor: WriteExecutor
  /**
   * A faster reader for `verifyChain` than the Kysely one (store/sqlite/sqlite-chain-scan.ts),
   * made once per verify (it may hold prepared statements that long); absent elsewhere.
   */
  readonly chainReader?: () => ChainReader
  /**
   * Export lines built by the database (store/sqlite/sqlite-export-json.ts, on worker threads when
   * the caller reads ahead: export-lines-pool.ts); absent where the backend does not build them.
   */
  readonly exportLines?: (
    actionIds: readonly number[],
    request: ExportLinesRequest,
  ) => Promise<ExportLines>
  /**
   * Maps a failed read's error: a lost connection, a busy or damaged database becomes
   * `store_unavailable` (503 rather than 500), as the write executors map write failures.
   */
  mapError(err: unknown): unknown
  /**
   * Applied to list pages that continue after a marker (no changes-since/-before window), for a
   * backend whose planner needs a hint there (MariaDB/MySQL, docs/storage.md finding 1).
   */
  readonly markerPagePlugin?: KyselyPlugin
  /**
   * The backend's planner has no statistics to choose a plan for a changes-since/-before window
   * (SQLite: the store never runs ANALYZE), so the store chooses (see KyselyActionStore).
   */
  readonly choosesWindowPlan?: boolean
  /**
   * Throws `store_unavailable` when the database can no longer keep what is written to it, as
   * checked now (SQLite: its files were deleted or replaced under the process). Readiness probes
   * call it; absent where there is nothing to check beyond a query.
   */
  readonly assertReady?: () => void
  /**
   * Called once the schema is current and the stores are built, before anything is served: from
   * then on nothing may block the event loop (SQLite drops its busy timeout, see sqlite-database.ts).
   */
  readonly serving?: () => void
  /** The offline bulk-load mode, where the backend has one (an SQLite file): offline-load.ts. */
  readonly offlineLoad?: OfflineLoad
  /** The connection pool's use (server databases; SQLite has one connection and no pool). */
  readonly poolStats?: () => PoolStats
}

/** Runs a statement on the database outside the write executor, mapping its failure with `mapError`. */
export async function withMappedErrors<T>(
  database: StoreDatabase,
  query: () => Promise<T>,
): Promise<T> {
  try {
    return await query()
  } catch (err) {
    throw database.mapError(err)
  }
}

/**
 * False when no stored value can equal `key`. PostgreSQL text cannot hold a NUL character and
 * rejects one as a parameter, so a lookup by such a key (an id taken from a URL) names nothing:
 * it is answered as not found instead of failing in the driver.
 */
export function isStorableKey(database: StoreDatabase, key: string): boolean {
  return database.dialect !== 'postgres' || !key.includes('\u0000')
}
