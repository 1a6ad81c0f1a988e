/**
 * PostgreSQL backend: a bounded pg.Pool under Kysely's PostgresDialect. Times are `timestamp(6)`
 * columns; this pool returns them as text (its own type parser, not pg's global one), because a
 * JavaScript Date would drop the microseconds. rows.ts turns the text into canonical form.
 */
import pg from 'pg'
import { Kysely } from 'kysely'
import type { Database } from '../schema.js'
import type { StoreDatabase } from '../store-database.js'
import { CurrentSchemaPostgresDialect } from './postgres-dialect.js'
import { unavailableMapper } from '../server-errors.js'
import { AsyncWriteExecutor, writeConcurrency } from '../write/async-write-executor.js'
import { isPostgresUnavailable, POSTGRES_SQL, PREPARED_WRITES } from './postgres-sql.js'

/** Options for opening a PostgreSQL store. */
export interface PostgresOptions {
  /** Connection string (`postgres://user:password@host:port/database?…`). */
  url: string
  /** Most connections this process opens. */
  poolMax: number
  /**
   * Extend the hash chain on every write (default true). False only to measure what the chain
   * costs (bench:ingest): verify reports every change written without it.
   */
  chain?: boolean
  /** Attempts of a write transaction before it fails (ACTIONTRAIL_DB_CONFLICT_RETRIES; default 5). */
  maxAttempts?: number
}

// pg's OID of `timestamp without time zone`.
const TIMESTAMP_OID = 1114

const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMP_OID && format !== 'binary'
      ? (value: string) => value
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
}

/**
 * Makes the client run the write path's statements (PREPARED_WRITES) as named prepared
 * statements: parsed and planned once per connection, then only bound and executed. Kysely has no
 * way to name a query, so its plain `query(text, values)` calls are looked up here; every other
 * call (cursors, callbacks, configs) goes through unchanged. A write transaction runs a few
 * statements per write, each a primary-key or unique-index lookup or a one-row change, for which
 * parsing and planning are a large share of the server's work. Every plain call, named or not, is
 * run with a callback under a promise made here (why: in the body).
 */
function wrapQuery(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as { query: unknown }).query = (...args: unknown[]) => {
    const [text, values] = args
    if (args.length !== 2 || typeof text !== 'string') return query(...args)
    const name = PREPARED_WRITES.get(text)
    const config = name === undefined ? { text, values } : { name, text, values }
    // pg's own promise (a query without a callback) keeps every answer's rows alive past the
    // next young-generation collection when one client runs query after query, as Kysely's
    // connections do: 2.5–3.6 MB survived each scavenge of a loop of 51-row reads, 4–12 ms
    // pauses, against 2 kB and 0.2–0.4 ms for the same loop through a callback (pg 8.23, Node 20,
    // 2026-12-07; docs/benchmarks.md, session 13). The callback form is pg's documented API too.
    return new Promise((resolve, reject) => {
      query(config, (err: Error | null, result: unknown) => (err ? reject(err) : resolve(result)))
    })
  }
}

/** Opens a pool on a PostgreSQL database for the stores (not yet migrated). */
export function openPostgresDatabase({
  url,
  poolMax,
  chain = true,
  maxAttempts,
}: PostgresOptions): StoreDatabase {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    // Idle connections go back after 30 s; a checkout that cannot connect fails after 10 s
    // (store_unavailable) instead of queueing forever.
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    // A lock held by a stuck node fails the waiter (55P03, retried) instead of hanging it, and a
    // session that dies mid-transaction does not keep its locks for long.
    lock_timeout: 10_000,
    idle_in_transaction_session_timeout: 60_000,
    fallback_application_name: 'actiontrail',
    types: TYPES,
  })
  // A server restart or a killed backend makes clients emit 'error'; an 'error' event without a
  // listener would crash the process. pg-pool listens only while a client is idle (and then drops
  // it), Kysely not at all while it holds one, so every client gets a listener of its own. The
  // failure itself reaches whoever uses the client (a write transaction retries on a fresh one),
  // and the pool discards the broken client when it is released.
  pool.on('error', () => undefined)
  pool.on('connect', (client) => {
    client.on('error', () => undefined)
    wrapQuery(client)
  })
  const db = new Kysely<Database>({ dialect: new CurrentSchemaPostgresDialect({ pool }) })
  // Kysely's destroy() ends the pool.
  return {
    db,
    dialect: 'postgres',
    writeExecutor: new AsyncWriteExecutor(db, POSTGRES_SQL, {
      concurrency: writeConcurrency(poolMax),
      chain,
      ...(maxAttempts === undefined ? {} : { maxAttempts }),
    }),
    mapError: unavailableMapper('PostgreSQL', isPostgresUnavailable),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  }
}
