/**
 * Plans of issue 10's structural misses. SQLite's searches for unfinished work (migration 0014):
 * SQLite plans without statistics, from the schema and the statement alone, so its plan on an
 * empty database is the plan at 1M actions: these are the plans bench:scale measured. MariaDB's
 * `host` filter of the actions search: how the subquery runs (per action, or materialized first)
 * is decided by the statement's shape, which EXPLAIN shows on an empty database as at 1M actions.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import { CompiledQuery, type Kysely } from 'kysely'
import type { Timestamp } from '../../src/domain/timestamp.js'
import { searchActionsQuery } from '../../src/store/action-search-query.js'
import type { ActionSearch } from '../../src/store/action-store.js'
import { searchEventsQuery } from '../../src/store/event-search-query.js'
import { migrateToLatest } from '../../src/store/migrate.js'
import { openDatabase, openStores } from '../../src/store/open-store.js'
import type { Database } from '../../src/store/schema.js'
import { backendProblem, freshDatabase, REQUIRE_BACKENDS } from '../helpers/backends.js'
import { TestStore } from '../helpers/store-ops.js'

const at = (s: number) => `2026-11-0${1 + Math.floor(s / 10)}T00:00:0${s % 10}.000000` as Timestamp

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

/** The plan reads `index` in the order asked for: no sort of its own. */
async function assertOrderedRange(db: Kysely<Database>, q: CompiledQuery, index: RegExp) {
  const detail = await plan(db, q)
  assert.match(detail, index)
  assert.doesNotMatch(detail, /TEMP B-TREE/)
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
      // Page 2 used to leave for (action, start_time, id): every live migration of the trail
      // read to find the unfinished ones (120 ms at 1M actions).
      await assertOrderedRange(
        db,
        q,
        /^SEARCH a USING INDEX instance_actions_unfinished_action\w*_idx/,
      )
    }
})

test("a member's actions of one name are one range of their project's index, on every page (SQLite)", async (t) => {
  const db = await migrated(t)
  for (const at of [{}, { after }]) {
    const q = searchActionsQuery(db, {
      ownerProjectId: 'p',
      actions: ['reboot'],
      ...at,
      limit: 51,
    }).compile()
    // Before 0015 the walk was (owner_project_id, start_time, id) or (action, start_time, id),
    // dropping the other filter's rows: deeper pages read more (2.70 ms against 0.74 at 1M).
    await assertOrderedRange(
      db,
      q,
      /^SEARCH a USING INDEX instance_actions_owner_action_start_idx \(owner_project_id=\? AND action=\?/,
    )
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
      // It used to read the project's events by start_time and sort them (35 ms at 1M actions).
      await assertOrderedRange(
        db,
        q,
        /^SEARCH e USING INDEX instance_actions_events_owner_unfinished_changed_part_idx/,
      )
    }
})

/** The `host` searches of GET /v1/actions: alone, on a deep page, and with the other terms. */
const HOST_SEARCHES: [string, Omit<ActionSearch, 'limit'>][] = [
  ['host', { host: 'compute-7' }],
  ['host, next page', { host: 'compute-7', after }],
  ['host, time_field=updated_at', { host: 'compute-7', timeField: 'updated_at' }],
  [
    'action + host + window',
    {
      actions: ['live-migration'],
      host: 'compute-7',
      since: '2026-11-01T00:00:00.000000' as Timestamp,
    },
  ],
  ['action, repeated + host', { actions: ['live-migration', 'resize'], host: 'compute-7' }],
  ['state=stuck + action + host', { actions: ['live-migration'], host: 'compute-7', stuck }],
  ['owner_project + host', { ownerProjectId: 'p1', host: 'compute-7' }],
  ['archived + host', { host: 'compute-7', archived: true }],
]

/** A fresh, migrated MariaDB database, dropped after the test. */
async function migratedMysql(t: TestContext) {
  const database = await freshDatabase('mysql')
  const opened = openDatabase(database.url)
  t.after(async () => {
    await opened.db.destroy()
    await database.drop()
  })
  await migrateToLatest(opened.db)
  return { database, opened }
}

const mysqlProblem = await backendProblem('mysql')
if (mysqlProblem && REQUIRE_BACKENDS)
  test('MariaDB plans (required by ACTIONTRAIL_REQUIRE_BACKENDS=1)', () =>
    assert.fail(mysqlProblem))
describe('MariaDB plans', { skip: mysqlProblem ?? false }, () => {
  test("host= probes the events of each action walked, never materializes the host's events", async (t) => {
    const { opened } = await migratedMysql(t)
    for (const [label, search] of HOST_SEARCHES) {
      const q = searchActionsQuery(opened.db, { ...search, limit: 51 }).compile()
      const { rows } = await opened.db.executeQuery<{ select_type: string; table: string }>(
        CompiledQuery.raw(`EXPLAIN ${q.sql}`, [...q.parameters]),
      )
      const plan = rows.map((r) => `${r.select_type} ${r.table}`).join(' | ')
      // The EXISTS was a semi-join: every event of the host read into a temporary table before
      // the first action (19,735 index entries at 200k actions, whatever the page; MATERIALIZED
      // e, joined as <subquery2>). Run per action, the events are a DEPENDENT SUBQUERY.
      const events = rows.filter((r) => r.table === 'e')
      assert.ok(events.length > 0, `${label}: ${plan}`)
      for (const r of events) assert.equal(r.select_type, 'DEPENDENT SUBQUERY', `${label}: ${plan}`)
      assert.doesNotMatch(plan, /MATERIALIZED|<subquery\d+>/, label)
      // A host with few events (the store counts them first): the EXISTS, whose materialized
      // events are fewer than the actions the probe would walk to fill a page.
      const rare = searchActionsQuery(opened.db, { ...search, limit: 51 }, { rareHost: true })
      const { rows: rareRows } = await opened.db.executeQuery<{ select_type: string }>(
        CompiledQuery.raw(`EXPLAIN ${rare.compile().sql}`, [...rare.compile().parameters]),
      )
      assert.ok(
        rareRows.every((r) => r.select_type !== 'DEPENDENT SUBQUERY'),
        `${label}, rare host: not probed per action`,
      )
    }
  })

  test('host=: both plans find the same actions, in the same order', async (t) => {
    const { database, opened } = await migratedMysql(t)
    const stores = await openStores(database.url, { migrate: false })
    t.after(() => stores.close())
    const store = new TestStore(stores.actions)
    const uuid = '00000000-0000-4000-8000-000000000001'
    await store.putInstance({ uuid, name: 'vm', projectId: 'p1', userId: 'u1', now: at(0) })
    for (let i = 0; i < 12; i++) {
      const base = { instanceUuid: uuid, requestId: `req-${i}` }
      await store.startAction({
        ...base,
        action: i % 2 ? 'resize' : 'live-migration',
        userId: 'u1',
        projectId: 'p1',
        startTime: at(i),
        createdAt: at(i),
      })
      // Events on compute-7 for every third action, twice for some (one match, not two).
      for (const [k, host] of [
        'compute-1',
        i % 3 ? 'compute-2' : 'compute-7',
        'compute-7',
      ].entries())
        if (k < 2 || i % 6 === 0)
          await store.startEvent({
            ...base,
            event: `e${k}`,
            host,
            startTime: at(i),
            createdAt: at(i),
          })
    }
    for (const search of [
      { host: 'compute-7' },
      { host: 'compute-7', actions: ['live-migration', 'resize'] },
    ]) {
      const ids = async (rareHost: boolean, page: Partial<ActionSearch>) => {
        const rows = await searchActionsQuery(
          opened.db,
          { ...search, ...page, limit: 2 },
          { rareHost },
        ).execute()
        return rows.map((r) => Number(r.id))
      }
      const probed = await ids(false, {})
      assert.equal(probed.length, 2)
      assert.deepEqual(await ids(true, {}), probed)
      const all = await stores.actions.searchActions({ ...search, limit: 50 })
      assert.deepEqual(
        all.map((a) => a.requestId),
        ['req-9', 'req-6', 'req-3', 'req-0'],
      )
      const next = {
        after: { startTime: all[1]?.startTime as Timestamp, id: all[1]?.id as number },
      }
      assert.deepEqual(await ids(false, next), await ids(true, next))
      assert.deepEqual(await ids(true, next), [all[2]?.id, all[3]?.id])
    }
  })
})
