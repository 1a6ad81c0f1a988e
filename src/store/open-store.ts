/**
 * Opens the store named by a database setting and brings its schema up to date. A plain path (or
 * `sqlite:` / `file:` URL) selects the embedded SQLite backend; `postgres://` / `postgresql://`
 * selects PostgreSQL and `mysql://` / `mariadb://` MariaDB/MySQL.
 */
import type { Kysely } from 'kysely'
import { AppError } from '../domain/errors.js'
import type { KyselyActionStore } from './kysely-action-store.js'
import { migrateToLatest } from './migrate.js'
import { openMysqlStore } from './mysql/mysql-database.js'
import { openPostgresStore } from './postgres/postgres-database.js'
import { openSqliteStore } from './sqlite/sqlite-database.js'

/** Which backend a database setting names, and its connection target. */
export type DatabaseTarget =
  | { kind: 'sqlite'; filename: string }
  | { kind: 'postgres'; url: string; poolMax: number }
  | { kind: 'mysql'; url: string; poolMax: number }

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

function serverTarget(kind: 'postgres' | 'mysql', value: string, env: NodeJS.ProcessEnv): DatabaseTarget {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    // The value may hold a password: do not echo it.
    throw new AppError('invalid_input', `database setting is not a valid ${kind} URL`)
  }
  const fromUrl = url.searchParams.get(POOL_PARAM)
  url.searchParams.delete(POOL_PARAM)
  const fromEnv = env.ACTIONTRAIL_DB_POOL_MAX
  const max =
    fromUrl !== null
      ? poolMax(fromUrl, `${POOL_PARAM} in the database URL`)
      : fromEnv !== undefined && fromEnv !== ''
        ? poolMax(fromEnv, 'ACTIONTRAIL_DB_POOL_MAX')
        : DEFAULT_POOL_MAX
  return { kind, url: url.toString(), poolMax: max }
}

/**
 * Parses `ACTIONTRAIL_DB`: a file path, `:memory:`, `sqlite:<path>`, `file:<path>`,
 * `postgres://…` / `postgresql://…`, or `mysql://…` / `mariadb://…`. Server URLs may carry
 * `pool_max=<n>` (connections per process); otherwise ACTIONTRAIL_DB_POOL_MAX or 10.
 */
export function parseDatabaseTarget(value: string, env: NodeJS.ProcessEnv = process.env): DatabaseTarget {
  const v = value.trim()
  if (v === '') throw new AppError('invalid_input', 'database setting is empty')
  if (/^postgres(ql)?:\/\//i.test(v)) return serverTarget('postgres', v, env)
  if (/^(mysql|mariadb):\/\//i.test(v)) return serverTarget('mysql', v, env)
  if (/^sqlite:/i.test(v)) return { kind: 'sqlite', filename: v.replace(/^sqlite:(\/\/)?/i, '') || ':memory:' }
  if (/^file:/i.test(v)) return { kind: 'sqlite', filename: decodeURIComponent(v.replace(/^file:(\/\/)?/i, '')) }
  return { kind: 'sqlite', filename: v }
}

/** A database setting fit for logs and messages: a URL's password is masked. */
export function describeDatabase(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim())) return value
  try {
    const url = new URL(value.trim())
    if (url.password) url.password = '***'
    return url.toString()
  } catch {
    return '(unparseable database URL)'
  }
}

/** Options for opening a store. */
export interface OpenStoreOptions {
  /** Apply pending migrations (default true). When false, a stale schema is an error. */
  migrate?: boolean
}

function open(target: DatabaseTarget): KyselyActionStore {
  switch (target.kind) {
    case 'sqlite':
      return openSqliteStore({ filename: target.filename })
    case 'postgres':
      return openPostgresStore(target)
    case 'mysql':
      return openMysqlStore(target)
  }
}

/** Opens the store for a database setting, migrated to the latest schema. */
export async function openStore(database: string, options: OpenStoreOptions = {}): Promise<KyselyActionStore> {
  const store = open(parseDatabaseTarget(database))
  try {
    if (options.migrate !== false) await migrateToLatest(store.db as unknown as Kysely<unknown>)
  } catch (err) {
    await store.close()
    throw err
  }
  return store
}
