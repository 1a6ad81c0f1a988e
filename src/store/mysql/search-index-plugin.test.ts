import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DummyDriver, Kysely, MysqlAdapter, MysqlIntrospector, MysqlQueryCompiler } from 'kysely'
import type { Timestamp } from '../../domain/timestamp.js'
import type { ActionSearch, EventSearch } from '../action-store.js'
import { searchActionsQuery } from '../action-search-query.js'
import { searchEventsQuery } from '../event-search-query.js'
import type { Database } from '../schema.js'
import { SearchIndexPlugin } from './search-index-plugin.js'
import { SEARCH_INDEXES } from './search-indexes.js'

// Compiles MySQL without a server: the plugin's effect is the SQL text it produces.
const db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new MysqlAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new MysqlIntrospector(k),
    createQueryCompiler: () => new MysqlQueryCompiler(),
  },
})
const hinted = db.withPlugin(new SearchIndexPlugin(SEARCH_INDEXES))
const after = { startTime: '2026-01-01T00:00:00.000000', id: 123 } as ActionSearch['after']

function forced(search: Omit<ActionSearch, 'limit'>): string | undefined {
  const sql = searchActionsQuery(hinted, { ...search, limit: 51 }).compile().sql
  return /FORCE INDEX \(`(\w+)`\)/.exec(sql)?.[1]
}

function forcedEvents(search: Omit<EventSearch, 'limit'>): string | undefined {
  const sql = searchEventsQuery(hinted, { ...search, limit: 51 }).compile().sql
  return /FORCE INDEX \(`(\w+)`\)/.exec(sql)?.[1]
}

test("a search page is read through its filter's (filter, time, id) index, first page and deep", () => {
  for (const a of [undefined, after]) {
    const at = a === undefined ? {} : { after: a }
    assert.equal(forced({ instanceUuid: 'u', ...at }), 'instance_actions_instance_start_idx')
    assert.equal(forced({ actions: ['resize'], ...at }), 'instance_actions_action_start_idx')
    assert.equal(forced({ ownerProjectId: 'p', ...at }), 'instance_actions_owner_start_idx')
    assert.equal(forced({ projectId: 'p', ...at }), 'instance_actions_project_start_idx')
    assert.equal(forced({ userId: 'u', ...at }), 'instance_actions_user_start_idx')
    assert.equal(
      forced({ ownerProjectId: 'p', timeField: 'updated_at', ...at }),
      'instance_actions_owner_updated_idx',
    )
  }
})

test('the hint keeps the alias and changes nothing else in the statement', () => {
  const search: ActionSearch = { instanceUuid: 'u', after, limit: 51 }
  const plain = searchActionsQuery(db, search).compile()
  const q = searchActionsQuery(hinted, search).compile()
  assert.equal(
    q.sql,
    plain.sql.replace(
      'from `instance_actions` as `a`',
      'from `instance_actions` as `a` FORCE INDEX (`instance_actions_instance_start_idx`)',
    ),
  )
  assert.deepEqual(q.parameters, plain.parameters)
})

test('with several filters, the most selective one with an index is forced', () => {
  assert.equal(
    forced({ instanceUuid: 'u', actions: ['resize'], after }),
    'instance_actions_instance_start_idx',
  )
  assert.equal(
    forced({ ownerProjectId: 'p', projectId: 'q', after }),
    'instance_actions_owner_start_idx',
  )
  assert.equal(
    forced({ userId: 'u', since: after?.startTime, after }),
    'instance_actions_user_start_idx',
  )
})

test("an index holding both filters wins: a member's (owner project's) actions of one name", () => {
  for (const a of [undefined, after])
    assert.equal(
      forced({ ownerProjectId: 'p', actions: ['reboot'], ...(a ? { after: a } : {}) }),
      'instance_actions_owner_action_start_idx',
    )
})

test('queries the planner serves better alone keep its choice, a union is hinted per arm', () => {
  // No equality filter: the time index is the only ordered one.
  assert.equal(forced({ after }), undefined)
  assert.equal(forced({ timeField: 'updated_at', after }), undefined)
  // Two action names are a UNION of one range per name (per-value-union.ts): each arm is hinted.
  assert.equal(
    forced({ actions: ['resize', 'live-migration'], after }),
    'instance_actions_action_start_idx',
  )
  // request_id: its own index finds a handful of rows.
  assert.equal(forced({ requestId: 'r', after }), undefined)
  // Unfinished work has its own index (finish_time IS NULL).
  assert.equal(forced({ instanceUuid: 'u', result: 'running', after }), undefined)
  // The host filter's EXISTS may be the better start.
  assert.equal(forced({ actions: ['live-migration'], host: 'h', after }), undefined)
})

test('unfinished work is read through an unfinished index when one holds every equality filter', () => {
  const stuck = { before: '2026-01-01T00:00:00.000000' as Timestamp, byAction: [] }
  for (const a of [undefined, after]) {
    const at = a === undefined ? {} : { after: a }
    // Before 0014 the stuck term hid its IS NULL in raw SQL and the (action, start_time, id)
    // index was forced: every action of that name read (386–441 ms at 1M actions).
    assert.equal(
      forced({ actions: ['live-migration'], stuck, ...at }),
      'instance_actions_unfinished_action_idx',
    )
    assert.equal(
      forced({ actions: ['live-migration'], result: 'running', ...at }),
      'instance_actions_unfinished_action_idx',
    )
    assert.equal(forced({ stuck, ...at }), 'instance_actions_unfinished_idx')
    assert.equal(forcedEvents({ stuck, ...at }), 'instance_actions_events_unfinished_idx')
    // A project's stuck events by changed_at (migration 0014).
    assert.equal(
      forcedEvents({ ownerProjectId: 'p', stuck, timeField: 'updated_at', ...at }),
      'instance_actions_events_owner_unfinished_changed_idx',
    )
    // No unfinished index has the instance: the planner chooses (the instance's few rows).
    assert.equal(forced({ instanceUuid: 'u', stuck, ...at }), undefined)
    // Finished work is most rows: the planner's choice.
    assert.equal(forced({ actions: ['resize'], result: 'success', ...at }), undefined)
  }
})

test('event searches: the event table is hinted, the joined action is not', () => {
  // No equality filter: the joined search still reads the events' (start_time, id) index in order.
  assert.equal(forcedEvents({ after }), 'instance_actions_events_start_idx')
  assert.equal(forcedEvents({ timeField: 'updated_at' }), 'instance_actions_events_changed_idx')
  // …unless the joined action has an equality filter: its request index is the better start.
  assert.equal(forcedEvents({ requestId: 'r' }), undefined)
  assert.equal(
    forcedEvents({ instanceUuid: 'u', after }),
    'instance_actions_events_instance_start_idx',
  )
  assert.equal(
    forcedEvents({ ownerProjectId: 'p', timeField: 'updated_at', after }),
    'instance_actions_events_owner_changed_idx',
  )
  // The parent action's name is copied onto events (migration 0008), with its own index.
  assert.equal(
    forcedEvents({ actions: ['resize'], after }),
    'instance_actions_events_action_name_start_idx',
  )
  const sql = searchEventsQuery(hinted, { events: ['e'], limit: 5 }).compile().sql
  assert.match(
    sql,
    new RegExp(
      'from `instance_actions_events` as `e` ' +
        'FORCE INDEX \\(`instance_actions_events_event_start_idx`\\) inner join `instance_actions` as `a`',
    ),
  )
})

test('every SELECT of a UNION is hinted on its own filter', () => {
  const arm = (action: string) =>
    db
      .selectFrom('instance_actions as a')
      .selectAll('a')
      .where('a.action', '=', action)
      .orderBy('a.start_time', 'desc')
      .orderBy('a.id', 'desc')
      .limit(5)
  const q = hinted
    .selectFrom((eb) =>
      eb
        .selectFrom('instance_actions as a')
        .selectAll('a')
        .where('a.instance_uuid', '=', 'u')
        .orderBy('a.start_time', 'desc')
        .orderBy('a.id', 'desc')
        .limit(5)
        .unionAll(arm('reboot'))
        .as('x'),
    )
    .selectAll()
    .compile().sql
  assert.match(q, /FORCE INDEX \(`instance_actions_instance_start_idx`\)/)
  assert.match(q, /FORCE INDEX \(`instance_actions_action_start_idx`\)/)
})

test('only plain identifiers are accepted', () => {
  assert.throws(
    () => new SearchIndexPlugin([{ table: 'instance_actions', name: 'x`) --', columns: ['a'] }]),
    /plain identifier/,
  )
})
