/**
 * Which SQL backend a Kysely instance talks to. The store and the migrations branch on this in the
 * few places where the SQL differs (column types, first-writer-wins inserts, pattern matching);
 * everything else is written once.
 */
import { MysqlAdapter, PostgresAdapter, SqliteAdapter, type Kysely } from 'kysely'

/** The backends ActionTrail supports. */
export type DialectName = 'sqlite' | 'postgres' | 'mysql'

/**
 * The backend of a Kysely instance or transaction, from its adapter (the one part of a Kysely
 * dialect that a transaction and a migration's `db` share with the root instance).
 */
export function dialectOf<DB>(db: Kysely<DB>): DialectName {
  const adapter = db.getExecutor().adapter
  if (adapter instanceof PostgresAdapter) return 'postgres'
  if (adapter instanceof MysqlAdapter) return 'mysql'
  if (adapter instanceof SqliteAdapter) return 'sqlite'
  throw new Error(`unsupported Kysely adapter ${adapter.constructor.name}`)
}
