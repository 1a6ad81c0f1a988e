/** Dropping an index in a migration's `down`, written once for the three backends. */
import type { Kysely } from 'kysely'
import { dialectOf } from '../dialect.js'

/**
 * Drops the index `name` of `table`. MariaDB/MySQL need `DROP INDEX … ON table`; SQLite and
 * PostgreSQL refuse the `ON` (index names are unique in their schema there).
 */
export async function dropIndex(db: Kysely<unknown>, table: string, name: string): Promise<void> {
  const drop = db.schema.dropIndex(name)
  await (dialectOf(db) === 'mysql' ? drop.on(table) : drop).execute()
}
