/** `actiontrail migrate`: bring the database schema up to date. */
import type { Command } from 'commander'
import type { Kysely } from 'kysely'
import { DATABASE_OPTION_HELP, resolveDatabase } from '../../config.js'
import { migrateToLatest, pendingMigrations } from '../../store/migrate.js'
import { openStore } from '../../store/open-store.js'

/** Registers the migrate command. */
export function migrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations')
    .option('--db <path>', DATABASE_OPTION_HELP)
    .option('--check', 'only report pending migrations; exit 1 when there are any')
    .action(async (opts: { db?: string; check?: boolean }) => {
      const database = resolveDatabase(opts.db)
      const store = await openStore(database, { migrate: false })
      try {
        const db = store.db as unknown as Kysely<unknown>
        if (opts.check) {
          const pending = await pendingMigrations(db)
          console.log(pending.length === 0 ? 'schema is up to date' : `pending migrations: ${pending.join(', ')}`)
          process.exitCode = pending.length === 0 ? 0 : 1
          return
        }
        const result = await migrateToLatest(db)
        const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
        console.log(applied.length === 0 ? 'schema is up to date' : `applied: ${applied.join(', ')}`)
      } finally {
        await store.close()
      }
    })
}
