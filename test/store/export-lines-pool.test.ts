/**
 * The export-lines pool (store/sqlite/export-lines-pool.ts): pages asked for off the thread are
 * built by an idle worker thread on its own connection (else at once on the store's), give exactly
 * the text of the store's own connection, in each caller's order, and are never lost: an in-memory
 * database, a closed pool and a worker that cannot open the file all fall back to the store's
 * connection.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import BetterSqlite3 from 'better-sqlite3'
import type { Timestamp } from '../../src/domain/timestamp.js'
import { openStores } from '../../src/store/open-store.js'
import type { ExportLines } from '../../src/store/action-store.js'
import { createExportLinesPool } from '../../src/store/sqlite/export-lines-pool.js'
import {
  sqliteExportLines,
  type ExportLinesReader,
} from '../../src/store/sqlite/sqlite-export-json.js'
import { tempDir } from '../helpers/backup-check.js'
import { TestStore } from '../helpers/store-ops.js'

const at = (s: number) => `2026-01-01T00:00:${String(s).padStart(2, '0')}.000000` as Timestamp
const uuid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`

/** A store file with `count` actions of 2 events each, on 3 instances; their ids. */
async function storeFile(dir: string, count: number): Promise<{ file: string; ids: number[] }> {
  const file = join(dir, 'trail.sqlite')
  const stores = await openStores(file)
  const store = new TestStore(stores.actions)
  for (let i = 1; i <= 3; i++)
    await store.putInstance({
      uuid: uuid(i),
      name: `vm-${i}`,
      projectId: 'p',
      userId: 'u',
      now: at(0),
    })
  for (let i = 0; i < count; i++) {
    const base = { instanceUuid: uuid(1 + (i % 3)), requestId: `req-${uuid(100 + i)}` }
    await store.startAction({
      ...base,
      action: 'reboot',
      userId: 'u',
      projectId: 'p',
      startTime: at(i % 60),
      createdAt: at(i % 60),
    })
    for (const event of ['compute_a', 'compute_b'])
      await store.startEvent({
        ...base,
        event,
        host: 'h',
        startTime: at(i % 60),
        createdAt: at(i % 60),
      })
  }
  await stores.close()
  const db = new BetterSqlite3(file, { readonly: true })
  const ids = db.prepare('SELECT id FROM instance_actions ORDER BY id').pluck().all() as number[]
  db.close()
  return { file, ids }
}

/** A reader on its own connection that counts its calls. */
function countingReader(file: string): {
  read: ExportLinesReader
  calls: () => number
  reset: () => void
  close: () => void
} {
  const native = new BetterSqlite3(file, { readonly: true })
  const read = sqliteExportLines(native)
  let calls = 0
  return {
    read: (ids, request) => {
      calls++
      return read(ids, request)
    },
    calls: () => calls,
    reset: () => {
      calls = 0
    },
    close: () => native.close(),
  }
}

/** The lines as text, wherever they were built (a worker's bytes arrive as a Uint8Array). */
function text(lines: ExportLines): { text: string; count: number } {
  return { text: Buffer.from(lines.data).toString('utf8'), count: lines.count }
}

/** Pages of 4 ids, one reversed and one with an id that does not exist. */
function pagesOf(ids: readonly number[]): number[][] {
  const pages: number[][] = []
  for (let i = 0; i < ids.length; i += 4) pages.push(ids.slice(i, i + 4))
  pages.push(ids.slice(0, 5).reverse(), [ids[0] as number, 999_999, ids[1] as number])
  return pages
}

test('off-thread pages go to an idle worker, give the inline text, each in its own order', async (t) => {
  const { file, ids } = await storeFile(tempDir(t), 40)
  const inline = countingReader(file)
  t.after(() => inline.close())
  const pool = createExportLinesPool({ filename: file, inline: inline.read, workers: 2 })
  t.after(() => pool.close())
  const pages = pagesOf(ids)
  for (const withIds of [false, true]) {
    // Two at a time: both workers idle each time, so no page is built inline.
    const built: { text: string; count: number }[] = []
    for (let i = 0; i < pages.length; i += 2) {
      const two = pages.slice(i, i + 2).map((p) => pool.read(p, { withIds, offThread: true }))
      built.push(...(await Promise.all(two)).map(text))
    }
    assert.equal(inline.calls(), 0, 'no page was built inline while a worker was idle')
    const expected = pages.map((p) => text(inline.read(p, { withIds })))
    assert.deepEqual(built, expected)
    assert.equal(built.at(-1)?.count, 2, 'an id that does not exist has no line')
    if (withIds) {
      const reversed = (built.at(-2)?.text ?? '').split('\n').slice(0, -1)
      const order = reversed.map((l) => (JSON.parse(l) as { ids: { action: number } }).ids.action)
      assert.deepEqual(order, ids.slice(0, 5).reverse(), 'the order asked, not the ids order')
    }
    // All at once: what the workers cannot take is built inline at once, the same text.
    inline.reset()
    const all = await Promise.all(pages.map((p) => pool.read(p, { withIds, offThread: true })))
    assert.ok(inline.calls() >= pages.length - 2, 'busy workers: built inline, not queued')
    assert.deepEqual(all.map(text), expected)
    inline.reset()
  }
})

test('pages are built inline when not asked off the thread, or for an in-memory database', async (t) => {
  const { file, ids } = await storeFile(tempDir(t), 8)
  const inline = countingReader(file)
  t.after(() => inline.close())
  const onFile = createExportLinesPool({ filename: file, inline: inline.read, workers: 2 })
  t.after(() => onFile.close())
  const expected = text(inline.read(ids, { withIds: false }))
  inline.reset()
  assert.deepEqual(text(await onFile.read(ids, { withIds: false })), expected)
  assert.equal(inline.calls(), 1)
  const inMemory = createExportLinesPool({ filename: undefined, inline: inline.read, workers: 2 })
  assert.deepEqual(text(await inMemory.read(ids, { withIds: false, offThread: true })), expected)
  assert.equal(inline.calls(), 2)
})

test('nothing is lost when the workers cannot run or the pool closes mid-way', async (t) => {
  const dir = tempDir(t)
  const { file, ids } = await storeFile(dir, 24)
  const inline = countingReader(file)
  t.after(() => inline.close())
  const pages = pagesOf(ids)
  const expected = pages.map((p) => text(inline.read(p, { withIds: true })))
  // Workers pointed at a file that does not exist fail to start: the store's connection builds.
  const broken = createExportLinesPool({
    filename: join(dir, 'missing.sqlite'),
    inline: inline.read,
    workers: 2,
  })
  t.after(() => broken.close())
  const viaBroken = await Promise.all(
    pages.map((p) => broken.read(p, { withIds: true, offThread: true })),
  )
  assert.deepEqual(viaBroken.map(text), expected)
  // Closed with pages queued and in flight: each is still answered, with the same text.
  const pool = createExportLinesPool({ filename: file, inline: inline.read, workers: 2 })
  const pending = pages.map((p) => pool.read(p, { withIds: true, offThread: true }))
  await pool.close()
  assert.deepEqual((await Promise.all(pending)).map(text), expected)
})
