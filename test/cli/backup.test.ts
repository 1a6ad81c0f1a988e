/**
 * `actiontrail backup DEST` (issue 13) through the command as users run it: on SQLite, a copy taken
 * while this process keeps writing through the store's write path is checked, complete and one
 * consistent state that ActionTrail opens; DEST is never overwritten without --force; on
 * PostgreSQL and MariaDB the command points to the native tools and exits 2.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { MIGRATIONS } from '../../src/store/migrate.js'
import { openStores } from '../../src/store/open-store.js'
import { assertConsistentPrefix, fileRows, startWriter, tempDir } from '../helpers/backup-check.js'
import { runCli } from '../helpers/run-cli.js'
import { TestStore } from '../helpers/store-ops.js'

test('backup under writes: a checked copy of one consistent state, which ActionTrail opens', async (t) => {
  const dir = tempDir(t)
  const source = join(dir, 'live.sqlite')
  const dest = join(dir, 'backup.sqlite')
  const stores = await openStores(source)
  t.after(() => stores.close())
  const writer = startWriter(new TestStore(stores.actions))
  await writer.reach(300)
  const before = writer.written()
  const run = await runCli(['backup', dest, '--db', source])
  const total = await writer.stop()
  assert.equal(run.code, 0, run.stderr)
  assert.match(
    run.stdout,
    new RegExp(
      `^backup: .*backup\\.sqlite: [\\d,]+ bytes, integrity_check ok, schema ${Object.keys(MIGRATIONS).at(-1)}`,
    ),
  )
  assert.ok(total > before, 'writes went on during the backup')

  const copy = await fileRows(dest)
  assertConsistentPrefix(copy, await fileRows(source))
  assert.ok(copy.actions.length >= before)
  // ActionTrail opens the copy as it is (no migration to apply) and reads its newest action.
  const restored = await openStores(dest, { migrate: false })
  t.after(() => restored.close())
  const last = copy.actions.at(-1) as unknown as { instance_uuid: string; request_id: string }
  const action = await restored.actions.getAction(last.instance_uuid, last.request_id)
  assert.equal(action?.requestId, last.request_id)
  assert.equal(await restored.changes.head(), copy.changes.length)
})

test('an existing DEST is kept unless --force; errors are one line with exit 2', async (t) => {
  const dir = tempDir(t)
  const source = join(dir, 'live.sqlite')
  const dest = join(dir, 'backup.sqlite')
  await (await openStores(source)).close()
  writeFileSync(dest, 'an older backup')

  const refused = await runCli(['backup', dest, '--db', source])
  assert.equal(refused.code, 2)
  assert.equal(refused.stderr, `actiontrail: ${dest} exists; give --force to replace it\n`)
  assert.equal(readFileSync(dest, 'utf8'), 'an older backup')

  const missing = await runCli(['backup', join(dir, 'nowhere', 'b.sqlite'), '--db', source])
  assert.equal(missing.code, 2)
  assert.match(missing.stderr, /^actiontrail: the directory of .* does not exist\n$/)

  const forced = await runCli(['backup', dest, '--db', source, '--force'])
  assert.equal(forced.code, 0, forced.stderr)
  assert.equal((await fileRows(dest)).actions.length, 0)
})

test('on PostgreSQL and MariaDB the command names the native tools and exits 2', async () => {
  for (const [url, tool] of [
    ['postgres://backup:s3cret@db.example/actiontrail', /pg_dump -Fc .*pg_basebackup/],
    [
      'mariadb://backup:s3cret@db.example/actiontrail',
      /mariadb-dump --single-transaction .*mariabackup/,
    ],
  ] as const) {
    const run = await runCli(['backup', '/tmp/never-written', '--db', url])
    assert.equal(run.code, 2)
    assert.match(run.stderr, tool)
    assert.match(run.stderr, /docs\/operations\.md/)
    assert.doesNotMatch(run.stderr, /s3cret/)
    assert.equal(run.stderr.trim().split('\n').length, 1)
  }
})
