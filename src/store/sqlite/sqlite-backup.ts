/**
 * Online backup of an SQLite store (issue 13, `actiontrail backup DEST`): a consistent copy of the
 * database taken while other processes keep writing, through SQLite's online backup API.
 *
 * Copying the file is unsafe in WAL mode (the committed pages may still be in `-wal`, and a copy
 * taken during a checkpoint mixes two states). The backup API reads pages under a read
 * transaction, so the copy is one committed state; in WAL mode a reader never blocks writers.
 *
 * The copy is written under a temporary name beside DEST, checked (`PRAGMA integrity_check` and
 * the same applied migrations as the source), made durable, and only then renamed to DEST: a
 * backup that fails or is interrupted never leaves a file that looks complete.
 */
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
} from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { AppError } from '../../domain/errors.js'

/** Pages copied per step while progress is shown (4 KiB pages: 16 MiB a step). */
const STEP_PAGES = 4096
/**
 * Each step is its own read transaction, and a write committed by another connection between two
 * steps makes SQLite start the copy again. Under steady writes a stepped copy may never finish, so
 * after this many restarts the rest is copied in one step: one read transaction, which in WAL mode
 * does not hold writers back (only checkpoints wait for it to end). Measured: with 4-page steps
 * and a writer beside it, a copy without this fallback had not finished after 60 s
 * (test/store/sqlite-backup.test.ts).
 */
const MAX_RESTARTS = 2
/** Largest page count better-sqlite3 accepts for one step: "all remaining pages". */
const ALL_PAGES = 0x7fffffff
/** How long opening the source waits for a lock another process holds (migrations, offline import). */
const SOURCE_BUSY_TIMEOUT_MS = 5000

/** Progress of a backup: pages copied so far of the source's current total. */
export interface BackupProgress {
  totalPages: number
  remainingPages: number
}

/** What a finished backup holds. */
export interface BackupSummary {
  /** Absolute path of the copy. */
  path: string
  /** Pages and bytes of the copy. */
  pages: number
  bytes: number
  /** Migrations applied in the copy, the same as in the source; the last is its schema version. */
  migrations: string[]
  /** Times SQLite started the copy again because the source was written between steps. */
  restarts: number
}

/** Options of backupSqlite. */
export interface BackupOptions {
  /** The live database file. */
  source: string
  /** Where the copy goes. */
  dest: string
  /** Replace an existing DEST (default: refuse). */
  force?: boolean
  /** Pages per step until the first restarts (default 4096); tests take small steps. */
  stepPages?: number
  /** Told after each step (a terminal's progress line). */
  onProgress?: (p: BackupProgress) => void
}

function fail(message: string): AppError {
  return new AppError('invalid_input', message)
}

function appliedMigrations(db: BetterSqlite3.Database): string[] {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'")
    .get()
  if (table === undefined) return []
  return (
    db.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as { name: string }[]
  ).map((r) => r.name)
}

function removeCopy(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path + suffix, { force: true })
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * Checks a finished copy: `PRAGMA integrity_check` must answer `ok` and its
 * applied migrations must be the source's. Returns its page count.
 */
function checkCopy(
  path: string,
  sourceMigrations: string[],
): { pages: number; migrations: string[] } {
  // Not read-only: the copy is in WAL mode like its source, and a read-only connection leaves the
  // `-wal` and `-shm` files behind (seen), under the temporary name. A read-write one that only
  // reads removes them when it closes.
  const copy = new BetterSqlite3(path, { fileMustExist: true })
  try {
    const problems = (copy.pragma('integrity_check') as { integrity_check: string }[]).map(
      (r) => r.integrity_check,
    )
    if (problems.length !== 1 || problems[0] !== 'ok')
      throw new AppError(
        'store_unavailable',
        `backup copy failed integrity_check: ${problems.slice(0, 3).join('; ')}`,
      )
    const migrations = appliedMigrations(copy)
    if (migrations.join() !== sourceMigrations.join())
      throw new AppError(
        'store_unavailable',
        `backup copy's schema (${migrations.at(-1) ?? 'none'}) is not the source's ` +
          `(${sourceMigrations.at(-1) ?? 'none'}): was the source migrated during the backup? run it again`,
      )
    return { pages: copy.pragma('page_count', { simple: true }) as number, migrations }
  } finally {
    copy.close()
  }
}

/**
 * Copies the SQLite database `source` to `dest` while it stays in use, checks the copy and renames
 * it into place. Fails with `invalid_input` for a wrong command (source missing, DEST exists
 * without `force`, DEST is the source, DEST's directory missing) and `store_unavailable` when the
 * copy cannot be made or does not check out; in every failure no file is left at DEST.
 */
export async function backupSqlite({
  source,
  dest,
  force = false,
  stepPages = STEP_PAGES,
  onProgress,
}: BackupOptions): Promise<BackupSummary> {
  const sourcePath = resolve(source)
  const destPath = resolve(dest)
  if (!existsSync(sourcePath)) throw fail(`no SQLite database at ${source}`)
  const destDir = dirname(destPath)
  if (!existsSync(destDir)) throw fail(`the directory of ${dest} does not exist`)
  if (existsSync(destPath)) {
    if (realpathSync(destPath) === realpathSync(sourcePath))
      throw fail('the backup destination is the database itself')
    if (!force) throw fail(`${dest} exists; give --force to replace it`)
  }
  const temp = join(destDir, `.${basename(destPath)}.partial-${randomBytes(4).toString('hex')}`)
  const db = new BetterSqlite3(sourcePath, { fileMustExist: true })
  let restarts = 0
  try {
    db.pragma(`busy_timeout = ${SOURCE_BUSY_TIMEOUT_MS}`)
    const before = appliedMigrations(db)
    let previous = Number.POSITIVE_INFINITY
    await db.backup(temp, {
      progress: (p) => {
        // Remaining pages only go down within one pass: not going down means SQLite started over.
        if (p.remainingPages >= previous) restarts++
        previous = p.remainingPages
        onProgress?.(p)
        return restarts >= MAX_RESTARTS ? ALL_PAGES : stepPages
      },
    })
    const after = appliedMigrations(db)
    if (before.join() !== after.join())
      throw new AppError(
        'store_unavailable',
        'the source was migrated during the backup; run it again',
      )
    const { pages, migrations } = checkCopy(temp, after)
    fsyncPath(temp)
    const bytes = pages * (db.pragma('page_size', { simple: true }) as number)
    renameSync(temp, destPath)
    fsyncPath(destDir)
    return { path: destPath, pages, bytes, migrations, restarts }
  } catch (err) {
    removeCopy(temp)
    if (err instanceof AppError) throw err
    const code = (err as { code?: unknown }).code
    throw new AppError(
      'store_unavailable',
      `backup failed (${typeof code === 'string' ? code : err instanceof Error ? err.message : 'unknown'})`,
      { cause: err },
    )
  } finally {
    db.close()
  }
}
