/** `actiontrail migrate`: bring the database schema up to date. */
import type { Command } from 'commander'
import { DATABASE_OPTION_HELP, resolveDatabase } from '../../config.js'
import { migrateToLatest, pendingMigrations } from '../../store/migrate.js'
import { openDatabase } from '../../store/open-store.js'

/** Registers the migrate command. */
export function migrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations')
    .option('--db <path>', DATABASE_OPTION_HELP)
    .option('--check', 'only report pending migrations; exit 1 when there are any')
    .action(async (opts: { db?: string; check?: boolean }) => {
      const database = resolveDatabase(opts.db)
      // The database as it is: this command is what brings an old schema up to date (and, like
      // every other, refuses a newer one).
      const { db } = openDatabase(database)
      try {
        if (opts.check) {
          const pending = await pendingMigrations(db)
          console.log(
            pending.length === 0
              ? 'schema is up to date'
              : `pending migrations: ${pending.join(', ')}`,
          )
          process.exitCode = pending.length === 0 ? 0 : 1
          return
        }
        const result = await migrateToLatest(db)
        const applied = (result.results ?? [])
          .filter((r) => r.status === 'Success')
          .map((r) => r.migrationName)
        console.log(
          applied.length === 0 ? 'schema is up to date' : `applied: ${applied.join(', ')}`,
        )
      } finally {
        await db.destroy()
      }
    })
}
