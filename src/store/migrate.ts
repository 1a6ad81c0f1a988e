/**
 * Versioned migrations from a static list (no file-system scanning), applied by Kysely's Migrator.
 * A database that has migrations this build does not know is refused, so an old binary never
 * writes to a newer schema.
 */
import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely'
import { AppError } from '../domain/errors.js'
import { init } from './migrations/0001-init.js'
import { idempotency } from './migrations/0002-idempotency.js'

/** Every migration this build knows, in order. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-init': init,
  '0002-idempotency': idempotency,
})

function migrator(db: Kysely<unknown>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) },
  })
}

/** Applies all pending migrations; throws `store_unavailable` naming the failed one. */
export async function migrateToLatest(db: Kysely<unknown>): Promise<MigrationResultSet> {
  const migrations = await migrator(db).getMigrations()
  const unknown = await appliedUnknown(db, new Set(migrations.map((m) => m.name)))
  if (unknown.length > 0) {
    throw new AppError(
      'store_unavailable',
      `database schema is newer than this ActionTrail (unknown migrations: ${unknown.join(', ')}); upgrade ActionTrail`,
    )
  }
  const result = await migrator(db).migrateToLatest()
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
    throw new AppError('store_unavailable', `migration ${failed} failed`, { cause: result.error })
  }
  return result
}

/** Names of pending migrations (empty when the schema is current). */
export async function pendingMigrations(db: Kysely<unknown>): Promise<string[]> {
  const migrations = await migrator(db).getMigrations()
  return migrations.filter((m) => m.executedAt === undefined).map((m) => m.name)
}

async function appliedUnknown(db: Kysely<unknown>, known: Set<string>): Promise<string[]> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true })
  if (!tables.some((t) => t.name === 'kysely_migration')) return []
  const rows = await (db as Kysely<{ kysely_migration: { name: string } }>)
    .selectFrom('kysely_migration')
    .select('name')
    .execute()
  return rows.map((r) => r.name).filter((n) => !known.has(n))
}
