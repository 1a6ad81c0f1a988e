/**
 * A connection pool over one or several MariaDB/MySQL nodes (a Galera cluster), in the shape
 * Kysely's MysqlDialect takes. It keeps one mysql2 pool per node, created when first needed, and
 * hands out connections of ONE node at a time, the "current" one: the first of the list that
 * answers. When a node refuses connections, loses one, or is not in Galera's Primary component
 * (errno 1047), the next node in the list becomes the current one, and stays so: coming back to
 * the first node when it returns would only move the writes again (and with them the certification
 * conflicts of writes in flight on two nodes), for no gain.
 *
 * Why a wrapper around per-node pools rather than one pool, or HAProxy in the process: Galera
 * advises writing through one node at a time (cross-node writes to the same rows fail their
 * certification at COMMIT with 1213); a mysql2 pool is bound to one host; and the write executor
 * already retries a whole transaction after a lost connection or 1047, so a failover only has to
 * make the retry land on a node that answers. Connections already checked out stay where they
 * are: their transaction fails and is retried as a whole.
 *
 * Every new connection is pinned to the session settings the SQL here assumes, and on a Galera
 * node (`wsrep_on`) to `wsrep_sync_wait = 1`, so that every read (the Nova API, the write path's
 * reads) sees every write the cluster acknowledged before it, whichever node took it. On a plain
 * MariaDB or MySQL that setting is skipped.
 */
import { createPool, type Pool, type PoolConnection, type PoolOptions } from 'mysql2'
import type { MysqlPool, MysqlPoolConnection, MysqlQueryResult } from 'kysely'
import type { PoolStats } from '../store-database.js'
import { isMysqlUnavailable } from './mysql-sql.js'

/** Galera's "WSREP has not yet prepared node for application use". */
const NOT_READY_ERRNO = 1047

/** An error that the unavailability check recognizes, for a node that is up but not usable. */
function notReady(): Error {
  return Object.assign(new Error('the database node is not ready (wsrep_ready is OFF)'), {
    errno: NOT_READY_ERRNO,
    code: 'ER_UNKNOWN_COM_ERROR',
  })
}

function query(connection: PoolConnection, sql: string): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    connection.query(sql, (err, rows) =>
      err ? reject(err) : resolve(Array.isArray(rows) ? (rows as Record<string, unknown>[]) : []),
    )
  })
}

/** The value column of a one-row `SHOW VARIABLES` / `SHOW STATUS` answer ('' when absent). */
async function showValue(connection: PoolConnection, sql: string): Promise<string> {
  const rows = await query(connection, sql)
  return String(rows[0]?.Value ?? '')
}

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

/** Options of a FailoverPool. */
export interface FailoverPoolOptions {
  /** One connection URL per node, in the order they are tried. */
  urls: readonly string[]
  /** mysql2 pool options for every node (without `uri`). */
  pool: PoolOptions
  /** Statements run once on every new connection, before it is first used. */
  session: readonly string[]
}

/** The pool of pools; see the file comment. */
export class FailoverPool implements MysqlPool {
  readonly #urls: readonly string[]
  readonly #options: PoolOptions
  readonly #session: readonly string[]
  readonly #pools: (Pool | undefined)[]
  #current = 0
  /** Connections whose session is set up, and their wrappers (Kysely keys its state on them). */
  readonly #wrapped = new WeakMap<PoolConnection, MysqlPoolConnection>()

  constructor({ urls, pool, session }: FailoverPoolOptions) {
    if (urls.length === 0) throw new Error('FailoverPool needs at least one node')
    this.#urls = urls
    this.#options = pool
    this.#session = session
    this.#pools = urls.map(() => undefined)
  }

  /** Index of the node new connections come from (for tests and logs). */
  get currentNode(): number {
    return this.#current
  }

  getConnection(callback: (error: unknown, connection: MysqlPoolConnection) => void): void {
    this.#acquire().then(
      (connection) => callback(null, connection),
      (err: unknown) => callback(err, undefined as unknown as MysqlPoolConnection),
    )
  }

  end(callback: (error: unknown) => void): void {
    const pools = this.#pools.filter((p): p is Pool => p !== undefined)
    Promise.all(pools.map((p) => new Promise<void>((resolve) => p.end(() => resolve())))).then(
      () => callback(null),
      callback,
    )
  }

  /** Connections over all nodes' pools. */
  stats(): PoolStats {
    const total: PoolStats = { total: 0, idle: 0, waiting: 0 }
    for (const pool of this.#pools) {
      if (!pool) continue
      const s = mysqlPoolStats(pool)
      total.total += s.total
      total.idle += s.idle
      total.waiting += s.waiting
    }
    return total
  }

  #pool(index: number): Pool {
    let pool = this.#pools[index]
    if (!pool) {
      // mysql2 reads host, port, user, password, database and JSON-valued options from the URL.
      pool = createPool({
        ...this.#options,
        uri: this.#urls[index]!.replace(/^[a-z]+:/i, 'mysql:'),
      })
      this.#pools[index] = pool
    }
    return pool
  }

  /** A node failed under a caller: when it is the current one, the next one takes over. */
  #failed(index: number): void {
    if (this.#current === index) this.#current = (index + 1) % this.#urls.length
  }

  async #acquire(): Promise<MysqlPoolConnection> {
    const count = this.#urls.length
    const first = this.#current
    let lastError: unknown
    for (let i = 0; i < count; i++) {
      const index = (first + i) % count
      try {
        const connection = await this.#connect(index)
        this.#current = index
        return connection
      } catch (err) {
        // Anything but an unavailable node (bad credentials, unknown database) is the answer.
        if (!isMysqlUnavailable(err)) throw err
        this.#failed(index)
        lastError = err
      }
    }
    // The cause keeps the driver's error, by which callers recognize an unavailable database.
    if (count === 1) throw lastError
    throw new Error(`none of the ${count} database nodes answers`, { cause: lastError })
  }

  async #connect(index: number): Promise<MysqlPoolConnection> {
    const raw = await new Promise<PoolConnection>((resolve, reject) =>
      this.#pool(index).getConnection((err, c) => (err ? reject(err) : resolve(c))),
    )
    const known = this.#wrapped.get(raw)
    if (known) return known
    try {
      await this.#prepare(raw)
    } catch (err) {
      // Half set up: never handed out again.
      raw.destroy()
      throw err
    }
    const wrapped = this.#wrap(raw, index)
    this.#wrapped.set(raw, wrapped)
    return wrapped
  }

  async #prepare(raw: PoolConnection): Promise<void> {
    for (const statement of this.#session) await query(raw, statement)
    // MySQL has no such variable (no row); a MariaDB without Galera answers OFF.
    if ((await showValue(raw, "SHOW VARIABLES LIKE 'wsrep_on'")).toUpperCase() !== 'ON') return
    // A node outside the Primary component (or still joining) accepts connections but answers
    // every query with 1047: not a node to write through.
    if ((await showValue(raw, "SHOW STATUS LIKE 'wsrep_ready'")).toUpperCase() !== 'ON') {
      throw notReady()
    }
    await query(raw, 'SET SESSION wsrep_sync_wait = 1')
  }

  #wrap(raw: PoolConnection, index: number): MysqlPoolConnection {
    const observe = (err: unknown) => {
      if (err && isMysqlUnavailable(err)) this.#failed(index)
    }
    const wrapped = {
      query(
        sql: string,
        parameters: unknown[],
        callback?: (error: unknown, result: MysqlQueryResult) => void,
      ) {
        if (callback === undefined) return raw.query(sql, parameters)
        raw.query(sql, parameters, (err, result) => {
          observe(err)
          callback(err, result as MysqlQueryResult)
        })
        return undefined
      },
      release: () => raw.release(),
    }
    return wrapped as unknown as MysqlPoolConnection
  }
}
