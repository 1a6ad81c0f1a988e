/**
 * `actiontrail backup DEST`: an online backup of the SQLite store (store/sqlite/sqlite-backup.ts),
 * taken while the server keeps writing, checked, and renamed into place only when complete.
 * PostgreSQL and MariaDB/MySQL have native tools that do this better (consistent dumps, physical
 * backups, point-in-time recovery): on those the command points to them and does nothing.
 */
import type { Command } from 'commander'
import { DATABASE_OPTION_HELP, resolveDatabase } from '../../config.js'
import { describeDatabase, parseDatabaseTarget } from '../../store/open-store.js'
import { backupSqlite, type BackupProgress } from '../../store/sqlite/sqlite-backup.js'
import { usageError } from '../cli-error.js'

const NATIVE_TOOLS = {
  postgres:
    'pg_dump -Fc (a consistent dump) or pg_basebackup (physical, for point-in-time recovery)',
  mysql:
    'mariadb-dump --single-transaction (a consistent dump) or mariabackup (physical, while it runs)',
} as const

/** The progress line, at most four times a second, on stderr when it is a terminal. */
function progressPrinter(stream: NodeJS.WriteStream): (p: BackupProgress) => void {
  let last = 0
  return (p) => {
    const now = performance.now()
    if (now - last < 250) return
    last = now
    const done = p.totalPages - p.remainingPages
    const pct = p.totalPages > 0 ? (100 * done) / p.totalPages : 100
    stream.write(
      `\rbackup: ${pct.toFixed(1)}% (${done.toLocaleString('en')} of ` +
        `${p.totalPages.toLocaleString('en')} pages)\u001b[K`,
    )
  }
}

/** Registers the backup command. */
export function backupCommand(program: Command): void {
  program
    .command('backup')
    .description('online backup of the SQLite store to DEST (checked, written atomically)')
    .argument('<dest>', 'file to write the copy to (refused if it exists, unless --force)')
    .option('--force', 'replace DEST if it exists')
    .option('--db <path>', DATABASE_OPTION_HELP)
    .action(async (dest: string, opts: { db?: string; force?: boolean }) => {
      const database = resolveDatabase(opts.db)
      const target = parseDatabaseTarget(database)
      if (target.kind !== 'sqlite')
        throw usageError(
          `backup: ${describeDatabase(database)} is a ${target.kind === 'postgres' ? 'PostgreSQL' : 'MariaDB/MySQL'} ` +
            `database: back it up with ${NATIVE_TOOLS[target.kind]}; see docs/operations.md, "Backup"`,
        )
      if (target.filename === ':memory:')
        throw usageError('backup: an in-memory database has nothing to back up')
      const tty = process.stderr.isTTY === true
      const summary = await backupSqlite({
        source: target.filename,
        dest,
        force: opts.force === true,
        ...(tty ? { onProgress: progressPrinter(process.stderr) } : {}),
      })
      // The progress line is erased: the summary below says what was copied.
      if (tty) process.stderr.write('\r\u001b[K')
      console.log(
        `backup: ${summary.path}: ${summary.bytes.toLocaleString('en')} bytes, ` +
          `integrity_check ok, schema ${summary.migrations.at(-1) ?? '(none)'}`,
      )
    })
}
