/**
 * Column types per backend, so that each migration is written once. SQLite keeps the schema it
 * always had (canonical time text in varchar(26)). The server databases get native types:
 * microsecond `timestamp(6)` / `datetime(6)` times and 64-bit generated keys. Their id and name
 * columns compare byte for byte, as SQLite's do: request ids, uuids and event names are
 * case-sensitive everywhere, and PostgreSQL orders names the same way as SQLite (collation "C")
 * whatever the database's locale.
 */
import {
  sql,
  type ColumnDataType,
  type ColumnDefinitionBuilder,
  type CreateTableBuilder,
  type Expression,
  type Kysely,
} from 'kysely'
import { dialectOf, type DialectName } from '../dialect.js'

/** A column type as Kysely's addColumn takes it: a known type name or raw SQL. */
export type DataTypeExpression = ColumnDataType | Expression<unknown>

/** The types and table options one backend uses. */
export interface ColumnTypes {
  dialect: DialectName
  /** An id or name of at most `length` characters, compared exactly. */
  name(length: number): DataTypeExpression
  /** A point in time with microseconds. */
  time: DataTypeExpression
  /** Unbounded text: tracebacks, details, remembered response bodies. */
  longText: DataTypeExpression
  /** Binary data of up to 16 MB (compressed remembered answers). */
  bytes: DataTypeExpression
  /** The type of generated keys and of the columns that reference them. */
  key: DataTypeExpression
  /** Makes a key column the generated primary key. */
  generatedKey(column: ColumnDefinitionBuilder): ColumnDefinitionBuilder
  /** Adds storage options (engine, character set) to a CREATE TABLE. */
  table<TB extends string, C extends string>(
    builder: CreateTableBuilder<TB, C>,
  ): CreateTableBuilder<TB, C>
}

/**
 * MariaDB/MySQL: a binary collation that also does not pad. `utf8mb4_bin` is a PAD SPACE
 * collation there, so 'req-1' and 'req-1 ' would be the same request id; MariaDB's
 * `utf8mb4_nopad_bin` and MySQL 8's `utf8mb4_0900_bin` compare every byte. Older servers fall
 * back to `utf8mb4_bin`.
 */
async function mysqlCollation(db: Kysely<unknown>): Promise<string> {
  const { rows } = await sql<{ name: string }>`
    SELECT COLLATION_NAME AS name FROM information_schema.COLLATIONS
    WHERE COLLATION_NAME IN ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin')`.execute(db)
  const names = new Set(rows.map((r) => r.name))
  if (names.has('utf8mb4_nopad_bin')) return 'utf8mb4_nopad_bin'
  if (names.has('utf8mb4_0900_bin')) return 'utf8mb4_0900_bin'
  return 'utf8mb4_bin'
}

/** The column types for the backend behind `db`. */
export async function columnTypes(db: Kysely<unknown>): Promise<ColumnTypes> {
  const dialect = dialectOf(db)
  switch (dialect) {
    case 'sqlite':
      return {
        dialect,
        name: (length) => `varchar(${length})`,
        time: 'varchar(26)',
        longText: 'text',
        bytes: 'blob',
        key: 'integer',
        generatedKey: (c) => c.primaryKey().autoIncrement(),
        table: (b) => b,
      }
    case 'postgres':
      return {
        dialect,
        name: (length) => sql.raw(`varchar(${length}) collate "C"`),
        time: 'timestamp(6)',
        longText: 'text',
        bytes: 'bytea',
        key: 'bigint',
        generatedKey: (c) => c.primaryKey().generatedByDefaultAsIdentity(),
        table: (b) => b,
      }
    case 'mysql': {
      const collation = await mysqlCollation(db)
      return {
        dialect,
        name: (length) => sql.raw(`varchar(${length}) character set utf8mb4 collate ${collation}`),
        time: 'datetime(6)',
        // MEDIUMTEXT: a TEXT column holds 65535 bytes, one less than the traceback cap.
        longText: sql.raw('mediumtext'),
        // A BLOB holds 65535 bytes; the largest compressed answer kept is capped well below 16 MB.
        bytes: sql.raw('mediumblob'),
        key: 'bigint',
        generatedKey: (c) => c.primaryKey().autoIncrement(),
        // DYNAMIC rows allow index keys up to 3072 bytes: (instance_uuid, request_id) needs 1164.
        table: (b) =>
          b.modifyEnd(
            sql.raw(
              ` engine = InnoDB default charset = utf8mb4 collate = ${collation} row_format = dynamic`,
            ),
          ),
      }
    }
  }
}
