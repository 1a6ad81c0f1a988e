/**
 * Kysely's PostgresDialect with an introspector that sees only the connection's current schema.
 * Kysely's own introspector reads every column of every table in every schema; the migrator asks
 * it whether its tables exist, which on a database shared with other applications (or other
 * ActionTrail schemas) is slow, can find another schema's `kysely_migration`, and can fail while
 * a schema is being dropped concurrently. ActionTrail lives in one schema (the search_path's
 * first), so that is all it looks at.
 */
import {
  PostgresDialect,
  PostgresIntrospector,
  sql,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type DatabaseMetadataOptions,
  type Kysely,
  type SchemaMetadata,
  type TableMetadata,
} from 'kysely'

const KYSELY_TABLES = new Set(['kysely_migration', 'kysely_migration_lock'])

/** Tables (names only, no columns) of the current schema. */
export class CurrentSchemaIntrospector implements DatabaseIntrospector {
  readonly #db: Kysely<unknown>
  readonly #schemas: PostgresIntrospector

  constructor(db: Kysely<unknown>) {
    this.#db = db
    this.#schemas = new PostgresIntrospector(db)
  }

  getSchemas(): Promise<SchemaMetadata[]> {
    return this.#schemas.getSchemas()
  }

  async getTables(
    options: DatabaseMetadataOptions = { withInternalKyselyTables: false },
  ): Promise<TableMetadata[]> {
    const { rows } = await sql<{ name: string; schema: string; is_view: boolean }>`
      SELECT c.relname AS name, n.nspname AS schema, c.relkind = 'v' AS is_view
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v')
      ORDER BY c.relname`.execute(this.#db)
    return rows
      .filter((r) => options.withInternalKyselyTables || !KYSELY_TABLES.has(r.name))
      .map((r) => ({ name: r.name, schema: r.schema, isView: r.is_view, columns: [] }))
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) }
  }
}

/** PostgresDialect whose introspection is limited to the current schema. */
export class CurrentSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db)
  }
}
