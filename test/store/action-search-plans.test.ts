/**
 * SQLite's plans of the searches for unfinished work (issue 10's structural misses, migration
 * 0014). SQLite plans without statistics, from the schema and the statement alone, so its plan on
 * an empty database is the plan at 1M actions: these are the plans bench:scale measured.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { CompiledQuery, type Kysely } from 'kysely'
import type { Timestamp } from '../../src/domain/timestamp.js'
import { searchActionsQuery } from '../../src/store/action-search-query.js'
import type { ActionSearch } from '../../src/store/action-store.js'
import { searchEventsQuery } from '../../src/store/event-search-query.js'
import { migrateToLatest } from '../../src/store/migrate.js'
import { openDatabase } from '../../src/store/open-store.js'
import type { Database } from '../../src/store/schema.js'

const stuck = { before: '2026-12-01T00:00:00.000000' as Timestamp, byAction: [] }
const overrides = {
  before: '2026-12-01T00:00:00.000000' as Timestamp,
  byAction: [['live-migration', '2026-11-30T00:00:00.000000' as Timestamp] as const],
}
const after = { startTime: '2026-11-01T00:00:00.000000', id: 123 } as ActionSearch['after']

async function plan(db: Kysely<Database>, q: CompiledQuery): Promise<string> {
  const { rows } = await db.executeQuery<{ detail: string }>(
    CompiledQuery.raw(`EXPLAIN QUERY PLAN ${q.sql}`, [...q.parameters]),
  )
  return rows.map((r) => r.detail).join(' | ')
}

async function migrated(t: TestContext): Promise<Kysely<Database>> {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-plans-'))
  const opened = openDatabase(join(dir, 'plans.db'))
  t.after(async () => {
    await opened.db.destroy()
    rmSync(dir, { recursive: true, force: true })
  })
  await migrateToLatest(opened.db)
  return opened.db
}

test('state=stuck + action keeps the unfinished range on every page (SQLite)', async (t) => {
  const db = await migrated(t)
  for (const deadlines of [stuck, overrides])
    for (const at of [{}, { after }]) {
      const q = searchActionsQuery(db, {
        actions: ['live-migration'],
        stuck: deadlines,
        ...at,
        limit: 51,
      }).compile()
      const detail = await plan(db, q)
      // Page 2 used to leave for (action, start_time, id): every live migration of the trail
      // read to find the unfinished ones (120 ms at 1M actions).
      assert.match(detail, /^SEARCH a USING INDEX instance_actions_unfinished_action\w*_idx/)
      assert.doesNotMatch(detail, /TEMP B-TREE/)
    }
})

test("a project's stuck events by changed_at are one ordered unfinished range (SQLite)", async (t) => {
  const db = await migrated(t)
  for (const deadlines of [stuck, overrides])
    for (const at of [{}, { after }]) {
      const q = searchEventsQuery(db, {
        ownerProjectId: 'p1',
        stuck: deadlines,
        timeField: 'updated_at',
        ...at,
        limit: 51,
      }).compile()
      const detail = await plan(db, q)
      // It used to read the project's events by start_time and sort them (35 ms at 1M actions).
      assert.match(
        detail,
        /^SEARCH e USING INDEX instance_actions_events_owner_unfinished_changed_part_idx/,
      )
      assert.doesNotMatch(detail, /TEMP B-TREE/)
    }
})
