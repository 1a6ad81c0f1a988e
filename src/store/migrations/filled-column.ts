/**
 * Adding a column to a table that already holds rows, filled by an UPDATE: shared by the
 * migrations that copy a parent's fields onto child rows (0005, 0008).
 */
import { type Kysely, type sql } from 'kysely'
import type { ColumnTypes, DataTypeExpression } from './column-types.js'

/**
 * Adds a column filled by `backfill`; NOT NULL unless `nullable`. SQLite adds a NOT NULL column
 * only with a default (its ALTER TABLE cannot change a column later), so it gets '' — which no
 * write leaves, the backfill replaces, and the write programs never insert. The server databases
 * add it nullable, backfill, then forbid NULL, so a writer that forgot it fails loudly. A nullable
 * column (a copy of a nullable parent field) is added and backfilled, on every backend alike.
 */
export async function addFilledColumn(
  db: Kysely<unknown>,
  t: ColumnTypes,
  table: string,
  column: string,
  type: DataTypeExpression,
  backfill: ReturnType<typeof sql>,
  options: { nullable?: boolean } = {},
): Promise<void> {
  if (t.dialect === 'sqlite' && !options.nullable) {
    await db.schema
      .alterTable(table)
      .addColumn(column, type, (c) => c.notNull().defaultTo(''))
      .execute()
    await backfill.execute(db)
    return
  }
  await db.schema.alterTable(table).addColumn(column, type).execute()
  await backfill.execute(db)
  if (options.nullable) return
  if (t.dialect === 'postgres')
    await db.schema
      .alterTable(table)
      .alterColumn(column, (c) => c.setNotNull())
      .execute()
  else
    await db.schema
      .alterTable(table)
      .modifyColumn(column, type, (c) => c.notNull())
      .execute()
}
