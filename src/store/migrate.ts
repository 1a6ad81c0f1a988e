/**
 * Versioned migrations from a static list (no file-system scanning), applied by Kysely's Migrator.
 * A database that has migrations this build does not know is refused by every function here, so
 * an old binary never writes to (nor reports on) a newer schema.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationResultSet } from 'kysely'
import { AppError } from '../domain/errors.js'
import { dialectOf } from './dialect.js'
import { init } from './migrations/0001-init.js'
import { idempotency } from './migrations/0002-idempotency.js'
import { idempotencyCaps } from './migrations/0003-idempotency-caps.js'
import { actionSearch } from './migrations/0004-action-search.js'
import { queryOwnerEvents } from './migrations/0005-query-owner-events.js'
import { changeFeed } from './migrations/0006-change-feed.js'
import { writerTags } from './migrations/0007-writer-tags.js'
import { eventParentFields } from './migrations/0008-event-parent-fields.js'
import { stuckAction } from './migrations/0009-stuck-action.js'
import { novaMessages } from './migrations/0010-nova-messages.js'
import { novaRequestFaults } from './migrations/0011-nova-request-faults.js'
import { retention } from './migrations/0012-retention.js'
import { hashChain } from './migrations/0013-hash-chain.js'
import { unfinishedSearch } from './migrations/0014-unfinished-search.js'
import { memberActionSearch } from './migrations/0015-member-action-search.js'

/** Every migration this build knows, in order. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-init': init,
  '0002-idempotency': idempotency,
  '0003-idempotency-caps': idempotencyCaps,
  '0004-action-search': actionSearch,
  '0005-query-owner-events': queryOwnerEvents,
  '0006-change-feed': changeFeed,
  '0007-writer-tags': writerTags,
  '0008-event-parent-fields': eventParentFields,
  '0009-stuck-action': stuckAction,
  '0010-nova-messages': novaMessages,
  '0011-nova-request-faults': novaRequestFaults,
  '0012-retention': retention,
  '0013-hash-chain': hashChain,
  // 0014 is left to the archive work of the same session (renumbered at merge if it does not come).
  '0014-unfinished-search': unfinishedSearch,
  '0015-member-action-search': memberActionSearch,
})

/**
 * The schema that holds the migration tables on PostgreSQL: the connection's current schema.
 * Kysely looks for its tables in every schema unless told one, so another application's
 * `kysely_migration` elsewhere in the database would be taken for ours.
 */
async function migrationSchema(db: Kysely<unknown>): Promise<string | undefined> {
  if (dialectOf(db) !== 'postgres') return undefined
  const { rows } = await sql<{ schema: string | null }>`SELECT current_schema() AS schema`.execute(
    db,
  )
  return rows[0]?.schema ?? undefined
}

async function migrator(db: Kysely<unknown>): Promise<Migrator> {
  const schema = await migrationSchema(db)
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) },
    ...(schema ? { migrationTableSchema: schema } : {}),
  })
}

/**
 * Refuses a database migrated by a newer ActionTrail: its migration table names migrations this
 * build does not know, so its schema may hold what this code would corrupt or misread.
 */
async function refuseNewer(db: Kysely<unknown>): Promise<void> {
  const unknown = await appliedUnknown(db, new Set(Object.keys(MIGRATIONS)))
  if (unknown.length > 0) {
    throw new AppError(
      'store_unavailable',
      `database schema is newer than this ActionTrail (unknown migrations: ${unknown.join(', ')}); upgrade ActionTrail`,
    )
  }
}

/**
 * Applies all pending migrations; throws `store_unavailable` naming the failed one, or for a
 * schema newer than this build.
 */
export async function migrateToLatest<DB>(database: Kysely<DB>): Promise<MigrationResultSet> {
  const db = database as unknown as Kysely<unknown>
  await refuseNewer(db)
  const result = await (await migrator(db)).migrateToLatest()
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
    throw new AppError('store_unavailable', `migration ${failed} failed`, { cause: result.error })
  }
  return result
}

/**
 * Names of pending migrations (empty when the schema is current); throws `store_unavailable` for a
 * schema newer than this build, which no number of pending migrations describes.
 */
export async function pendingMigrations<DB>(database: Kysely<DB>): Promise<string[]> {
  const db = database as unknown as Kysely<unknown>
  await refuseNewer(db)
  const migrations = await (await migrator(db)).getMigrations()
  return migrations.filter((m) => m.executedAt === undefined).map((m) => m.name)
}

/**
 * Refuses, with `store_unavailable`, a schema that is not exactly this build's: newer (see above)
 * or older (pending migrations, to be applied with `actiontrail migrate`).
 */
export async function requireCurrentSchema<DB>(database: Kysely<DB>): Promise<void> {
  const pending = await pendingMigrations(database)
  if (pending.length > 0) {
    throw new AppError(
      'store_unavailable',
      `database schema is older than this ActionTrail ` +
        `(pending migrations: ${pending.join(', ')}); run actiontrail migrate`,
    )
  }
}

/**
 * The readiness check of a running server: refuses, with `store_unavailable`, a schema that is no
 * longer exactly this build's — another node (newer or older) migrated the database since this one
 * started. One query on the migration table, cheap enough for every probe (introspection, which
 * `requireCurrentSchema` needs for a database not yet migrated, is not). Unqualified, the table is
 * the one the connection's search path finds first: on PostgreSQL, the current schema's, which is
 * where migrateToLatest put it at start.
 */
export async function assertSchemaUnchanged<DB>(database: Kysely<DB>): Promise<void> {
  const db = database as unknown as Kysely<{ kysely_migration: { name: string } }>
  const rows = await db.selectFrom('kysely_migration').select('name').execute()
  const applied = new Set(rows.map((r) => r.name))
  const unknown = [...applied].filter((name) => !(name in MIGRATIONS))
  if (unknown.length > 0)
    throw new AppError(
      'store_unavailable',
      `database schema is newer than this ActionTrail (unknown migrations: ${unknown.join(', ')})`,
    )
  const pending = Object.keys(MIGRATIONS).filter((name) => !applied.has(name))
  if (pending.length > 0)
    throw new AppError(
      'store_unavailable',
      `database schema is older than this ActionTrail (pending migrations: ${pending.join(', ')})`,
    )
}

async function appliedUnknown(db: Kysely<unknown>, known: Set<string>): Promise<string[]> {
  const schema = await migrationSchema(db)
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true })
  if (
    !tables.some(
      (t) => t.name === 'kysely_migration' && (schema === undefined || t.schema === schema),
    )
  )
    return []
  const scoped = schema === undefined ? db : db.withSchema(schema)
  const rows = await (scoped as Kysely<{ kysely_migration: { name: string } }>)
    .selectFrom('kysely_migration')
    .select('name')
    .execute()
  return rows.map((r) => r.name).filter((n) => !known.has(n))
}
