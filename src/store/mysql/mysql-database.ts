/**
 * MariaDB/MySQL backend: bounded mysql2 pools (one per node of a Galera cluster, used one node at
 * a time: failover-pool.ts) under Kysely's MysqlDialect. Times are
 * `datetime(6)` columns read back as text (`dateStrings`), keeping microseconds; rows.ts turns
 * the text into canonical form. Every session is pinned to the settings the SQL here assumes.
 */
import { Kysely, MysqlDialect } from 'kysely'
import type { Database } from '../schema.js'
import type { StoreDatabase } from '../store-database.js'
import { unavailableMapper } from '../server-errors.js'
import { AsyncWriteExecutor, writeConcurrency } from '../write/async-write-executor.js'
import { FailoverPool } from './failover-pool.js'
import { ForceIndexPlugin } from './force-index-plugin.js'
import { SearchIndexPlugin } from './search-index-plugin.js'
import { SEARCH_INDEXES } from './search-indexes.js'
import { isMysqlUnavailable, MYSQL_SQL } from './mysql-sql.js'

/** Options for opening a MariaDB/MySQL store. */
export interface MysqlOptions {
  /** Connection URL (`mysql://user:password@host:port/database?…`; `mariadb:` works too). */
  url: string
  /**
   * One URL per node of a Galera cluster, in the order they are tried (failover-pool.ts); `url`
   * alone when absent.
   */
  nodes?: readonly string[]
  /** Most connections this process opens to one node (at most two nodes are in use during a failover). */
  poolMax: number
  /**
   * Extend the hash chain on every write (default true). False only to measure what the chain
   * costs (bench:ingest): verify reports every change written without it.
   */
  chain?: boolean
  /** Attempts of a write transaction before it fails (ACTIONTRAIL_DB_CONFLICT_RETRIES; default 5). */
  maxAttempts?: number
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

/** Opens a pool on a MariaDB/MySQL database for the stores (not yet migrated). */
export function openMysqlDatabase({
  url,
  nodes,
  poolMax,
  chain = true,
  maxAttempts,
}: MysqlOptions): StoreDatabase {
  const pool = new FailoverPool({
    urls: nodes ?? [url],
    pool: {
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
    },
    session: SESSION,
  })
  const db = new Kysely<Database>({
    dialect: new MysqlDialect({ pool }),
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
      ...(maxAttempts === undefined ? {} : { maxAttempts }),
    }),
    mapError: unavailableMapper('MariaDB/MySQL', isMysqlUnavailable),
    poolStats: () => pool.stats(),
    // Without the hint MariaDB reads every newer action of the instance before the marker's page
    // at depths of ~1k-20k (docs/storage.md, finding 1).
    markerPagePlugin: new ForceIndexPlugin(
      'instance_actions',
      'instance_actions_instance_created_idx',
    ),
  }
}
