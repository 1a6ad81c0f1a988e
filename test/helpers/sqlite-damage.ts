/** Damaging a SQLite file from another connection, as another process could. */
import { closeSync, openSync, statSync, writeSync } from 'node:fs'
import BetterSqlite3 from 'better-sqlite3'

/**
 * Checkpoints everything into `file`, overwrites every page but the first (header and schema),
 * and changes the first page through the WAL, so that a server holding the file drops its page
 * cache at its next read, as after any other writer's commit.
 */
export function damageSqliteFile(file: string): void {
  const other = new BetterSqlite3(file)
  other.pragma('wal_checkpoint(TRUNCATE)')
  const pageSize = other.pragma('page_size', { simple: true }) as number
  const size = statSync(file).size
  const fd = openSync(file, 'r+')
  writeSync(fd, Buffer.alloc(size - pageSize, 0xff), 0, size - pageSize, pageSize)
  closeSync(fd)
  other.pragma('user_version = 1')
  other.close()
}
