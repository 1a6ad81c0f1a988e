/**
 * MariaDB/MySQL backend: a bounded mysql2 pool under Kysely's MysqlDialect. Times are
 * `datetime(6)` columns read back as text (`dateStrings`), keeping microseconds; rows.ts turns
 * the text into canonical form. Every session is pinned to the settings the SQL here assumes.
 */
import { createPool } from 'mysql2'
import { CompiledQuery, Kysely, MysqlDialect } from 'kysely'
import type { Database } from '../schema.js'
import type { PoolStats, StoreDatabase } from '../store-database.js'
import { unavailableMapper } from '../server-errors.js'
import { AsyncWriteExecutor, writeConcurrency } from '../write/async-write-executor.js'
import { ForceIndexPlugin } from './force-index-plugin.js'
import { SearchIndexPlugin } from './search-index-plugin.js'
import { SEARCH_INDEXES } from './search-indexes.js'
import { isMysqlUnavailable, MYSQL_SQL } from './mysql-sql.js'

/** Options for opening a MariaDB/MySQL store. */
export interface MysqlOptions {
  /** Connection URL (`mysql://user:password@host:port/database?…`; `mariadb:` works too). */
  url: string
  /** Most connections this process opens. */
  poolMax: number
  /**
   * Extend the hash chain on every write (default true). False only to measure what the chain
   * costs (bench:ingest): verify reports every change written without it.
   */
  chain?: boolean
}

// Strict mode: an over-long or invalid value is an error, never silently truncated. Without
// NO_BACKSLASH_ESCAPES, because mysql2 escapes parameters with backslashes; without ANSI_QUOTES,
// because Kysely quotes identifiers with backticks.
const SESSION = [
  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE," +
    "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'," +
    " time_zone = '+00:00', innodb_lock_wait_timeout = 10",
  // As on PostgreSQL: every statement sees what was committed before it started, so a read after
  // a row lock sees the previous holder's writes (REPEATABLE READ would show an older snapshot).
  'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
]

/**
 * mysql2's pool keeps its counts in fields it does not document (`_allConnections`,
 * `_freeConnections`, `_connectionQueue`, each with a `length`); read defensively, so that a
 * mysql2 that renames them reports zeros rather than failing a scrape.
 */
function mysqlPoolStats(pool: object): PoolStats {
  const length = (field: string) => {
    const value = (pool as Record<string, unknown>)[field] as { length?: unknown } | undefined
    return typeof value?.length === 'number' ? value.length : 0
  }
  return {
    total: length('_allConnections'),
    idle: length('_freeConnections'),
    waiting: length('_connectionQueue'),
  }
}

/** Opens a pool on a MariaDB/MySQL database for the stores (not yet migrated). */
export function openMysqlDatabase({ url, poolMax, chain = true }: MysqlOptions): StoreDatabase {
  const pool = createPool({
    // mysql2 reads host, port, user, password, database and JSON-valued options from the URL.
    uri: url.replace(/^[a-z]+:/i, 'mysql:'),
    connectionLimit: poolMax,
    maxIdle: poolMax,
    idleTimeout: 30_000,
    connectTimeout: 10_000,
    enableKeepAlive: true,
    charset: 'UTF8MB4_UNICODE_CI',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    timezone: 'Z',
  })
  const db = new Kysely<Database>({
    dialect: new MysqlDialect({
      pool,
      onCreateConnection: async (connection) => {
        for (const statement of SESSION)
          await connection.executeQuery(CompiledQuery.raw(statement, []))
      },
    }),
    // On every query, so that it applies to whatever shape the searches take (it only hints a
    // SELECT ordered by a time column with equality filters that start an index): deep keyset
    // pages of /v1/actions and /v1/events read 50 rows instead of every newer match
    // (docs/storage.md, finding 5).
    plugins: [new SearchIndexPlugin(SEARCH_INDEXES)],
  })
  // Kysely's destroy() ends the pool.
  return {
    db,
    dialect: 'mysql',
    writeExecutor: new AsyncWriteExecutor(db, MYSQL_SQL, {
      concurrency: writeConcurrency(poolMax),
      chain,
    }),
    mapError: unavailableMapper('MariaDB/MySQL', isMysqlUnavailable),
    poolStats: () => mysqlPoolStats(pool),
    // Without the hint MariaDB reads every newer action of the instance before the marker's page
    // at depths of ~1k-20k (docs/storage.md, finding 1).
    markerPagePlugin: new ForceIndexPlugin(
      'instance_actions',
      'instance_actions_instance_created_idx',
    ),
  }
}
