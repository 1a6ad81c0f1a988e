/**
 * The statement cache under Kysely: a text is compiled once and its statement reused, a statement
 * still stepping is never handed out again (a second one is), the least recently used is dropped
 * past the capacity, and reads through Kysely give the same rows with it as without it.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { cachedPrepare } from './statement-cache.js'

function table(): BetterSqlite3.Database {
  const native = new BetterSqlite3(':memory:')
  native.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)')
  const insert = native.prepare('INSERT INTO t (v) VALUES (?)')
  for (let i = 1; i <= 5; i++) insert.run(`v${i}`)
  return native
}

test('a text is compiled once; its statement is reused', () => {
  const native = table()
  const prepare = cachedPrepare(native)
  const first = prepare('SELECT v FROM t WHERE id = ?')
  assert.equal(prepare('SELECT v FROM t WHERE id = ?'), first)
  assert.deepEqual(first.get(2), { v: 'v2' })
  assert.notEqual(prepare('SELECT v FROM t WHERE id > ?'), first)
})

test('a statement still stepping is not handed out again until it finishes', () => {
  const native = table()
  const prepare = cachedPrepare(native)
  const text = 'SELECT id FROM t ORDER BY id'
  const kept = prepare(text)
  const rows = kept.iterate() as IterableIterator<{ id: number }>
  assert.equal(rows.next().value?.id, 1)
  const other = prepare(text)
  assert.notEqual(other, kept)
  assert.deepEqual(
    other.all().map((r) => (r as { id: number }).id),
    [1, 2, 3, 4, 5],
  )
  assert.equal(rows.next().value?.id, 2)
  rows.return?.()
  assert.equal(prepare(text), kept)
})

test('past its capacity the least recently used statement is dropped', () => {
  const native = table()
  const prepare = cachedPrepare(native, 2)
  const a = prepare('SELECT 1')
  const b = prepare('SELECT 2')
  assert.equal(prepare('SELECT 1'), a) // now the most recent
  prepare('SELECT 3') // drops SELECT 2
  assert.equal(prepare('SELECT 1'), a)
  assert.notEqual(prepare('SELECT 2'), b)
})

test('Kysely reads the same rows, writes and schema changes included', async () => {
  const native = table()
  const db = new Kysely<{ t: { id: number; v: string } }>({
    dialect: new SqliteDialect({
      database: { prepare: cachedPrepare(native), close: () => native.close() },
    }),
  })
  const read = () => db.selectFrom('t').selectAll().where('id', 'in', [1, 3, 9]).execute()
  assert.deepEqual(await read(), [
    { id: 1, v: 'v1' },
    { id: 3, v: 'v3' },
  ])
  await db.updateTable('t').set({ v: 'x' }).where('id', '=', 3).execute()
  assert.deepEqual(await read(), [
    { id: 1, v: 'v1' },
    { id: 3, v: 'x' },
  ])
  // A kept statement whose table changed shape is recompiled by SQLite, not run stale.
  await sql`ALTER TABLE t ADD COLUMN w TEXT DEFAULT 'w'`.execute(db)
  assert.deepEqual(await read(), [
    { id: 1, v: 'v1', w: 'w' },
    { id: 3, v: 'x', w: 'w' },
  ])
  await db.destroy()
})
