/**
 * The export's fast path on SQLite (store/sqlite/sqlite-export-json.ts: each record's line as JSON
 * that SQLite builds, from the second page on by worker threads) must write exactly the text of
 * the slow path (records as objects, their views, JSON.stringify): the same keys, order, escapes
 * and values, byte for byte, for awkward values, and the pages in order.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import type { Timestamp } from '../../src/domain/timestamp.js'
import { exportJsonPages, exportPages, type ExportSource } from '../../src/export/export-records.js'
import { openStores } from '../../src/store/open-store.js'
import { tempDir } from '../helpers/backup-check.js'
import { TestStore } from '../helpers/store-ops.js'

const at = (s: number) =>
  `2026-01-01T00:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.000250` as Timestamp
const uuid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
/** Quotes, backslashes, control characters, a line separator, non-BMP, HTML. */
const AWKWARD = 'a "q" \\ \u0001\t\n\r\u001f\u2028 😀 é <script>&</script>'

async function lines(
  pages: AsyncIterable<unknown[] | { data: string | Uint8Array }>,
): Promise<string[]> {
  const out: string[] = []
  for await (const page of pages) {
    if ('data' in page)
      out.push(...Buffer.from(page.data).toString('utf8').split('\n').slice(0, -1))
    else for (const r of page) out.push(JSON.stringify(r))
  }
  return out
}

test('SQLite: export lines built by SQLite (inline and on workers) equal the views stringified (± ids)', async (t) => {
  const stores = await openStores(join(tempDir(t), 'trail.sqlite'))
  t.after(() => stores.close())
  assert.ok(stores.actions.exportLinesOfActions, 'SQLite builds the export lines')
  const store = new TestStore(stores.actions)
  await store.putInstance({
    uuid: uuid(1),
    name: AWKWARD,
    projectId: 'p1',
    userId: 'u1',
    now: at(0),
  })
  await store.putInstance({
    uuid: uuid(2),
    name: 'plain',
    projectId: 'p2',
    userId: 'u2',
    now: at(0),
  })
  for (let i = 0; i < 7; i++) {
    const base = { instanceUuid: uuid(1 + (i % 2)), requestId: `req-${uuid(100 + i)}` }
    await store.startAction({
      ...base,
      action: i === 3 ? AWKWARD : 'reboot',
      userId: 'u1',
      projectId: 'p1',
      startTime: at(10 * i),
      createdAt: at(10 * i),
      ...(i % 3 === 0 ? { writer: 'w:0123456789abcdef' } : {}),
    })
    if (i === 5) continue // an action without events
    // Three events, two created at the same time: ordered by id then.
    for (const [k, event] of ['compute_a', 'compute_b', `compute_${i}`].entries()) {
      const created = at(10 * i + (k === 2 ? 1 : 0))
      await store.startEvent({
        ...base,
        event,
        host: k === 1 ? AWKWARD : 'h',
        startTime: created,
        createdAt: created,
        // Writer tags on some events, started and finished by different writers.
        ...(k === 0 ? { writer: 'w:0123456789abcdef' } : {}),
      })
      if (k === 2) continue // left running: nulls
      await store.finishEvent({
        ...base,
        event,
        finishTime: at(10 * i + 5),
        result: k === 0 ? 'Error' : 'Success',
        traceback: k === 0 ? `Traceback: ${AWKWARD}` : null,
        details: k === 0 ? AWKWARD : null,
        updatedAt: at(10 * i + 5),
        ...(k === 0 ? { writer: 'w:fedcba9876543210' } : {}),
      })
    }
  }
  const fast: ExportSource = stores.actions
  const slow: ExportSource = {
    searchActions: (s) => stores.actions.searchActions(s),
    listEventsOfActions: (ids, o) => stores.actions.listEventsOfActions(ids, o),
    getInstance: (u) => stores.actions.getInstance(u),
  }
  for (const withIds of [false, true]) {
    const expected = await lines(exportPages(slow, {}, 3, { withIds }))
    assert.equal(expected.length, 7)
    // The awkward values and the writer tags are in the text compared.
    assert.ok(
      expected.some((l) => l.includes('"written_by":"w:0123456789abcdef","finished_by":"w:fedcba')),
    )
    assert.ok(expected.some((l) => l.includes(JSON.stringify(AWKWARD).slice(1, -1))))
    // Pages of 3: the first built inline, the others by workers at once, and kept in order.
    assert.deepEqual(await lines(exportJsonPages(fast, {}, 3, { withIds })), expected)
    assert.deepEqual(await lines(exportJsonPages(fast, {}, 1, { withIds })), expected)
    // Without the fast path, exportJsonPages is the same text too.
    assert.deepEqual(await lines(exportJsonPages(slow, {}, 3, { withIds })), expected)
  }
})
