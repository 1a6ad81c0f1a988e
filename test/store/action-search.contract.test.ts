/**
 * `ActionStore.searchActions` on every backend (issue 10): each filter, the newest-first keyset
 * order across instances, and the query plans — every documented filter and combination is
 * served by an index (EXPLAIN on SQLite, PostgreSQL and MariaDB; no full scan of actions or events).
 */
import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { CompiledQuery, Migrator, sql, type Kysely } from 'kysely'
import type { Timestamp } from '../../src/domain/timestamp.js'
import { searchActionsQuery } from '../../src/store/action-search-query.js'
import type { ActionSearch, EventSearch } from '../../src/store/action-store.js'
import { searchEventsQuery } from '../../src/store/event-search-query.js'
import { KyselyActionStore } from '../../src/store/kysely-action-store.js'
import { MIGRATIONS, migrateToLatest } from '../../src/store/migrate.js'
import { openDatabase } from '../../src/store/open-store.js'
import type { Database } from '../../src/store/schema.js'
import {
  BACKEND_NAMES,
  backendProblem,
  freshDatabase,
  openFreshStore,
  REQUIRE_BACKENDS,
} from '../helpers/backends.js'
import { TestStore } from '../helpers/store-ops.js'

const two = (n: number) => String(n).padStart(2, '0')

/** 10:00 plus `minute` minutes on 2026-01-01. */
const at = (minute: number) =>
  `2026-01-01T${two(10 + Math.floor(minute / 60))}:${two(minute % 60)}:00.000000` as Timestamp

const vm = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

/**
 * Instances 0..instances-1 (owner p<n%2>), each with `perInstance` actions one minute apart;
 * actions are 'migrate' every third (with a failed event on host-<i%5>), 'reboot' otherwise, and
 * every other reboot finished.
 */
async function seed(store: TestStore, instances: number, perInstance: number): Promise<void> {
  for (let n = 0; n < instances; n++) {
    const uuid = vm(n)
    await store.putInstance({
      uuid,
      name: `vm${n}`,
      projectId: `p${n % 2}`,
      userId: 'u',
      now: at(0),
    })
    for (let i = 0; i < perInstance; i++) {
      const requestId = `req-${n}-${i}`
      const t = at(i * instances + n)
      const migrate = i % 3 === 0
      await store.startAction({
        instanceUuid: uuid,
        action: migrate ? 'migrate' : 'reboot',
        requestId,
        userId: `u${n % 3}`,
        projectId: `q${n % 2}`,
        startTime: t,
        createdAt: t,
      })
      if (migrate) {
        const base = { instanceUuid: uuid, requestId, event: 'compute_migrate' }
        await store.startEvent({ ...base, host: `host-${i % 5}`, startTime: t, createdAt: t })
        await store.finishEvent({
          ...base,
          finishTime: t,
          result: 'Error',
          traceback: 'tb',
          details: null,
          updatedAt: t,
        })
      } else if (i % 2 === 0) {
        await store.finishAction({ instanceUuid: uuid, requestId, finishTime: t })
      }
    }
  }
}

/** The documented queries (docs/operations.md): each filter alone, and the common combinations. */
const DOCUMENTED: [string, Omit<ActionSearch, 'limit'>][] = [
  ['everything', {}],
  ['instance', { instanceUuid: vm(1) }],
  ['project', { projectId: 'q1' }],
  ['owner_project (every non-admin query)', { ownerProjectId: 'p1' }],
  ['user', { userId: 'u1' }],
  ['action', { actions: ['migrate'] }],
  ['action, repeated', { actions: ['migrate', 'reboot'] }],
  ['request_id', { requestId: 'req-1-1' }],
  ['result=error', { result: 'error' }],
  ['result=running', { result: 'running' }],
  ['result=success', { result: 'success' }],
  ['host', { host: 'host-1' }],
  ['since/until', { since: at(5), until: at(50) }],
  ['action + host + window', { actions: ['migrate'], host: 'host-1', since: at(5) }],
  ['owner_project + user', { ownerProjectId: 'p1', userId: 'u1' }],
  ['owner_project + action + window', { ownerProjectId: 'p0', actions: ['reboot'], since: at(3) }],
  ['owner_project + result=error', { ownerProjectId: 'p0', result: 'error' }],
  ['next page', { after: { startTime: at(40), id: 40 } }],
  ['instance, next page', { instanceUuid: vm(2), after: { startTime: at(40), id: 40 } }],
]

/** Stuck deadlines: a default and two per-name overrides. */
const STUCK = {
  before: at(30),
  byAction: [
    ['migrate', at(10)],
    ['resize', at(20)],
  ],
} as const satisfies ActionSearch['stuck']

/** Every documented query of GET /v1/actions: the list above, with stuck and by updated_at. */
const ACTION_QUERIES: [string, Omit<ActionSearch, 'limit'>][] = DOCUMENTED.flatMap(
  ([label, search]): [string, Omit<ActionSearch, 'limit'>][] => [
    [label, search],
    [`${label}, time_field=updated_at`, { ...search, timeField: 'updated_at' }],
    [`${label}, state=stuck`, { ...search, stuck: STUCK }],
    [
      `${label}, state=stuck, time_field=updated_at`,
      { ...search, stuck: STUCK, timeField: 'updated_at' },
    ],
    [`${label}, stuck without overrides`, { ...search, stuck: { before: at(30), byAction: [] } }],
  ],
)

/** The documented queries of GET /v1/events (admin and non-admin: ownerProjectId). */
const EVENT_DOCUMENTED: [string, Omit<EventSearch, 'limit'>][] = [
  ['everything', {}],
  ['instance', { instanceUuid: vm(1) }],
  ['event', { events: ['compute_migrate'] }],
  ['event, repeated', { events: ['compute_migrate', 'compute_reboot'] }],
  ['action', { actions: ['migrate'] }],
  ['request_id', { requestId: 'req-1-1' }],
  ['project', { projectId: 'q1' }],
  ['user', { userId: 'u1' }],
  ['result=error', { result: 'error' }],
  ['result=running', { result: 'running' }],
  ['result=success', { result: 'success' }],
  ['host', { host: 'host-1' }],
  ['since/until', { since: at(5), until: at(50) }],
  ['next page', { after: { startTime: at(40), id: 40 } }],
  ['event + host + window', { events: ['compute_migrate'], host: 'host-1', since: at(5) }],
]

const EVENT_QUERIES: [string, Omit<EventSearch, 'limit'>][] = EVENT_DOCUMENTED.flatMap(
  ([label, search]): [string, Omit<EventSearch, 'limit'>][] =>
    [
      [label, search],
      [`${label}, owner_project (non-admin)`, { ...search, ownerProjectId: 'p1' }],
    ].flatMap(([l, s]) => {
      const base = s as Omit<EventSearch, 'limit'>
      return [
        [l as string, base],
        [`${l as string}, time_field=updated_at`, { ...base, timeField: 'updated_at' }],
        [`${l as string}, state=stuck`, { ...base, stuck: STUCK }],
      ] as [string, Omit<EventSearch, 'limit'>][]
    }),
)

/** Plan lines that read a whole table of actions or events, on one backend. */
async function fullScans(
  db: Kysely<Database>,
  dialect: string,
  q: CompiledQuery,
): Promise<string[]> {
  const tables = /instance_actions(_events)?|\b(a|e)\b/
  if (dialect === 'sqlite') {
    const { rows } = await db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`EXPLAIN QUERY PLAN ${q.sql}`, [...q.parameters]),
    )
    // "SCAN a" is a full table scan; "SCAN a USING INDEX x" walks an index in the order asked
    // for and stops after a page.
    return rows
      .map((r) => r.detail)
      .filter((d) => /^SCAN /.test(d) && !/USING (COVERING )?INDEX/.test(d) && tables.test(d))
  }
  if (dialect === 'postgres') {
    // On small tables a sequential scan is cheapest and would be chosen; turning it off asks
    // whether an index CAN serve the query, which is what a missing index would fail.
    return db.connection().execute(async (conn) => {
      await sql`SET enable_seqscan = off`.execute(conn)
      const { rows } = await conn.executeQuery<{ 'QUERY PLAN': string }>(
        CompiledQuery.raw(`EXPLAIN ${q.sql}`, [...q.parameters]),
      )
      await sql`RESET enable_seqscan`.execute(conn)
      return rows.map((r) => r['QUERY PLAN']).filter((l) => /Seq Scan on instance_actions/.test(l))
    })
  }
  const { rows } = await db.connection().execute(async (conn) => {
    // MariaDB's counterpart of enable_seqscan = off: index lookups look cheap, so the plan shows
    // whether an index CAN serve the query.
    await sql`SET SESSION max_seeks_for_key = 1`.execute(conn)
    const r = await conn.executeQuery<{
      table: string
      type: string
      key: string | null
      Extra: string
    }>(CompiledQuery.raw(`EXPLAIN ${q.sql}`, [...q.parameters]))
    await sql`SET SESSION max_seeks_for_key = DEFAULT`.execute(conn)
    return r
  })
  // type ALL: every row of the table read.
  return rows
    .filter((r) => r.type === 'ALL' && ['a', 'e'].includes(r.table))
    .map((r) => `${r.table}: type ALL (key ${String(r.key)})`)
}

/**
 * The indexes a plan reads events (`e`) through, on one backend; the server backends are asked as
 * in {@link fullScans}, whether an index CAN serve the query.
 */
async function eventIndexes(
  db: Kysely<Database>,
  dialect: string,
  q: CompiledQuery,
): Promise<string[]> {
  if (dialect === 'sqlite') {
    const { rows } = await db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`EXPLAIN QUERY PLAN ${q.sql}`, [...q.parameters]),
    )
    return rows.flatMap(
      (r) => /^(?:SCAN|SEARCH) e USING (?:COVERING )?INDEX (\S+)/.exec(r.detail)?.[1] ?? [],
    )
  }
  if (dialect === 'postgres') {
    return db.connection().execute(async (conn) => {
      await sql`SET enable_seqscan = off`.execute(conn)
      const { rows } = await conn.executeQuery<{ 'QUERY PLAN': string }>(
        CompiledQuery.raw(`EXPLAIN ${q.sql}`, [...q.parameters]),
      )
      await sql`RESET enable_seqscan`.execute(conn)
      // "Index Scan [Backward] using x on instance_actions_events e", or a bitmap scan of x.
      const index = /Index (?:Only )?Scan(?: Backward)? using (\S+) on instance_actions_events e\b/
      const bitmap = /Bitmap Index Scan on (instance_actions_events\S+)/
      return rows.flatMap((r) => {
        const line = r['QUERY PLAN']
        return index.exec(line)?.[1] ?? bitmap.exec(line)?.[1] ?? []
      })
    })
  }
  const { rows } = await db.connection().execute(async (conn) => {
    await sql`SET SESSION max_seeks_for_key = 1`.execute(conn)
    const r = await conn.executeQuery<{ table: string; key: string | null }>(
      CompiledQuery.raw(`EXPLAIN ${q.sql}`, [...q.parameters]),
    )
    await sql`SET SESSION max_seeks_for_key = DEFAULT`.execute(conn)
    return r
  })
  return rows.flatMap((r) => (r.table === 'e' && r.key ? [r.key] : []))
}

/**
 * The queries `archived=true` allows (issue 13; api/v1/search-params.ts), on the shadow tables:
 * each alone, on a next page, and with since/until, for actions and events alike.
 */
const ARCHIVED_QUERIES: [string, Omit<ActionSearch, 'limit'>][] = (
  [
    ['everything', {}],
    ['instance', { instanceUuid: vm(1) }],
    ['owner_project', { ownerProjectId: 'p1' }],
    ['request_id', { requestId: 'req-1-1' }],
  ] as [string, Omit<ActionSearch, 'limit'>][]
).flatMap(([label, search]): [string, Omit<ActionSearch, 'limit'>][] => [
  [`archived, ${label}`, { ...search, archived: true }],
  [
    `archived, ${label}, next page`,
    { ...search, archived: true, after: { startTime: at(40), id: 40 } },
  ],
  [`archived, ${label}, since/until`, { ...search, archived: true, since: at(5), until: at(50) }],
])

/**
 * The events filters on the parent action's fields, host and result=error, each alone: the plan
 * must start the filter's own index (migration 0008), not walk the events' time index and check
 * the filter row by row (which reads every non-matching event between two matches).
 */
const EVENT_FILTER_INDEXES: [string, Omit<EventSearch, 'limit'>, string][] = [
  ['action', { actions: ['migrate'] }, 'instance_actions_events_action_name_start_idx'],
  ['project', { projectId: 'q1' }, 'instance_actions_events_project_start_idx'],
  ['user', { userId: 'u1' }, 'instance_actions_events_user_start_idx'],
  ['host', { host: 'host-1' }, 'instance_actions_events_host_start_idx'],
  ['result=error', { result: 'error' }, 'instance_actions_events_result_start_idx'],
  [
    'action, next page',
    { actions: ['migrate'], after: { startTime: at(40), id: 40 } },
    'instance_actions_events_action_name_start_idx',
  ],
]

for (const name of BACKEND_NAMES) {
  const problem = await backendProblem(name)
  if (problem && REQUIRE_BACKENDS) {
    test(`searchActions: ${name} (required by ACTIONTRAIL_REQUIRE_BACKENDS=1)`, () =>
      assert.fail(problem))
    continue
  }
  describe(`searchActions: ${name}`, { skip: problem ?? false }, () => {
    test('each filter finds exactly the matching actions, newest first across instances', async (t: TestContext) => {
      const store = await openFreshStore(t, name)
      await seed(store, 4, 9)
      const ids = async (s: Omit<ActionSearch, 'limit'>) =>
        (await store.searchActions({ ...s, limit: 1000 })).map((a) => a.requestId)
      const all = await store.searchActions({ limit: 1000 })
      assert.equal(all.length, 36)
      const keys = all.map((a) => `${a.startTime}/${String(a.id).padStart(9, '0')}`)
      assert.deepEqual(keys, [...keys].sort().reverse())
      assert.deepEqual(
        (await ids({ instanceUuid: vm(1) })).length === 9 &&
          (await ids({ instanceUuid: vm(1) })).every((r) => r.startsWith('req-1-')),
        true,
      )
      assert.ok((await ids({ ownerProjectId: 'p1' })).every((r) => /^req-[13]-/.test(r)))
      assert.equal((await ids({ ownerProjectId: 'p1' })).length, 18)
      assert.ok((await ids({ projectId: 'q0' })).every((r) => /^req-[02]-/.test(r)))
      assert.ok((await ids({ userId: 'u1' })).every((r) => r.startsWith('req-1-')))
      assert.deepEqual(await ids({ requestId: 'req-2-4' }), ['req-2-4'])
      assert.deepEqual(await ids({ instanceUuid: vm(0), actions: ['migrate'] }), [
        'req-0-6',
        'req-0-3',
        'req-0-0',
      ])
      assert.equal((await ids({ actions: ['migrate', 'reboot'] })).length, 36)
      assert.deepEqual(await ids({ instanceUuid: vm(0), result: 'error' }), [
        'req-0-6',
        'req-0-3',
        'req-0-0',
      ])
      assert.deepEqual(await ids({ instanceUuid: vm(0), result: 'success' }), [
        'req-0-8',
        'req-0-4',
        'req-0-2',
      ])
      assert.deepEqual(await ids({ instanceUuid: vm(0), result: 'running' }), [
        'req-0-7',
        'req-0-6',
        'req-0-5',
        'req-0-3',
        'req-0-1',
        'req-0-0',
      ])
      assert.deepEqual((await ids({ host: 'host-3' })).sort(), [
        'req-0-3',
        'req-1-3',
        'req-2-3',
        'req-3-3',
      ])
      assert.deepEqual(await ids({ since: at(5), until: at(7) }), ['req-3-1', 'req-2-1', 'req-1-1'])
      assert.deepEqual(
        await ids({ instanceUuid: 'x'.repeat(400) }),
        [],
        'an unstorable key matches nothing',
      )
    })

    test('keyset pages from any position: every action once, in order, ties broken by id', async (t: TestContext) => {
      const store = await openFreshStore(t, name)
      await seed(store, 3, 5)
      // Two actions with the same start_time: the id decides.
      await store.startAction({
        instanceUuid: vm(0),
        action: 'tie',
        requestId: 'tie',
        userId: 'u',
        projectId: 'q',
        startTime: at(4),
        createdAt: at(4),
      })
      const all = await store.searchActions({ limit: 1000 })
      for (const size of [1, 2, 7]) {
        const seen: string[] = []
        let after: ActionSearch['after']
        for (;;) {
          const page = await store.searchActions({ limit: size, ...(after ? { after } : {}) })
          seen.push(...page.map((a) => a.requestId))
          const last = page.at(-1)
          if (page.length < size || !last) break
          after = { startTime: last.startTime, id: last.id }
        }
        assert.deepEqual(
          seen,
          all.map((a) => a.requestId),
          `page size ${size}`,
        )
      }
    })

    test('repeated names, one index range each: every match once, in keyset order', async (t: TestContext) => {
      const store = await openFreshStore(t, name)
      await seed(store, 3, 6)
      // A 'resize' at the same start_time as a 'reboot': the id orders them across branches.
      await store.startAction({
        instanceUuid: vm(0),
        action: 'resize',
        requestId: 'tie',
        userId: 'u',
        projectId: 'q',
        startTime: at(4),
        createdAt: at(4),
      })
      const all = await store.searchActions({ limit: 1000 })
      const cases: [readonly string[], Omit<ActionSearch, 'limit' | 'actions'>][] = [
        [['migrate', 'resize', 'reboot'], {}],
        [['reboot', 'resize', 'reboot'], {}],
        [['resize', 'migrate'], { timeField: 'updated_at' }],
        [['reboot', 'resize'], { stuck: { before: at(30), byAction: [['resize', at(10)]] } }],
        [['migrate', 'absent'], { ownerProjectId: 'p0', since: at(2) }],
      ]
      for (const [names, rest] of cases) {
        const label = `${names.join(',')} ${JSON.stringify(rest)}`
        const one = await store.searchActions({ ...rest, limit: 1000 })
        const expected = one.filter((a) => names.includes(a.action)).map((a) => a.requestId)
        assert.deepEqual(
          (await store.searchActions({ ...rest, actions: names, limit: 1000 })).map(
            (a) => a.requestId,
          ),
          expected,
          label,
        )
        for (const size of [1, 2, 5]) {
          const seen: string[] = []
          let after: ActionSearch['after']
          for (;;) {
            const page = await store.searchActions({
              ...rest,
              actions: names,
              limit: size,
              ...(after ? { after } : {}),
            })
            seen.push(...page.map((a) => a.requestId))
            const last = page.at(-1)
            if (page.length < size || !last) break
            const time =
              rest.timeField === 'updated_at' ? (last.updatedAt ?? last.startTime) : last.startTime
            after = { startTime: time, id: last.id }
          }
          assert.deepEqual(seen, expected, `${label}, page size ${size}`)
        }
      }
      assert.ok(all.some((a) => a.requestId === 'tie'))
      // Events: the same for repeated event names.
      await store.startEvent({
        instanceUuid: vm(1),
        requestId: 'req-1-1',
        event: 'compute_reboot',
        host: 'host-9',
        startTime: at(4),
        createdAt: at(4),
      })
      const events = await store.searchEvents({ limit: 1000 })
      const names = ['compute_reboot', 'compute_migrate', 'compute_reboot']
      const expected = events.filter((f) => names.includes(f.event.event)).map((f) => f.event.id)
      assert.ok(expected.length > 5)
      for (const size of [1, 4]) {
        const seen: number[] = []
        let after: EventSearch['after']
        for (;;) {
          const page = await store.searchEvents({
            events: names,
            limit: size,
            ...(after ? { after } : {}),
          })
          seen.push(...page.map((f) => f.event.id))
          const last = page.at(-1)
          if (page.length < size || !last) break
          after = { startTime: last.event.startTime, id: last.event.id }
        }
        assert.deepEqual(seen, expected, `events, page size ${size}`)
      }
    })

    test('listEventsOfActions: each action its own events, as listEvents orders them', async (t: TestContext) => {
      const store = await openFreshStore(t, name)
      await seed(store, 2, 4)
      const [a, b, c] = await store.searchActions({ instanceUuid: vm(0), limit: 3 })
      assert.ok(a && b && c)
      // Two more events on one action, one started before the other (created_at orders them).
      for (const [event, minute] of [
        ['compute_prep', 1],
        ['compute_done', 2],
      ] as const) {
        await store.startEvent({
          instanceUuid: vm(0),
          requestId: c.requestId,
          event,
          host: null,
          startTime: at(minute),
          createdAt: at(minute),
        })
      }
      const ids = [a.id, b.id, c.id, 999_999]
      const got = await store.listEventsOfActions(ids)
      assert.deepEqual([...got.keys()].sort(), [...ids].sort())
      for (const id of ids)
        assert.deepEqual(got.get(id), await store.listEvents(id), `action ${id}`)
      assert.deepEqual(got.get(999_999), [])
      assert.ok((got.get(c.id) ?? []).length >= 2)
      assert.equal((await store.listEventsOfActions([])).size, 0)
    })

    test('searchEvents: each filter, the parent action, the owner of a moved instance', async (t: TestContext) => {
      const store = await openFreshStore(t, name)
      await seed(store, 4, 9)
      // One unfinished event on a reboot (req-0-1).
      await store.startEvent({
        instanceUuid: vm(0),
        requestId: 'req-0-1',
        event: 'compute_reboot',
        host: 'host-9',
        startTime: at(5),
        createdAt: at(5),
      })
      const found = async (s: Omit<EventSearch, 'limit'>) =>
        (await store.searchEvents({ ...s, limit: 1000 })).map(
          (f) => `${f.requestId}:${f.event.event}`,
        )
      const all = await store.searchEvents({ limit: 1000 })
      assert.equal(all.length, 13)
      const keys = all.map((f) => `${f.event.startTime}/${String(f.event.id).padStart(9, '0')}`)
      assert.deepEqual(keys, [...keys].sort().reverse())
      const reboot = all.find((f) => f.event.event === 'compute_reboot')
      assert.deepEqual(
        reboot && {
          instance: reboot.instanceUuid,
          request: reboot.requestId,
          action: reboot.action,
        },
        { instance: vm(0), request: 'req-0-1', action: 'reboot' },
      )
      assert.deepEqual(await found({ instanceUuid: vm(0), events: ['compute_migrate'] }), [
        'req-0-6:compute_migrate',
        'req-0-3:compute_migrate',
        'req-0-0:compute_migrate',
      ])
      assert.deepEqual(await found({ actions: ['reboot'] }), ['req-0-1:compute_reboot'])
      assert.deepEqual(await found({ result: 'running' }), ['req-0-1:compute_reboot'])
      assert.equal((await found({ result: 'error' })).length, 12)
      assert.deepEqual(await found({ result: 'success' }), [])
      assert.deepEqual(await found({ requestId: 'req-2-3' }), ['req-2-3:compute_migrate'])
      assert.deepEqual((await found({ host: 'host-3' })).sort(), [
        'req-0-3:compute_migrate',
        'req-1-3:compute_migrate',
        'req-2-3:compute_migrate',
        'req-3-3:compute_migrate',
      ])
      assert.equal((await found({ projectId: 'q1' })).length, 6)
      assert.equal((await found({ userId: 'u0' })).length, 7, 'instances 0 and 3')
      assert.equal((await found({ ownerProjectId: 'p1' })).length, 6)
      assert.deepEqual(
        await found({ events: ['compute_migrate'], instanceUuid: 'x'.repeat(400) }),
        [],
      )
      // vm1 moves from p1 to p0: its history moves with it, for actions and events alike.
      await store.putInstance({
        uuid: vm(1),
        name: 'vm1',
        projectId: 'p0',
        userId: 'u',
        now: at(0),
      })
      const owned = await store.searchActions({ ownerProjectId: 'p1', limit: 1000 })
      assert.equal(owned.length, 9)
      assert.ok(owned.every((a) => a.instanceUuid === vm(3)))
      assert.equal((await found({ ownerProjectId: 'p1' })).length, 3)
      assert.equal((await found({ ownerProjectId: 'p0' })).length, 10)
      // Events page by keyset like actions: every event once, in order.
      const seen: string[] = []
      let after: EventSearch['after']
      for (;;) {
        const page = await store.searchEvents({ limit: 4, ...(after ? { after } : {}) })
        seen.push(...page.map((f) => String(f.event.id)))
        const last = page.at(-1)
        if (page.length < 4 || !last) break
        after = { startTime: last.event.startTime, id: last.event.id }
      }
      assert.deepEqual(
        seen,
        all.map((f) => String(f.event.id)),
      )
    })

    test('updated_at order and window; stuck work by per-name deadlines', async (t: TestContext) => {
      const store = await openFreshStore(t, name)
      await store.putInstance({ uuid: vm(0), name: 'vm0', projectId: 'p', userId: 'u', now: at(0) })
      const start = (requestId: string, action: string, minute: number) =>
        store.startAction({
          instanceUuid: vm(0),
          action,
          requestId,
          userId: 'u',
          projectId: 'q',
          startTime: at(minute),
          createdAt: at(minute),
        })
      const event = (requestId: string, e: string, minute: number) =>
        store.startEvent({
          instanceUuid: vm(0),
          requestId,
          event: e,
          host: null,
          startTime: at(minute),
          createdAt: at(minute),
        })
      await start('A', 'resize', 0)
      await start('B', 'migrate', 5)
      await event('B', 'e1', 6)
      await start('C', 'reboot', 10)
      await event('C', 'e2', 11)
      await store.finishEvent({
        instanceUuid: vm(0),
        requestId: 'C',
        event: 'e2',
        finishTime: at(50),
        result: 'Success',
        traceback: null,
        details: null,
        updatedAt: at(50),
      })
      await store.finishAction({ instanceUuid: vm(0), requestId: 'C', finishTime: at(60) })
      await start('D', 'reboot', 20)
      const actions = async (s: Omit<ActionSearch, 'limit'>) =>
        (await store.searchActions({ ...s, limit: 100 })).map((a) => a.requestId)
      const events = async (s: Omit<EventSearch, 'limit'>) =>
        (await store.searchEvents({ ...s, limit: 100 })).map((f) => f.event.event)
      assert.deepEqual(await actions({}), ['D', 'C', 'B', 'A'])
      assert.deepEqual(await actions({ timeField: 'updated_at' }), ['C', 'D', 'B', 'A'])
      assert.deepEqual(await actions({ timeField: 'updated_at', since: at(30) }), ['C'])
      assert.deepEqual(await actions({ since: at(30) }), [])
      assert.deepEqual(
        await actions({ timeField: 'updated_at', after: { startTime: at(20), id: 99 } }),
        ['D', 'B', 'A'],
      )
      // An unfinished event (updated_at NULL) is ordered by its start time.
      assert.deepEqual(await events({ timeField: 'updated_at' }), ['e2', 'e1'])
      assert.deepEqual(await events({}), ['e2', 'e1'])
      assert.deepEqual(await events({ timeField: 'updated_at', since: at(30) }), ['e2'])
      assert.deepEqual(await events({ timeField: 'updated_at', until: at(10) }), ['e1'])
      assert.deepEqual(await events({ since: at(30) }), [])
      // Stuck: unfinished and started strictly before the deadline of the action's name.
      const plain = { before: at(25), byAction: [] }
      assert.deepEqual(await actions({ stuck: plain }), ['D', 'B', 'A'])
      const overrides = {
        before: at(25),
        byAction: [
          ['migrate', at(3)],
          ['resize', at(0)],
        ],
      } as const
      assert.deepEqual(await actions({ stuck: overrides }), ['D'])
      assert.deepEqual(await actions({ stuck: { ...overrides, before: at(20) } }), [])
      assert.deepEqual(
        await actions({ stuck: { before: at(1), byAction: [['migrate', at(6)]] } }),
        ['B', 'A'],
      )
      // An event's deadline is its action's: e1 (migrate, started at 6) is stuck from 7 on.
      assert.deepEqual(
        await events({ stuck: { before: at(99), byAction: [['migrate', at(6)]] } }),
        [],
      )
      assert.deepEqual(await events({ stuck: { before: at(0), byAction: [['migrate', at(7)]] } }), [
        'e1',
      ])
      assert.deepEqual(await events({ stuck: plain, result: 'success' }), [])
    })

    test('the query migrations (0004 and later) go down and up again', async (t: TestContext) => {
      // Their `down`s once dropped indexes with `DROP INDEX … ON table`, which only MariaDB accepts.
      const database = await freshDatabase(name)
      const opened = openDatabase(database.url)
      t.after(async () => {
        await opened.db.destroy()
        await database.drop()
      })
      const migrator = new Migrator({
        db: opened.db,
        provider: { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) },
      })
      assert.equal((await migrator.migrateToLatest()).error, undefined)
      const down = await migrator.migrateTo('0003-idempotency-caps')
      assert.equal(down.error, undefined, String(down.error))
      assert.equal((await migrator.migrateToLatest()).error, undefined)
    })

    test('migration 0005 copies owner project, instance and sort time onto existing rows', async (t: TestContext) => {
      const database = await freshDatabase(name)
      const opened = openDatabase(database.url)
      t.after(async () => {
        await opened.db.destroy()
        await database.drop()
      })
      const migrator = new Migrator({
        db: opened.db,
        provider: { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) },
      })
      const to4 = await migrator.migrateTo('0004-action-search')
      assert.equal(to4.error, undefined)
      // Rows as a build before 0005 wrote them (one action without updated_at, as an import might).
      // Time text as each backend stores it (SQLite: the canonical form).
      const t0 = name.startsWith('sqlite') ? at(0) : '2026-01-01 10:00:00'
      const t5 = name.startsWith('sqlite') ? '2026-01-01T10:00:05.000000' : '2026-01-01 10:00:05'
      await sql`INSERT INTO instances (uuid, name, project_id, user_id, created_at, updated_at)
        VALUES (${vm(0)}, 'vm0', 'p-owner', 'u', ${t0}, ${t0})`.execute(opened.db)
      await sql`INSERT INTO instance_actions (instance_uuid, action, request_id, user_id, project_id,
          start_time, created_at, updated_at)
        VALUES (${vm(0)}, 'reboot', 'r1', 'u', 'q', ${t0}, ${t0}, NULL)`.execute(opened.db)
      const { rows } = await sql<{ id: number }>`SELECT id FROM instance_actions`.execute(opened.db)
      const actionId = Number(rows[0]?.id)
      await sql`INSERT INTO instance_actions_events (action_id, event, start_time, created_at)
        VALUES (${actionId}, 'compute_reboot', ${t5}, ${t0})`.execute(opened.db)
      await migrateToLatest(opened.db)
      const store = new KyselyActionStore(opened)
      const [action] = await store.searchActions({ ownerProjectId: 'p-owner', limit: 10 })
      assert.equal(action?.requestId, 'r1')
      assert.equal(action?.updatedAt, at(0), 'updated_at given the start time')
      const found = await store.searchEvents({
        ownerProjectId: 'p-owner',
        instanceUuid: vm(0),
        timeField: 'updated_at',
        since: '2026-01-01T10:00:05.000000' as Timestamp,
        until: '2026-01-01T10:00:05.000000' as Timestamp,
        limit: 10,
      })
      assert.deepEqual(
        found.map((f) => [f.event.event, f.requestId, f.action]),
        [['compute_reboot', 'r1', 'reboot']],
      )
    })

    test('migration 0008 copies action name, project, user onto events; new ones get them', async (t: TestContext) => {
      const database = await freshDatabase(name)
      const opened = openDatabase(database.url)
      t.after(async () => {
        await opened.db.destroy()
        await database.drop()
      })
      const migrator = new Migrator({
        db: opened.db,
        provider: { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) },
      })
      assert.equal((await migrator.migrateTo('0007-writer-tags')).error, undefined)
      const t0 = name.startsWith('sqlite') ? at(0) : '2026-01-01 10:00:00'
      await sql`INSERT INTO instances (uuid, name, project_id, user_id, created_at, updated_at)
        VALUES (${vm(0)}, 'vm0', 'p-owner', 'u', ${t0}, ${t0})`.execute(opened.db)
      // Two actions as a build before 0008 wrote them: one with a user and project, one without.
      for (const [request, action, user, project] of [
        ['r1', 'reboot', 'u1', 'q1'],
        ['r2', 'resize', null, null],
      ] as const) {
        await sql`INSERT INTO instance_actions (instance_uuid, action, request_id, user_id,
            project_id, start_time, created_at, updated_at, owner_project_id)
          VALUES (${vm(0)}, ${action}, ${request}, ${user}, ${project}, ${t0}, ${t0}, ${t0},
            'p-owner')`.execute(opened.db)
        await sql`INSERT INTO instance_actions_events (action_id, event, start_time, created_at,
            instance_uuid, owner_project_id, changed_at)
          SELECT id, ${`compute_${action}`}, ${t0}, ${t0}, instance_uuid, owner_project_id, ${t0}
          FROM instance_actions WHERE request_id = ${request}`.execute(opened.db)
      }
      await migrateToLatest(opened.db)
      const actionStore = new KyselyActionStore(opened)
      // A new event after the migration: the write program copies the same fields.
      await new TestStore(actionStore).startEvent({
        instanceUuid: vm(0),
        requestId: 'r1',
        event: 'compute_later',
        host: 'h',
        startTime: at(1),
        createdAt: at(1),
      })
      const copies = await opened.db
        .selectFrom('instance_actions_events')
        .select(['event', 'action_name', 'project_id', 'user_id'])
        .orderBy('event')
        .execute()
      assert.deepEqual(copies, [
        { event: 'compute_later', action_name: 'reboot', project_id: 'q1', user_id: 'u1' },
        { event: 'compute_reboot', action_name: 'reboot', project_id: 'q1', user_id: 'u1' },
        { event: 'compute_resize', action_name: 'resize', project_id: null, user_id: null },
      ])
      const events = async (s: Omit<EventSearch, 'limit'>) =>
        (await actionStore.searchEvents({ ...s, limit: 10 })).map((f) => f.event.event).sort()
      assert.deepEqual(await events({ actions: ['resize'] }), ['compute_resize'])
      assert.deepEqual(await events({ projectId: 'q1' }), ['compute_later', 'compute_reboot'])
      assert.deepEqual(await events({ userId: 'u1' }), ['compute_later', 'compute_reboot'])
      // And down undoes it: the columns are gone, the rows stay.
      assert.equal((await migrator.migrateTo('0007-writer-tags')).error, undefined)
      const columns = (await opened.db.introspection.getTables())
        .find((table) => table.name === 'instance_actions_events')
        ?.columns.map((c) => c.name)
      assert.ok(columns && !columns.includes('action_name') && !columns.includes('user_id'))
    })

    test('every documented query is served by an index: no full scan of actions or events', async (t: TestContext) => {
      const database = await freshDatabase(name)
      const opened = openDatabase(database.url)
      t.after(async () => {
        await opened.db.destroy()
        await database.drop()
      })
      await migrateToLatest(opened.db)
      if (name === 'mysql') {
        // MariaDB reads a small table whole whatever the indexes; a few hundred rows and fresh
        // statistics make it choose as it would on a real trail.
        await seed(new TestStore(new KyselyActionStore(opened)), 30, 12)
        // Bulk rows from MariaDB's sequence engine: its optimizer reads a few hundred rows whole
        // and sorts them, and only chooses the ordered index walk on a table of realistic size.
        await sql`INSERT INTO instance_actions (instance_uuid, action, request_id, user_id,
            project_id, start_time, finish_time, message, created_at, updated_at,
            owner_project_id)
          SELECT CONCAT('00000000-0000-4000-8000-', LPAD(seq % 30, 12, '0')),
            IF(seq % 3 = 0, 'migrate', 'reboot'), CONCAT('bulk-', seq), CONCAT('u', seq % 3),
            CONCAT('q', seq % 2), TIMESTAMPADD(SECOND, seq, '2025-01-01'),
            IF(seq % 2 = 0, TIMESTAMPADD(SECOND, seq, '2025-01-01'), NULL),
            IF(seq % 7 = 0, 'Error', NULL), TIMESTAMPADD(SECOND, seq, '2025-01-01'),
            TIMESTAMPADD(SECOND, seq, '2025-01-01'), CONCAT('p', seq % 30 % 2)
          FROM seq_1_to_20000`.execute(opened.db)
        // And events for them: one per bulk action, as the write programs would copy them.
        await sql`INSERT INTO instance_actions_events (action_id, event, start_time, finish_time,
            result, host, created_at, updated_at, instance_uuid, owner_project_id, changed_at,
            action_name, project_id, user_id)
          SELECT a.id, IF(a.action = 'migrate', 'compute_migrate', 'compute_reboot'),
            a.start_time, a.finish_time, IF(a.message = 'Error', 'Error', IF(a.finish_time IS NULL,
            NULL, 'Success')), CONCAT('host-', a.id % 5), a.start_time, a.finish_time,
            a.instance_uuid, a.owner_project_id, COALESCE(a.finish_time, a.start_time),
            a.action, a.project_id, a.user_id
          FROM instance_actions a WHERE a.request_id LIKE 'bulk-%'`.execute(opened.db)
        // The archived history (issue 13): the same rows in the shadow tables.
        await sql`INSERT INTO shadow_instance_actions SELECT id, instance_uuid, action,
          request_id, user_id, project_id, start_time, finish_time, message, created_at,
          updated_at, owner_project_id, written_by FROM instance_actions`.execute(opened.db)
        await sql`INSERT INTO shadow_instance_actions_events SELECT id, action_id, event,
          start_time, finish_time, result, traceback, host, details, created_at, updated_at,
          instance_uuid, owner_project_id, changed_at, action_name, project_id, user_id,
          written_by, finished_by FROM instance_actions_events`.execute(opened.db)
        for (const table of [
          'instances',
          'instance_actions',
          'instance_actions_events',
          'shadow_instance_actions',
          'shadow_instance_actions_events',
        ])
          await sql`ANALYZE TABLE ${sql.table(table)}`.execute(opened.db)
      }
      const failures: string[] = []
      for (const [label, search] of ACTION_QUERIES) {
        const q = searchActionsQuery(opened.db, { ...search, limit: 51 }).compile()
        for (const line of await fullScans(opened.db, opened.dialect, q))
          failures.push(`actions, ${label}: ${line}`)
      }
      for (const [label, search] of EVENT_QUERIES) {
        const q = searchEventsQuery(opened.db, { ...search, limit: 51 }).compile()
        for (const line of await fullScans(opened.db, opened.dialect, q))
          failures.push(`events, ${label}: ${line}`)
      }
      for (const [label, search] of ARCHIVED_QUERIES) {
        const actions = searchActionsQuery(opened.db, { ...search, limit: 51 }).compile()
        for (const line of await fullScans(opened.db, opened.dialect, actions))
          failures.push(`actions, ${label}: ${line}`)
        const events = searchEventsQuery(opened.db, { ...search, limit: 51 }).compile()
        for (const line of await fullScans(opened.db, opened.dialect, events))
          failures.push(`events, ${label}: ${line}`)
      }
      for (const [label, search, index] of EVENT_FILTER_INDEXES) {
        const q = searchEventsQuery(opened.db, { ...search, limit: 51 }).compile()
        const used = await eventIndexes(opened.db, opened.dialect, q)
        if (!used.includes(index))
          failures.push(
            `events, ${label}: reads e through ${used.join(', ') || 'no index'}, not ${index}`,
          )
      }
      // Every query above was planned (a typo in the lists would otherwise shrink the test).
      assert.equal(ACTION_QUERIES.length, DOCUMENTED.length * 5)
      assert.equal(EVENT_QUERIES.length, EVENT_DOCUMENTED.length * 6)
      assert.equal(ARCHIVED_QUERIES.length, 12)
      assert.deepEqual(failures, [])
    })
  })
}
