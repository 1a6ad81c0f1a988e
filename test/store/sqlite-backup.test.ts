/**
 * The SQLite online backup (issue 13) taken in small steps while another connection keeps writing:
 * SQLite starts the copy again after each write between two steps, and the backup falls back to
 * one step, so it finishes under steady writes and the copy is one consistent state.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { isAppError } from '../../src/domain/errors.js'
import { MIGRATIONS } from '../../src/store/migrate.js'
import { openStores } from '../../src/store/open-store.js'
import { backupSqlite } from '../../src/store/sqlite/sqlite-backup.js'
import { assertConsistentPrefix, fileRows, startWriter, tempDir } from '../helpers/backup-check.js'
import { TestStore } from '../helpers/store-ops.js'

test('a stepped backup under steady writes restarts, finishes, and copies one consistent state', async (t) => {
  const dir = tempDir(t)
  const source = join(dir, 'live.sqlite')
  const stores = await openStores(source)
  t.after(() => stores.close())
  const writer = startWriter(new TestStore(stores.actions))
  await writer.reach(200)
  const summary = await backupSqlite({ source, dest: join(dir, 'copy.sqlite'), stepPages: 4 })
  const total = await writer.stop()
  assert.ok(summary.restarts >= 1, 'the writes between steps restarted the copy')
  // The latest migration of this build (not a fixed name: every new migration would break it).
  assert.equal(summary.migrations.at(-1), Object.keys(MIGRATIONS).at(-1))
  const copy = await fileRows(summary.path)
  assertConsistentPrefix(copy, await fileRows(source))
  assert.ok(copy.actions.length >= 200 && copy.actions.length <= total)
  // Only the copy: no temporary file, -wal or -shm left beside it.
  assert.deepEqual(readdirSync(dir).sort(), [
    'copy.sqlite',
    'live.sqlite',
    'live.sqlite-shm',
    'live.sqlite-wal',
  ])
})

test('a backup that fails leaves nothing at DEST, and an existing DEST is kept without force', async (t) => {
  const dir = tempDir(t)
  const source = join(dir, 'live.sqlite')
  const stores = await openStores(source)
  await stores.close()
  const dest = join(dir, 'copy.sqlite')
  writeFileSync(dest, 'an older backup')
  await assert.rejects(backupSqlite({ source, dest }), (e) => isAppError(e, 'invalid_input'))
  await assert.rejects(backupSqlite({ source, dest: source, force: true }), (e) =>
    isAppError(e, 'invalid_input'),
  )
  await assert.rejects(
    backupSqlite({ source: join(dir, 'missing.sqlite'), dest: join(dir, 'x.sqlite') }),
    (e) => isAppError(e, 'invalid_input'),
  )
  assert.equal(existsSync(join(dir, 'missing.sqlite')), false, 'a missing source is not created')
  // A source that is not a database: the copy fails, and neither it nor a temporary file remains.
  const junk = join(dir, 'junk.sqlite')
  writeFileSync(junk, 'x'.repeat(8192))
  await assert.rejects(backupSqlite({ source: junk, dest: join(dir, 'y.sqlite') }), (e) =>
    isAppError(e, 'store_unavailable'),
  )
  assert.deepEqual(readdirSync(dir).sort(), ['copy.sqlite', 'junk.sqlite', 'live.sqlite'])
  await backupSqlite({ source, dest, force: true })
  assert.equal((await fileRows(dest)).actions.length, 0)
})
