/**
 * Opens the stores named by a database setting and checks or brings their schema up to date. A
 * plain path (or `sqlite:` / `file:` URL) selects the embedded SQLite backend; `postgres://` /
 * `postgresql://` selects PostgreSQL and `mysql://` / `mariadb://` MariaDB/MySQL.
 *
 * One database holds two stores with separate contracts: the audit trail (ActionStore) and the
 * write API's remembered answers (IdempotencyStore). They share the opened database (one SQLite
 * connection, or one server pool), so `openStores` opens it once and builds both over it, and one
 * close ends both. Callers that only need the audit trail (the CLI, an embedding service) use
 * `openStore`; the server, which also answers Idempotency-Keys, uses `openStores`.
 */
import { checkpointLog, type CheckpointLog } from './chain/checkpoint-log.js'
import { AppError } from '../domain/errors.js'
import type { ActionStore } from './action-store.js'
import type { ChangeFeed } from './change-feed.js'
import type { IdempotencyStore } from './idempotency-store.js'
import { RetentionStore } from './retention-store.js'
import { KyselyActionStore } from './kysely-action-store.js'
import { KyselyIdempotencyStore } from './kysely-idempotency-store.js'
import { assertSchemaUnchanged, migrateToLatest, requireCurrentSchema } from './migrate.js'
import { openMysqlDatabase } from './mysql/mysql-database.js'
import { maskNodeListPassword, splitNodeUrls } from './mysql/node-urls.js'
import { openPostgresDatabase } from './postgres/postgres-database.js'
import { openStandbyReads, type StandbyReads } from './postgres/standby-reads.js'
import type { QueryReads, ReadCounts } from './read-replica.js'
import { openSqliteDatabase } from './sqlite/sqlite-database.js'
import { withMappedErrors, type PoolStats, type StoreDatabase } from './store-database.js'
import type { CommitObserver } from './write/group-commit.js'

/** Which backend a database setting names, and its connection target. */
export type DatabaseTarget =
  | { kind: 'sqlite'; filename: string; lockWaitMs?: number }
  | { kind: 'postgres'; url: string; poolMax: number; maxAttempts?: number }
  | {
      kind: 'mysql'
      /** The first (or only) node's URL. */
      url: string
      poolMax: number
      /** Every node's URL, in order, when the setting names several (a Galera cluster). */
      nodes?: string[]
      maxAttempts?: number
    }

/** Connections per process when neither the URL nor ACTIONTRAIL_DB_POOL_MAX says. */
export const DEFAULT_POOL_MAX = 10
const MAX_POOL_MAX = 1000
// The URL parameter that sizes the pool; taken out before the URL reaches the driver.
const POOL_PARAM = 'pool_max'

function poolMax(text: string, source: string): number {
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > MAX_POOL_MAX) {
    throw new AppError('invalid_input', `${source} must be an integer from 1 to ${MAX_POOL_MAX}`)
  }
  return Number(text)
}

/** Most attempts ACTIONTRAIL_DB_CONFLICT_RETRIES may ask for: beyond, clients time out first. */
const MAX_ATTEMPTS = 100

// Attempts of one write transaction (the first included) on a server database; absent = the
// executor's default (5).
function maxAttempts(env: NodeJS.ProcessEnv): { maxAttempts?: number } {
  const text = env.ACTIONTRAIL_DB_CONFLICT_RETRIES
  if (text === undefined || text === '') return {}
  if (!/^\d{1,3}$/.test(text) || Number(text) < 1 || Number(text) > MAX_ATTEMPTS) {
    throw new AppError(
      'invalid_input',
      `ACTIONTRAIL_DB_CONFLICT_RETRIES must be an integer from 1 to ${MAX_ATTEMPTS}`,
    )
  }
  return { maxAttempts: Number(text) }
}

/** Longest lock wait ACTIONTRAIL_SQLITE_LOCK_WAIT_MS may ask for: beyond, clients time out first. */
const MAX_LOCK_WAIT_MS = 600_000

function sqliteTarget(filename: string, env: NodeJS.ProcessEnv): DatabaseTarget {
  const text = env.ACTIONTRAIL_SQLITE_LOCK_WAIT_MS
  if (text === undefined || text === '') return { kind: 'sqlite', filename }
  if (!/^\d{1,6}$/.test(text) || Number(text) > MAX_LOCK_WAIT_MS) {
    throw new AppError(
      'invalid_input',
      `ACTIONTRAIL_SQLITE_LOCK_WAIT_MS must be an integer from 0 to ${MAX_LOCK_WAIT_MS}`,
    )
  }
  return { kind: 'sqlite', filename, lockWaitMs: Number(text) }
}

function serverTarget(
  kind: 'postgres' | 'mysql',
  value: string,
  env: NodeJS.ProcessEnv,
): DatabaseTarget {
  // MariaDB/MySQL may name several nodes (a Galera cluster); each becomes a URL of its own.
  const nodes = kind === 'mysql' ? splitNodeUrls(value) : [value]
  const urls: URL[] = []
  try {
    if (!nodes) throw new Error('bad node list')
    for (const node of nodes) urls.push(new URL(node))
  } catch {
    // The value may hold a password: do not echo it.
    throw new AppError('invalid_input', `database setting is not a valid ${kind} URL`)
  }
  // The options follow the host list, so every node's URL carries the same ones.
  const fromUrl = urls[0]!.searchParams.get(POOL_PARAM)
  for (const url of urls) url.searchParams.delete(POOL_PARAM)
  const fromEnv = env.ACTIONTRAIL_DB_POOL_MAX
  const max =
    fromUrl !== null
      ? poolMax(fromUrl, `${POOL_PARAM} in the database URL`)
      : fromEnv !== undefined && fromEnv !== ''
        ? poolMax(fromEnv, 'ACTIONTRAIL_DB_POOL_MAX')
        : DEFAULT_POOL_MAX
  const url = urls[0]!.toString()
  const attempts = maxAttempts(env)
  if (kind === 'postgres') return { kind, url, poolMax: max, ...attempts }
  return {
    kind,
    url,
    poolMax: max,
    ...(urls.length > 1 ? { nodes: urls.map((u) => u.toString()) } : {}),
    ...attempts,
  }
}

/**
 * Parses `ACTIONTRAIL_DB`: a file path, `:memory:`, `sqlite:<path>`, `file:<path>`,
 * `postgres://…` / `postgresql://…`, or `mysql://…` / `mariadb://…`. Server URLs may carry
 * `pool_max=<n>` (connections per process); otherwise ACTIONTRAIL_DB_POOL_MAX or 10. A MariaDB URL
 * may list several nodes of a Galera cluster (`mysql://u@h1:3306,h2:3306,h3:3306/db`), tried in
 * that order (mysql/failover-pool.ts). ACTIONTRAIL_DB_CONFLICT_RETRIES bounds the attempts of a
 * write transaction on a server database (default 5). On SQLite,
 * ACTIONTRAIL_SQLITE_LOCK_WAIT_MS sets how long a write waits for another process's lock.
 */
export function parseDatabaseTarget(
  value: string,
  env: NodeJS.ProcessEnv = process.env,
): DatabaseTarget {
  const v = value.trim()
  if (v === '') throw new AppError('invalid_input', 'database setting is empty')
  if (/^postgres(ql)?:\/\//i.test(v)) return serverTarget('postgres', v, env)
  if (/^(mysql|mariadb):\/\//i.test(v)) return serverTarget('mysql', v, env)
  if (/^sqlite:/i.test(v)) return sqliteTarget(v.replace(/^sqlite:(\/\/)?/i, '') || ':memory:', env)
  if (/^file:/i.test(v))
    return sqliteTarget(decodeURIComponent(v.replace(/^file:(\/\/)?/i, '')), env)
  return sqliteTarget(v, env)
}

/** A database setting fit for logs and messages: a URL's password is masked. */
export function describeDatabase(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim())) return value
  try {
    const url = new URL(value.trim())
    if (url.password) url.password = '***'
    return url.toString()
  } catch {
    // A Galera node list is no WHATWG URL, but is shown (masked) all the same.
    const nodes = splitNodeUrls(value.trim())
    if (nodes && nodes.length > 1) return maskNodeListPassword(value.trim()) ?? ''
    return '(unparseable database URL)'
  }
}

/** Options for opening the stores. */
export interface OpenStoreOptions {
  /**
   * Apply pending migrations (default true). When false, the schema must already be this build's:
   * pending migrations are an error as well as a newer schema (which is refused either way).
   */
  migrate?: boolean
  /**
   * Told once, with a message for operators, when the database stops being able to keep writes
   * for a reason only an operator can fix (SQLite: its file deleted or replaced under the process).
   */
  onLost?: (message: string) => void
  /** Told about each write transaction and write outcome (the server's metrics). */
  commitObserver?: CommitObserver
  /** Extend the hash chain (default true); false only for bench:ingest's comparison. */
  chain?: boolean
  /**
   * A read replica (ACTIONTRAIL_DB_READ: a PostgreSQL hot standby of a PostgreSQL `database`) for
   * the query API, exports and the stream's catch-up, skipped while more than `maxLagMs` behind
   * (ACTIONTRAIL_DB_READ_MAX_LAG_MS) or down.
   */
  read?: { database: string; maxLagMs: number }
  /** Told, with a message for operators, when the read replica is skipped or used again. */
  onReplicaChange?: (message: string, usable: boolean) => void
}

/** The stores on one opened database. */
export interface Stores {
  actions: ActionStore
  idempotency: IdempotencyStore
  /** The change feed of the audit trail (the same store as `actions`). */
  changes: ChangeFeed
  /** Archive, purge and the retention job's lease (issue 13). */
  retention: RetentionStore
  /** The hash chain's signed checkpoints (store/chain/checkpoints.ts). */
  checkpoints: CheckpointLog
  /**
   * Closes the database, and with it both stores (the same as `actions.close()`), and the read
   * replica's pool when there is one.
   */
  close(): Promise<void>
  /**
   * Readiness: resolves when the database answers a trivial query (the migration table's names),
   * its schema is still exactly this build's (not migrated since by a newer or older binary), and
   * (SQLite) its files are still the ones opened, checked now; rejects with `store_unavailable`
   * otherwise.
   */
  ready(): Promise<void>
  /** The connection pool's use (server databases), for the metrics. */
  poolStats?: () => PoolStats
  /**
   * The reads a read replica may serve (read-replica.ts): routed between the replica and the
   * primary when `read` was given, the primary's store (`actions`) otherwise.
   */
  queries: QueryReads
  /** The read replica's state, for the metrics (with `read` only). */
  replica?: ReplicaState
}

/** A read replica's state as the metrics show it. */
export interface ReplicaState {
  /** Milliseconds behind the primary; undefined while down or not a standby. */
  lagMs(): number | undefined
  /** True while reads go to it. */
  usable(): boolean
  /** Reads served by it and by the primary instead, since start. */
  counts: ReadCounts
  /** The reads bound to the node chosen now (ReplicaReads.pinned). */
  pinned(): QueryReads
}

/** Parses the read replica's setting: a PostgreSQL URL, only beside a PostgreSQL primary. */
function openReadReplica(
  primary: DatabaseTarget,
  options: Pick<OpenStoreOptions, 'onReplicaChange'> & {
    read: { database: string; maxLagMs: number }
  },
  opened: StoreDatabase,
  primaryReads: QueryReads,
): Promise<StandbyReads> {
  const { read } = options
  const target = parseDatabaseTarget(read.database)
  if (target.kind !== 'postgres' || primary.kind !== 'postgres')
    throw new AppError(
      'invalid_input',
      'ACTIONTRAIL_DB_READ must be a postgres:// URL of a hot standby of the PostgreSQL ACTIONTRAIL_DB',
    )
  return openStandbyReads({
    primary: opened,
    primaryReads,
    url: target.url,
    poolMax: target.poolMax,
    maxLagMs: read.maxLagMs,
    ...(options.onReplicaChange ? { onChange: options.onReplicaChange } : {}),
  })
}

/**
 * Opens the database a setting names, neither migrated nor checked: for `actiontrail migrate`,
 * which manages the schema itself, and for tests. Close it with `db.destroy()`.
 */
export function openDatabase(
  database: string,
  options: Pick<OpenStoreOptions, 'onLost' | 'chain'> = {},
): StoreDatabase {
  const target = parseDatabaseTarget(database)
  const chain = options.chain === false ? { chain: false } : {}
  switch (target.kind) {
    case 'sqlite':
      return openSqliteDatabase({ ...target, ...options })
    case 'postgres':
      return openPostgresDatabase({ ...target, ...chain })
    case 'mysql':
      return openMysqlDatabase({ ...target, ...chain })
  }
}

/** Opens both stores for a database setting, migrated to (or checked against) this build's schema. */
export async function openStores(
  database: string,
  options: OpenStoreOptions = {},
): Promise<Stores> {
  const opened = openDatabase(database, {
    ...(options.onLost ? { onLost: options.onLost } : {}),
    ...(options.chain === false ? { chain: false } : {}),
  })
  try {
    if (options.migrate === false) await requireCurrentSchema(opened.db)
    else await migrateToLatest(opened.db)
  } catch (err) {
    await opened.db.destroy()
    throw err
  }
  opened.serving?.()
  const actions = new KyselyActionStore(
    opened,
    options.commitObserver ? { observer: options.commitObserver } : {},
  )
  let replica: StandbyReads | undefined
  try {
    replica = options.read
      ? await openReadReplica(
          parseDatabaseTarget(database),
          { ...options, read: options.read },
          opened,
          actions,
        )
      : undefined
  } catch (err) {
    await opened.db.destroy()
    throw err
  }
  return {
    ...(opened.poolStats ? { poolStats: opened.poolStats } : {}),
    actions,
    queries: replica?.reads ?? actions,
    ...(replica
      ? {
          replica: {
            lagMs: () => replica.lagMs(),
            usable: () => replica.reads.usesReplica(),
            counts: replica.reads.counts,
            pinned: () => replica.reads.pinned(),
          },
        }
      : {}),
    idempotency: new KyselyIdempotencyStore(opened),
    changes: actions,
    retention: new RetentionStore(opened),
    checkpoints: checkpointLog(opened),
    async close() {
      await replica?.close()
      await actions.close()
    },
    async ready() {
      opened.assertReady?.()
      await withMappedErrors(opened, () => assertSchemaUnchanged(opened.db))
    },
  }
}

/** Opens the audit-trail store for a database setting (see openStores); its close closes the database. */
export async function openStore(
  database: string,
  options: OpenStoreOptions = {},
): Promise<ActionStore> {
  return (await openStores(database, options)).actions
}
