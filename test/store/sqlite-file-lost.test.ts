/**
 * The SQLite database file deleted or replaced under a running server (issue 9): SQLite keeps
 * writing to the inode it opened, so every later commit would be lost at the next start. Once the
 * files' identity changed, writes answer 503 `store_unavailable` (never 201), `/readyz` answers
 * 503, and operators are told once. Reads keep answering from the file the process still has open.
 */
import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, renameSync, rmSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import BetterSqlite3 from 'better-sqlite3'
import { openSqliteDatabase } from '../../src/store/sqlite/sqlite-database.js'
import { buildHarness, headers, TOKENS, type Harness } from '../helpers/build-app.js'
import { assertV1Error, ok, putVm, v1, VM } from '../api-v1/v1-helpers.js'

async function harnessOnFile(t: TestContext): Promise<{ h: Harness; file: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-lost-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'actiontrail.sqlite')
  const h = await buildHarness(t, file)
  await putVm(h)
  ok(await startAction(h, 'req-before'), 201)
  return { h, file, dir }
}

function startAction(h: Harness, requestId: string) {
  return v1(h, 'POST', `/v1/instances/${VM}/actions`, {
    action: 'reboot',
    request_id: requestId,
    user_id: 'u',
    project_id: 'p',
  })
}

async function assertWritesRefused(h: Harness): Promise<void> {
  const res = await startAction(h, 'req-after')
  assertV1Error(res, 503, 'store_unavailable')
  assert.match(String(res.headers['retry-after']), /^[1-9]\d*$/)
  // A retry is refused too: the loss is not forgotten.
  assertV1Error(await startAction(h, 'req-after'), 503, 'store_unavailable')
  assertV1Error(await v1(h, 'DELETE', `/v1/instances/${VM}`), 503, 'store_unavailable')
}

async function requestIds(h: Harness): Promise<string[]> {
  const res = await h.app.inject({
    url: `/v2.1/servers/${VM}/os-instance-actions`,
    headers: headers(TOKENS.admin),
  })
  assert.equal(res.statusCode, 200)
  return res
    .json<{ instanceActions: { request_id: string }[] }>()
    .instanceActions.map((a) => a.request_id)
}

test('writes after the database file was deleted answer 503, never 201; reads still answer', async (t) => {
  const { h, file } = await harnessOnFile(t)
  unlinkSync(file)
  await assertWritesRefused(h)
  assert.deepEqual(await requestIds(h), ['req-before'])
})

test('writes after the database file was replaced by another answer 503', async (t) => {
  const { h, file, dir } = await harnessOnFile(t)
  // An operator "restores" an older copy over the live file.
  const copy = join(dir, 'restored.sqlite')
  copyFileSync(file, copy)
  renameSync(copy, file)
  await assertWritesRefused(h)
})

test('writes after the -wal file was deleted answer 503', async (t) => {
  const { h, file } = await harnessOnFile(t)
  unlinkSync(`${file}-wal`)
  await assertWritesRefused(h)
})

test('writes after the whole data directory was removed answer 503', async (t) => {
  const { h, dir } = await harnessOnFile(t)
  rmSync(dir, { recursive: true, force: true })
  await assertWritesRefused(h)
})

test('/readyz answers 503 once the file is gone while /healthz (liveness) stays 200', async (t) => {
  const { h, file } = await harnessOnFile(t)
  assert.equal((await h.app.inject('/readyz')).statusCode, 200)
  unlinkSync(file)
  const ready = await h.app.inject('/readyz')
  assert.equal(ready.statusCode, 503)
  assert.deepEqual(ready.json(), { status: 'unavailable' })
  assert.equal((await h.app.inject('/healthz')).statusCode, 200)
})

test('the loss is found by the background check without any request, and reported once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-lost-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'actiontrail.sqlite')
  const reports: string[] = []
  const database = openSqliteDatabase({ filename: file, onLost: (m) => reports.push(m) })
  t.after(() => database.db.destroy())
  // Another process writes once, so that the -wal and -shm files exist too.
  const other = new BetterSqlite3(file)
  other.exec('CREATE TABLE t (x)')
  other.close()
  database.assertReady?.()
  unlinkSync(file)
  // The check runs every second; a generous bound for a loaded machine.
  for (let waited = 0; reports.length === 0 && waited < 10_000; waited += 100) await sleep(100)
  assert.equal(reports.length, 1)
  assert.match(reports[0] ?? '', /database file was deleted/)
  assert.doesNotMatch(reports[0] ?? '', new RegExp(dir), 'no path in the message')
  assert.throws(() => database.assertReady?.(), /database file was deleted/)
  await sleep(1500)
  assert.equal(reports.length, 1, 'reported once')
})
