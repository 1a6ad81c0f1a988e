/**
 * Opens the store named by a database setting and brings its schema up to date. A plain path (or
 * `sqlite:` / `file:` URL) selects the embedded SQLite backend.
 */
import { AppError } from '../domain/errors.js'
import type { Kysely } from 'kysely'
import type { KyselyActionStore } from './kysely-action-store.js'
import { migrateToLatest } from './migrate.js'
import { openSqliteStore } from './sqlite/sqlite-database.js'

/** Which backend a database setting names, and its connection target. */
export interface DatabaseTarget {
  kind: 'sqlite'
  filename: string
}

/** Parses `ACTIONTRAIL_DB`: a file path, `:memory:`, `sqlite:<path>` or `file:<path>`. */
export function parseDatabaseTarget(value: string): DatabaseTarget {
  const v = value.trim()
  if (v === '') throw new AppError('invalid_input', 'database setting is empty')
  if (/^(postgres|postgresql|mysql|mariadb):\/\//i.test(v)) {
    throw new AppError('invalid_input', `database backend ${v.split(':')[0]} is not supported by this build`)
  }
  if (/^sqlite:/i.test(v)) return { kind: 'sqlite', filename: v.replace(/^sqlite:(\/\/)?/i, '') || ':memory:' }
  if (/^file:/i.test(v)) return { kind: 'sqlite', filename: decodeURIComponent(v.replace(/^file:(\/\/)?/i, '')) }
  return { kind: 'sqlite', filename: v }
}

/** Options for opening a store. */
export interface OpenStoreOptions {
  /** Apply pending migrations (default true). When false, a stale schema is an error. */
  migrate?: boolean
}

/** Opens the store for a database setting, migrated to the latest schema. */
export async function openStore(database: string, options: OpenStoreOptions = {}): Promise<KyselyActionStore> {
  const target = parseDatabaseTarget(database)
  const store = openSqliteStore({ filename: target.filename })
  try {
    if (options.migrate !== false) await migrateToLatest(store.db as unknown as Kysely<unknown>)
  } catch (err) {
    await store.close()
    throw err
  }
  return store
}
