/**
 * The store contract: every backend must pass this suite. SQLite (in memory and on a file) always
 * runs; PostgreSQL and MariaDB/MySQL run when their servers answer (see test/helpers/backends.ts:
 * every test gets a database of its own). A server that does not answer is skipped with a loud
 * warning, or fails the run under ACTIONTRAIL_REQUIRE_BACKENDS=1.
 */
import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { sql } from 'kysely'
import { isAppError } from '../../src/domain/errors.js'
import type { Timestamp } from '../../src/domain/timestamp.js'
import { createActionService } from '../../src/local-service.js'
import type { StoreWrite } from '../../src/store/action-store.js'
import { WINDOW_WALK_THRESHOLD } from '../../src/store/kysely-action-store.js'
import { MIGRATIONS, pendingMigrations } from '../../src/store/migrate.js'
import { openDatabase, openStore } from '../../src/store/open-store.js'
import {
  BACKEND_NAMES,
  backendProblem,
  freshDatabase,
  openFreshStore,
  openFreshStores,
  REQUIRE_BACKENDS,
  type BackendName,
} from '../helpers/backends.js'
import { expectRecord, TestStore } from '../helpers/store-ops.js'

interface Backend {
  name: BackendName
  open(t: TestContext): Promise<TestStore>
}

const UUID = '11111111-2222-4333-8444-555555555555'
const OTHER = '99999999-2222-4333-8444-555555555555'
const ts = (s: string) => `2026-01-01T00:00:${s}` as Timestamp

async function seed(store: TestStore, uuid = UUID): Promise<void> {
  await store.putInstance({ uuid, name: 'vm', projectId: 'p1', userId: 'u1', now: ts('00.000000') })
}

async function start(
  store: TestStore,
  requestId: string,
  created: string,
  action = 'reboot',
  uuid = UUID,
) {
  return store.startAction({
    instanceUuid: uuid,
    action,
    requestId,
    userId: 'u1',
    projectId: 'p1',
    startTime: ts(created),
    createdAt: ts(created),
  })
}

/** Two stores on one database: two pools, two group committers — two nodes. */
async function twoNodes(t: TestContext, name: BackendName): Promise<[TestStore, TestStore]> {
  const [a, b] = (await openFreshStores(t, name, 2)).map((stores) => new TestStore(stores.actions))
  return [a as TestStore, b as TestStore]
}

function actionStartOp(requestId: string, created: string, uuid = UUID): StoreWrite {
  return {
    op: 'action_start',
    values: {
      instanceUuid: uuid,
      action: 'reboot',
      requestId,
      userId: 'u1',
      projectId: 'p1',
      startTime: ts(created),
      createdAt: ts(created),
    },
  }
}

for (const name of BACKEND_NAMES) {
  const problem = await backendProblem(name)
  if (problem && REQUIRE_BACKENDS) {
    test(`ActionStore contract: ${name} (required by ACTIONTRAIL_REQUIRE_BACKENDS=1)`, () =>
      assert.fail(problem))
    continue
  }
  const backend: Backend = { name, open: (t) => openFreshStore(t, name) }
  describe(`ActionStore contract: ${backend.name}`, { skip: problem ?? false }, () => {
    test('starting an action on an unknown instance is instance_not_found', async (t) => {
      const store = await backend.open(t)
      await assert.rejects(start(store, 'req-1', '01.000000'), (e) =>
        isAppError(e, 'instance_not_found'),
      )
    })

    test('an action starts with updated_at = start_time and no message', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      const { action, created } = await start(store, 'req-1', '01.123456')
      assert.equal(created, true)
      assert.equal(action.updatedAt, '2026-01-01T00:00:01.123456')
      assert.equal(action.startTime, '2026-01-01T00:00:01.123456')
      assert.equal(action.message, null)
      assert.equal(action.finishTime, null)
    })

    test('a repeated start is idempotent; a different action under the same request id conflicts', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      const first = await start(store, 'req-1', '01.000000')
      const again = await start(store, 'req-1', '05.000000')
      assert.equal(again.created, false)
      assert.equal(again.action.id, first.action.id)
      await assert.rejects(start(store, 'req-1', '06.000000', 'delete'), (e) =>
        isAppError(e, 'conflict'),
      )
      assert.equal((await store.listActions(UUID, {})).length, 1)
    })

    test('the same request id on two instances gives two actions', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await seed(store, OTHER)
      await start(store, 'req-1', '01.000000')
      await start(store, 'req-1', '01.000000', 'reboot', OTHER)
      assert.equal((await store.getAction(OTHER, 'req-1'))?.instanceUuid, OTHER)
      assert.equal((await store.listActions(UUID, {})).length, 1)
    })

    test('list is newest first by created_at then id, with microsecond precision and ties', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await start(store, 'req-a', '01.000001')
      await start(store, 'req-b', '01.000002')
      await start(store, 'req-c', '01.000002')
      await start(store, 'req-d', '01.000000')
      const ids = (await store.listActions(UUID, {})).map((a) => a.requestId)
      assert.deepEqual(ids, ['req-c', 'req-b', 'req-a', 'req-d'])
    })

    test('keyset pagination with a request-id marker is exclusive and handles ties', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      for (const [i, c] of ['01', '02', '02', '02', '03'].entries())
        await start(store, `req-${i}`, `${c}.000000`)
      const all = (await store.listActions(UUID, {})).map((a) => a.requestId)
      const pages: string[] = []
      let marker: string | undefined
      for (;;) {
        const page = await store.listActions(UUID, { limit: 2, ...(marker ? { marker } : {}) })
        pages.push(...page.map((a) => a.requestId))
        if (page.length < 2) break
        marker = page[page.length - 1]?.requestId
      }
      assert.deepEqual(pages, all)
      assert.equal(new Set(pages).size, 5)
    })

    test("an unknown marker fails with Nova's message; limit 0 returns [] without resolving it", async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await start(store, 'req-1', '01.000000')
      await assert.rejects(
        store.listActions(UUID, { marker: 'nope' }),
        (e) => isAppError(e, 'marker_not_found') && e.message === 'Marker None could not be found.',
      )
      assert.deepEqual(await store.listActions(UUID, { limit: 0, marker: 'nope' }), [])
    })

    test('a marker from another instance is not found', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await seed(store, OTHER)
      await start(store, 'req-other', '01.000000', 'reboot', OTHER)
      await assert.rejects(store.listActions(UUID, { marker: 'req-other' }), (e) =>
        isAppError(e, 'marker_not_found'),
      )
    })

    test('changes-since and changes-before filter on updated_at, inclusive', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await start(store, 'req-1', '01.000000')
      await start(store, 'req-2', '02.000000')
      await start(store, 'req-3', '03.000000')
      await store.startEvent({
        instanceUuid: UUID,
        requestId: 'req-1',
        event: 'e',
        host: 'h',
        startTime: ts('09.000000'),
        createdAt: ts('09.000000'),
      })
      const since = await store.listActions(UUID, { changesSince: ts('02.000000') })
      assert.deepEqual(
        since.map((a) => a.requestId),
        ['req-3', 'req-2', 'req-1'],
      )
      const window = await store.listActions(UUID, {
        changesSince: ts('02.000000'),
        changesBefore: ts('03.000000'),
      })
      assert.deepEqual(
        window.map((a) => a.requestId),
        ['req-3', 'req-2'],
      )
      const marker = await store.listActions(UUID, {
        changesBefore: ts('03.000000'),
        marker: 'req-3',
      })
      assert.deepEqual(
        marker.map((a) => a.requestId),
        ['req-2'],
      )
    })

    test(
      'wide and narrow changes-since/-before windows page through exactly the matching ' +
        'actions, newest first',
      async (t) => {
        const store = await backend.open(t)
        await seed(store)
        // More matches than WINDOW_WALK_THRESHOLD, so SQLite walks the created index; every 7th
        // older action was updated late and must appear at its created_at position.
        const n = WINDOW_WALK_THRESHOLD + 500
        const at = (sec: number) =>
          new Date(Date.UTC(2026, 0, 1) + sec * 1000).toISOString().replace('Z', '000') as Timestamp
        const ops: StoreWrite[] = []
        for (let i = 0; i < n; i++) {
          ops.push({
            op: 'action_start',
            values: {
              instanceUuid: UUID,
              action: 'reboot',
              requestId: `req-${i}`,
              userId: 'u1',
              projectId: 'p1',
              startTime: at(i),
              createdAt: at(i),
            },
          })
        }
        for (let i = 0; i < n; i += 7) {
          ops.push({
            op: 'event_start',
            values: {
              instanceUuid: UUID,
              requestId: `req-${i}`,
              event: 'e',
              host: 'h',
              startTime: at(100_000 + i),
              createdAt: at(100_000 + i),
            },
          })
        }
        assert.ok((await store.write(ops)).every((o) => o.ok))
        const updatedAt = (i: number) => (i % 7 === 0 ? 100_000 + i : i)
        const pages = async (window: { changesSince?: Timestamp; changesBefore?: Timestamp }) => {
          const ids: string[] = []
          for (let marker: string | undefined; ;) {
            const page = await store.listActions(UUID, {
              ...window,
              limit: 1000,
              ...(marker === undefined ? {} : { marker }),
            })
            ids.push(...page.map((a) => a.requestId))
            if (page.length < 1000) return ids
            marker = page[page.length - 1]?.requestId
          }
        }
        const expected = (keep: (updated: number) => boolean) =>
          Array.from({ length: n }, (_, i) => n - 1 - i)
            .filter((i) => keep(updatedAt(i)))
            .map((i) => `req-${i}`)
        const wide = await pages({ changesSince: at(400) })
        assert.ok(wide.length >= WINDOW_WALK_THRESHOLD)
        assert.deepEqual(
          wide,
          expected((u) => u >= 400),
        )
        assert.deepEqual(
          await pages({ changesSince: at(300), changesBefore: at(101_000) }),
          expected((u) => u >= 300 && u <= 101_000),
        )
        assert.deepEqual(
          await pages({ changesSince: at(2400) }),
          expected((u) => u >= 2400),
        )
        assert.deepEqual(
          await pages({ changesBefore: at(50) }),
          expected((u) => u <= 50),
        )
      },
    )

    test('event start and finish bump updated_at; a failure sets message "Error" for good', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await start(store, 'req-1', '01.000000')
      const e1 = await store.startEvent({
        instanceUuid: UUID,
        requestId: 'req-1',
        event: 'compute_a',
        host: 'c1',
        startTime: ts('02.000000'),
        createdAt: ts('02.000000'),
      })
      assert.equal(e1.result, null)
      assert.equal((await store.getAction(UUID, 'req-1'))?.updatedAt, ts('02.000000'))
      const f1 = await store.finishEvent({
        instanceUuid: UUID,
        requestId: 'req-1',
        event: 'compute_a',
        finishTime: ts('03.000000'),
        result: 'Error',
        traceback: 'tb',
        details: 'Boom',
        updatedAt: ts('03.000000'),
      })
      assert.equal(f1.result, 'Error')
      assert.equal(f1.traceback, 'tb')
      assert.equal(f1.details, 'Boom')
      let action = await store.getAction(UUID, 'req-1')
      assert.equal(action?.message, 'Error')
      assert.equal(action?.updatedAt, ts('03.000000'))
      await store.startEvent({
        instanceUuid: UUID,
        requestId: 'req-1',
        event: 'compute_b',
        host: 'c1',
        startTime: ts('04.000000'),
        createdAt: ts('04.000000'),
      })
      await store.finishEvent({
        instanceUuid: UUID,
        requestId: 'req-1',
        event: 'compute_b',
        finishTime: ts('05.000000'),
        result: 'Success',
        traceback: null,
        details: null,
        updatedAt: ts('05.000000'),
      })
      action = await store.getAction(UUID, 'req-1')
      assert.equal(action?.message, 'Error')
      assert.equal(action?.updatedAt, ts('05.000000'))
      const events = await store.listEvents(action?.id ?? -1)
      assert.deepEqual(
        events.map((e) => e.event),
        ['compute_b', 'compute_a'],
      )
    })

    test("finishing an event that never started is event_not_found with Nova's message", async (t) => {
      const store = await backend.open(t)
      await seed(store)
      const { action } = await start(store, 'req-1', '01.000000')
      await assert.rejects(
        store.finishEvent({
          instanceUuid: UUID,
          requestId: 'req-1',
          event: 'nope',
          finishTime: ts('02.000000'),
          result: 'Success',
          traceback: null,
          details: null,
          updatedAt: ts('02.000000'),
        }),
        (e) =>
          isAppError(e, 'event_not_found') &&
          e.message === `Event nope not found for action id ${action.id}`,
      )
    })

    test('events need their action: unknown request id is action_not_found', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await assert.rejects(
        store.startEvent({
          instanceUuid: UUID,
          requestId: 'req-x',
          event: 'e',
          host: null,
          startTime: ts('01.000000'),
          createdAt: ts('01.000000'),
        }),
        (e) =>
          isAppError(e, 'action_not_found') &&
          e.message === `Action for request_id req-x on instance ${UUID} not found`,
      )
    })

    test('a repeated event finish is a no-op; a restarted event of the same name is finished separately', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await start(store, 'req-1', '01.000000')
      const ev = {
        instanceUuid: UUID,
        requestId: 'req-1',
        event: 'compute__do_build_and_run_instance',
        host: 'c1',
      }
      await store.startEvent({ ...ev, startTime: ts('02.000000'), createdAt: ts('02.000000') })
      await store.startEvent({
        ...ev,
        host: 'c2',
        startTime: ts('03.000000'),
        createdAt: ts('03.000000'),
      })
      const fin = {
        instanceUuid: UUID,
        requestId: 'req-1',
        event: ev.event,
        traceback: null,
        details: null,
      }
      const a = await store.finishEvent({
        ...fin,
        result: 'Error',
        finishTime: ts('04.000000'),
        updatedAt: ts('04.000000'),
      })
      const b = await store.finishEvent({
        ...fin,
        result: 'Success',
        finishTime: ts('05.000000'),
        updatedAt: ts('05.000000'),
      })
      const c = await store.finishEvent({
        ...fin,
        result: 'Error',
        finishTime: ts('06.000000'),
        updatedAt: ts('06.000000'),
      })
      assert.notEqual(a.id, b.id)
      assert.equal(c.id, b.id)
      assert.equal(c.result, 'Success')
      assert.equal(c.finishTime, ts('05.000000'))
    })

    test('finishing an action sets finish_time; unknown is action_not_found', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await start(store, 'req-1', '01.000000', 'resetState')
      const done = await store.finishAction({
        instanceUuid: UUID,
        requestId: 'req-1',
        finishTime: ts('02.500000'),
      })
      assert.equal(done.finishTime, ts('02.500000'))
      assert.equal(done.updatedAt, ts('02.500000'))
      await assert.rejects(
        store.finishAction({ instanceUuid: UUID, requestId: 'nope', finishTime: ts('03.000000') }),
        (e) => isAppError(e, 'action_not_found'),
      )
    })

    test('write() applies a batch in order; a failing write is reported alone and rolled back', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      const outcomes = await store.write([
        {
          op: 'action_start',
          values: {
            instanceUuid: UUID,
            action: 'stop',
            requestId: 'req-1',
            userId: 'u',
            projectId: 'p',
            startTime: ts('01.000000'),
            createdAt: ts('01.000000'),
          },
        },
        {
          op: 'event_start',
          values: {
            instanceUuid: UUID,
            requestId: 'req-1',
            event: 'compute_stop_instance',
            host: 'h',
            startTime: ts('02.000000'),
            createdAt: ts('02.000000'),
          },
        },
        {
          op: 'event_finish',
          values: {
            instanceUuid: UUID,
            requestId: 'req-1',
            event: 'never_started',
            finishTime: ts('03.000000'),
            result: 'Error',
            traceback: null,
            details: null,
            updatedAt: ts('03.000000'),
          },
        },
        {
          op: 'action_start',
          values: {
            instanceUuid: OTHER,
            action: 'stop',
            requestId: 'req-2',
            userId: 'u',
            projectId: 'p',
            startTime: ts('01.000000'),
            createdAt: ts('01.000000'),
          },
        },
        {
          op: 'event_finish',
          values: {
            instanceUuid: UUID,
            requestId: 'req-1',
            event: 'compute_stop_instance',
            finishTime: ts('04.000000'),
            result: 'Success',
            traceback: null,
            details: null,
            updatedAt: ts('04.000000'),
          },
        },
      ])
      assert.deepEqual(
        outcomes.map((o) => (o.ok ? (o.created ? 'created' : 'ok') : o.error.code)),
        ['created', 'created', 'event_not_found', 'instance_not_found', 'ok'],
      )
      const action = await store.getAction(UUID, 'req-1')
      // The failed finish left no trace: no Error message on the action.
      assert.equal(action?.message, null)
      assert.equal(action?.updatedAt, ts('04.000000'))
      assert.equal((await store.listEvents(action?.id ?? -1))[0]?.result, 'Success')
    })

    test('a batch reads each action as its earlier writes left it, and commits the last update', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      const lifecycle = (requestId: string, last: StoreWrite): StoreWrite[] => {
        const ev = { instanceUuid: UUID, requestId, event: 'compute_stop_instance' }
        return [
          actionStartOp(requestId, '01.000000'),
          {
            op: 'event_start',
            values: { ...ev, host: 'h', startTime: ts('02.000000'), createdAt: ts('02.000000') },
          },
          {
            op: 'event_finish',
            values: {
              ...ev,
              finishTime: ts('03.000000'),
              result: 'Error',
              traceback: null,
              details: null,
              updatedAt: ts('03.000000'),
            },
          },
          last,
        ]
      }
      const outcomes = await store.write([
        // The finish reads the action after the event's update: that update must not be applied
        // after the finish and turn updated_at back to 03.
        ...lifecycle('req-1', {
          op: 'action_finish',
          values: { instanceUuid: UUID, requestId: 'req-1', finishTime: ts('05.000000') },
        }),
        // A retried start reads the action back: it already carries the event's failure.
        ...lifecycle('req-2', actionStartOp('req-2', '01.000000')),
      ])
      const finished = await store.getAction(UUID, 'req-1')
      assert.deepEqual(
        [finished?.message, finished?.finishTime, finished?.updatedAt],
        ['Error', ts('05.000000'), ts('05.000000')],
      )
      const retried = expectRecord(outcomes[7], 'action')
      assert.equal(retried.created, false)
      assert.deepEqual(
        [retried.action.message, retried.action.updatedAt],
        ['Error', ts('03.000000')],
      )
    })

    test('concurrent writers are coalesced and each gets its own outcome', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          start(
            store,
            `req-${i}`,
            `${String(10 + (i % 40)).padStart(2, '0')}.${String(i).padStart(6, '0')}`,
          ),
        ),
      )
      assert.equal(new Set(results.map((r) => r.action.id)).size, 200)
      assert.ok(results.every((r) => r.created))
      assert.equal((await store.listActions(UUID, {})).length, 200)
      // The same request id raced by many writers yields one action.
      const raced = await Promise.all(
        Array.from({ length: 20 }, () => start(store, 'req-race', '59.000000')),
      )
      assert.equal(raced.filter((r) => r.created).length, 1)
      assert.equal(new Set(raced.map((r) => r.action.id)).size, 1)
    })

    test('retried starts and finishes are idempotent', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await start(store, 'req-1', '01.000000')
      const ev = {
        instanceUuid: UUID,
        requestId: 'req-1',
        event: 'compute_x',
        host: 'h',
        startTime: ts('02.000000'),
        createdAt: ts('02.000000'),
      }
      const e1 = await store.startEvent(ev)
      const e2 = await store.startEvent({ ...ev, createdAt: ts('02.500000') })
      assert.equal(e2.id, e1.id)
      const f1 = await store.finishAction({
        instanceUuid: UUID,
        requestId: 'req-1',
        finishTime: ts('05.000000'),
      })
      const f2 = await store.finishAction({
        instanceUuid: UUID,
        requestId: 'req-1',
        finishTime: ts('06.000000'),
      })
      assert.equal(f2.finishTime, f1.finishTime)
      const d1 = await store.deleteInstance(UUID, ts('07.000000'))
      const d2 = await store.deleteInstance(UUID, ts('08.000000'))
      assert.equal(d2?.deletedAt, d1?.deletedAt)
    })

    test('a deleted instance keeps its actions; instances filter by project and plain-text name', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await store.putInstance({
        uuid: OTHER,
        name: 'web_1%',
        projectId: 'p2',
        userId: 'u2',
        now: ts('00.000000'),
      })
      await start(store, 'req-1', '01.000000')
      const deleted = await store.deleteInstance(UUID, ts('09.000000'))
      assert.equal(deleted?.deletedAt, ts('09.000000'))
      assert.equal((await store.listActions(UUID, {})).length, 1)
      assert.equal((await store.listInstances({ includeDeleted: false, limit: 10 })).length, 1)
      assert.equal((await store.listInstances({ includeDeleted: true, limit: 10 })).length, 2)
      assert.deepEqual(
        (await store.listInstances({ includeDeleted: true, nameContains: '_1%', limit: 10 })).map(
          (i) => i.uuid,
        ),
        [OTHER],
      )
      assert.deepEqual(
        await store.listInstances({
          includeDeleted: true,
          nameContains: 'b_',
          projectId: 'p1',
          limit: 10,
        }),
        [],
      )
      assert.equal(
        await store.deleteInstance('00000000-0000-4000-8000-000000000000', ts('09.000000')),
        undefined,
      )
    })

    test('times keep their microseconds on every column, from year 1 to 9999', async (t) => {
      const store = await backend.open(t)
      const times = [
        '2026-02-03T04:05:06.000001',
        '2026-02-03T04:05:06.999999',
        '2026-02-03T04:05:06.100000',
        '2026-02-03T04:05:07.000000',
        '0001-01-01T00:00:00.000000',
        '9999-12-31T23:59:59.999999',
      ] as Timestamp[]
      await store.putInstance({
        uuid: UUID,
        name: 'vm',
        projectId: 'p1',
        userId: 'u1',
        now: times[0] as Timestamp,
      })
      assert.equal((await store.getInstance(UUID))?.createdAt, times[0])
      for (const [i, time] of times.entries()) {
        const requestId = `req-${i}`
        const { action } = await store.startAction({
          instanceUuid: UUID,
          action: 'reboot',
          requestId,
          userId: 'u1',
          projectId: 'p1',
          startTime: time,
          createdAt: time,
        })
        assert.equal(action.startTime, time)
        const ev = { instanceUuid: UUID, requestId, event: 'e' }
        await store.startEvent({ ...ev, host: 'h', startTime: time, createdAt: time })
        // The same start time is the same event: equality on a time column is exact.
        assert.equal(
          (await store.startEvent({ ...ev, host: 'h', startTime: time, createdAt: time }))
            .startTime,
          time,
        )
        await store.finishEvent({
          ...ev,
          finishTime: time,
          result: 'Success',
          traceback: null,
          details: null,
          updatedAt: time,
        })
        const finished = await store.finishAction({
          instanceUuid: UUID,
          requestId,
          finishTime: time,
        })
        assert.equal(finished.finishTime, time)
        const read = await store.getAction(UUID, requestId)
        assert.deepEqual(
          [read?.startTime, read?.finishTime, read?.createdAt, read?.updatedAt],
          [time, time, time, time],
        )
        const [event, ...more] = await store.listEvents(action.id)
        assert.equal(more.length, 0)
        assert.deepEqual(
          [event?.startTime, event?.finishTime, event?.createdAt, event?.updatedAt],
          [time, time, time, time],
        )
        // Window bounds are inclusive to the microsecond.
        assert.ok(
          (await store.listActions(UUID, { changesSince: time, changesBefore: time })).some(
            (a) => a.requestId === requestId,
          ),
        )
      }
      const newestFirst = [...times].sort().reverse()
      assert.deepEqual(
        (await store.listActions(UUID, {})).map((a) => a.createdAt),
        newestFirst,
      )
      // A one-microsecond step is enough for the keyset marker.
      const page = await store.listActions(UUID, { marker: 'req-1', limit: 1 })
      assert.equal(page[0]?.createdAt, '2026-02-03T04:05:06.100000')
      const deleted = await store.deleteInstance(UUID, '2026-12-31T23:59:59.000001' as Timestamp)
      assert.equal(deleted?.deletedAt, '2026-12-31T23:59:59.000001')
      assert.equal((await store.getInstance(UUID))?.deletedAt, '2026-12-31T23:59:59.000001')
    })

    test('ties on equal created_at: newest id first, for actions and events, and pages lose nothing', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      for (let i = 0; i < 7; i++) await start(store, `req-${i}`, '01.123456')
      const expected = ['req-6', 'req-5', 'req-4', 'req-3', 'req-2', 'req-1', 'req-0']
      assert.deepEqual(
        (await store.listActions(UUID, {})).map((a) => a.requestId),
        expected,
      )
      const paged: string[] = []
      let marker: string | undefined
      for (;;) {
        const page = await store.listActions(UUID, { limit: 3, ...(marker ? { marker } : {}) })
        paged.push(...page.map((a) => a.requestId))
        if (page.length < 3) break
        marker = page[page.length - 1]?.requestId
      }
      assert.deepEqual(paged, expected)
      const ev = { instanceUuid: UUID, requestId: 'req-0', host: 'h', createdAt: ts('02.000000') }
      const e1 = await store.startEvent({ ...ev, event: 'a', startTime: ts('02.000001') })
      const e2 = await store.startEvent({ ...ev, event: 'b', startTime: ts('02.000002') })
      const action = await store.getAction(UUID, 'req-0')
      assert.deepEqual(
        (await store.listEvents(action?.id ?? -1)).map((e) => e.id),
        [e2.id, e1.id],
      )
    })

    test('request ids, event names and uuids compare exactly: case and trailing spaces matter', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      const ids = ['req-A', 'req-a', 'req-a ', 'REQ-A']
      for (const id of ids) assert.equal((await start(store, id, '01.000000')).created, true, id)
      assert.equal((await store.listActions(UUID, {})).length, 4)
      assert.equal((await store.getAction(UUID, 'req-a '))?.requestId, 'req-a ')
      assert.equal(await store.getAction(UUID, 'Req-a'), undefined)
      // Keys no backend can hold (a NUL from a URL) are simply not found.
      assert.equal(await store.getAction(UUID, 'req-a\u0000'), undefined)
      await assert.rejects(store.listActions(UUID, { marker: '\u0000' }), (e) =>
        isAppError(e, 'marker_not_found'),
      )
      await assert.rejects(store.listActions(UUID, { marker: 'Req-A' }), (e) =>
        isAppError(e, 'marker_not_found'),
      )
      const hex = 'abcdef00-2222-4333-8444-55555555555e'
      await seed(store, hex)
      assert.equal(await store.getInstance(hex.toUpperCase()), undefined)
      const ev = {
        instanceUuid: UUID,
        requestId: 'req-a',
        host: 'h',
        startTime: ts('02.000000'),
        createdAt: ts('02.000000'),
      }
      await store.startEvent({ ...ev, event: 'Compute_X' })
      await store.startEvent({ ...ev, event: 'compute_x' })
      await store.finishEvent({
        instanceUuid: UUID,
        requestId: 'req-a',
        event: 'compute_x',
        finishTime: ts('03.000000'),
        result: 'Success',
        traceback: null,
        details: null,
        updatedAt: ts('03.000000'),
      })
      const events = await store.listEvents((await store.getAction(UUID, 'req-a'))?.id ?? -1)
      assert.deepEqual(events.map((e) => [e.event, e.result]).sort(), [
        ['Compute_X', null],
        ['compute_x', 'Success'],
      ])
      await assert.rejects(
        store.finishEvent({
          instanceUuid: UUID,
          requestId: 'req-a',
          event: 'COMPUTE_X',
          finishTime: ts('04.000000'),
          result: 'Success',
          traceback: null,
          details: null,
          updatedAt: ts('04.000000'),
        }),
        (e) => isAppError(e, 'event_not_found'),
      )
    })

    test(
      'names at the 255-character limit are kept whole, multi-byte too; a 300-character one ' +
        'is refused before the store',
      async (t) => {
        const store = await backend.open(t)
        const cjk = '漢字'.repeat(127) + '漢'
        const emoji = '😀'.repeat(127) + 'x'
        const accents = 'é'.repeat(255)
        assert.deepEqual([cjk.length, emoji.length, accents.length], [255, 255, 255])
        const instance = await store.putInstance({
          uuid: UUID,
          name: emoji,
          projectId: accents,
          userId: cjk,
          now: ts('00.000000'),
        })
        assert.deepEqual(await store.getInstance(UUID), instance)
        const { action } = await store.startAction({
          instanceUuid: UUID,
          action: accents,
          requestId: cjk,
          userId: emoji,
          projectId: accents,
          startTime: ts('01.000000'),
          createdAt: ts('01.000000'),
        })
        assert.equal(
          (
            await store.startAction({
              instanceUuid: UUID,
              action: accents,
              requestId: cjk,
              userId: emoji,
              projectId: accents,
              startTime: ts('01.000000'),
              createdAt: ts('01.000000'),
            })
          ).created,
          false,
        )
        assert.deepEqual(await store.getAction(UUID, cjk), action)
        await store.startEvent({
          instanceUuid: UUID,
          requestId: cjk,
          event: emoji,
          host: cjk,
          startTime: ts('02.000000'),
          createdAt: ts('02.000000'),
        })
        const finished = await store.finishEvent({
          instanceUuid: UUID,
          requestId: cjk,
          event: emoji,
          finishTime: ts('03.000000'),
          result: 'Error',
          traceback: '🔥'.repeat(20_000),
          details: accents,
          updatedAt: ts('03.000000'),
        })
        assert.deepEqual((await store.listEvents(action.id))[0], finished)
        assert.equal(finished.host, cjk)
        assert.equal(finished.traceback?.length, 40_000)
        const service = createActionService(store)
        await assert.rejects(
          service.actionStart({
            instanceUuid: UUID,
            action: 'reboot',
            requestId: 'r'.repeat(300),
            userId: null,
            projectId: null,
          }),
          (e) => isAppError(e, 'invalid_input'),
        )
        await assert.rejects(
          service.putInstance({ uuid: OTHER, name: 'n'.repeat(300), projectId: 'p', userId: 'u' }),
          (e) => isAppError(e, 'invalid_input'),
        )
      },
    )

    test(
      'instance names match as plain text: wildcards and escape characters are literal, ASCII ' +
        'case is ignored',
      async (t) => {
        const store = await backend.open(t)
        const names = ['web_1%', 'web-1x', 'a!b', 'back\\slash', 'Web-Upper', "o'brien"]
        for (const [i, n] of names.entries()) {
          await store.putInstance({
            uuid: `00000000-0000-4000-8000-00000000000${i}`,
            name: n,
            projectId: 'p',
            userId: 'u',
            now: ts('00.000000'),
          })
        }
        const match = async (text: string) =>
          (await store.listInstances({ includeDeleted: false, nameContains: text, limit: 10 })).map(
            (i) => i.name,
          )
        assert.deepEqual(await match('_1%'), ['web_1%'])
        assert.deepEqual(await match('%'), ['web_1%'])
        assert.deepEqual(await match('_'), ['web_1%'])
        assert.deepEqual(await match('!'), ['a!b'])
        assert.deepEqual(await match('!b'), ['a!b'])
        assert.deepEqual(await match('\\'), ['back\\slash'])
        assert.deepEqual(await match('k\\s'), ['back\\slash'])
        assert.deepEqual(await match("'"), ["o'brien"])
        // Ordered by name, byte by byte ('W' < 'w', '-' < '_'), on every backend.
        assert.deepEqual(await match('WEB'), ['Web-Upper', 'web-1x', 'web_1%'])
        assert.deepEqual(await match('zzz'), [])
      },
    )

    test('a schema newer than this build is refused at open, migrating or not, with a clear message', async (t) => {
      if (backend.name === 'sqlite-memory')
        return t.skip('an in-memory database cannot be reopened')
      const database = await freshDatabase(backend.name)
      t.after(() => database.drop())
      await (await openStore(database.url)).close()
      // What a newer ActionTrail's migration leaves behind.
      const { db } = openDatabase(database.url)
      try {
        await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('9999-from-the-future', 'x')`.execute(
          db,
        )
        await assert.rejects(
          pendingMigrations(db),
          (e) => isAppError(e, 'store_unavailable') && /9999-from-the-future/.test(e.message),
        )
      } finally {
        await db.destroy()
      }
      const newer = (e: unknown) =>
        isAppError(e, 'store_unavailable') &&
        /schema is newer than this ActionTrail.*9999-from-the-future.*upgrade/.test(e.message)
      await assert.rejects(openStore(database.url), newer)
      await assert.rejects(openStore(database.url, { migrate: false }), newer)
    })

    test('without migrating, a schema older than this build is refused and a current one opens', async (t) => {
      const ALL_MIGRATIONS = Object.keys(MIGRATIONS).join(', ')
      const database = await freshDatabase(backend.name)
      t.after(() => database.drop())
      await assert.rejects(
        openStore(database.url, { migrate: false }),
        (e) =>
          isAppError(e, 'store_unavailable') &&
          e.message.includes(
            // Every migration of this build, in order: a fresh database has none of them.
            `schema is older than this ActionTrail (pending migrations: ${ALL_MIGRATIONS}); ` +
              'run actiontrail migrate',
          ),
      )
      if (backend.name === 'sqlite-memory') return
      await (await openStore(database.url)).close()
      const store = await openStore(database.url, { migrate: false })
      t.after(() => store.close())
      assert.equal(await store.getInstance(UUID), undefined)
    })

    test('a write survives losing its connection mid-transaction (server restart, network failure)', async (t) => {
      if (backend.name.startsWith('sqlite')) return t.skip('SQLite has no connections to lose')
      const database = await freshDatabase(backend.name)
      const store = new TestStore(await openStore(database.url))
      t.after(async () => {
        await store.close()
        await database.drop()
      })
      await seed(store)
      // A transaction long enough to be cut: its connection is killed while it runs, and the
      // whole transaction runs again on a fresh connection.
      const ops = Array.from({ length: 1500 }, (_, i) => actionStartOp(`req-${i}`, '01.000000'))
      const writing = store.write(ops)
      await new Promise((r) => setTimeout(r, 100))
      const killed = (await database.killConnections?.()) ?? 0
      assert.ok(killed > 0, 'connections were killed')
      const outcomes = await writing
      // (Were the kill to land in the commit itself, the retry would find the rows committed and
      // report them as not created: the rows, not the flag, are the point.)
      assert.ok(outcomes.every((o) => o.ok))
      assert.equal((await store.listActions(UUID, {})).length, ops.length)
      // Idle connections that died are replaced as well.
      await database.killConnections?.()
      assert.equal((await start(store, 'req-after', '02.000000')).created, true)
      assert.equal((await store.getAction(UUID, 'req-after'))?.requestId, 'req-after')
    })

    test('two nodes racing to start the same actions create each once, and no error surfaces', async (t) => {
      const [a, b] = await twoNodes(t, backend.name)
      await seed(a)
      await seed(b, OTHER)
      for (let round = 0; round < 3; round++) {
        const raced = Array.from({ length: 24 }, (_, i) =>
          start(i % 2 ? b : a, `req-race-${round}`, '01.000000'),
        )
        // Batches over the same keys in opposite orders, from both nodes: unique-key collisions
        // and lock-order deadlocks, retried inside the store.
        const keys = Array.from({ length: 20 }, (_, i) => `req-${round}-${i}`)
        const batchA = a.write(keys.map((k) => actionStartOp(k, '02.000000')))
        const batchB = b.write([...keys].reverse().map((k) => actionStartOp(k, '02.000000')))
        const other = Array.from({ length: 6 }, (_, i) =>
          start(i % 2 ? a : b, `req-other-${round}`, '03.000000', 'reboot', OTHER),
        )
        const [starts, outA, outB, others] = await Promise.all([
          Promise.all(raced),
          batchA,
          batchB,
          Promise.all(other),
        ])
        assert.equal(starts.filter((r) => r.created).length, 1)
        assert.equal(new Set(starts.map((r) => r.action.id)).size, 1)
        assert.equal(others.filter((r) => r.created).length, 1)
        assert.ok(
          [...outA, ...outB].every((o) => o.ok),
          'every batch write succeeded',
        )
        const created = [...outA, ...outB].filter((o) => o.ok && o.created).length
        assert.equal(created, keys.length, 'each key created exactly once')
      }
      assert.equal((await a.listActions(UUID, {})).length, 3 * 21)
      assert.equal((await b.listActions(OTHER, {})).length, 3)
    })

    test(
      'two nodes racing to finish events finish each one exactly once; racing retried starts ' +
        'add one event',
      async (t) => {
        const [a, b] = await twoNodes(t, backend.name)
        await seed(a)
        const { action } = await start(a, 'req-1', '01.000000')
        const k = 6
        for (let i = 0; i < k; i++) {
          await a.startEvent({
            instanceUuid: UUID,
            requestId: 'req-1',
            event: 'compute_build',
            host: 'h',
            startTime: ts(`02.00000${i}`),
            createdAt: ts(`02.00000${i}`),
          })
        }
        const finishTimes = Array.from({ length: 3 * k }, (_, i) =>
          ts(`10.${String(i).padStart(6, '0')}`),
        )
        const finishes = await Promise.all(
          finishTimes.map((finishTime, i) =>
            (i % 2 ? b : a).finishEvent({
              instanceUuid: UUID,
              requestId: 'req-1',
              event: 'compute_build',
              finishTime,
              result: 'Success',
              traceback: null,
              details: null,
              updatedAt: finishTime,
            }),
          ),
        )
        // A call "won" when the event it returns carries its own finish time; the others were
        // no-ops.
        const winners = finishes.filter((e, i) => e.finishTime === finishTimes[i])
        assert.equal(winners.length, k)
        assert.equal(new Set(winners.map((e) => e.id)).size, k)
        const events = await b.listEvents(action.id)
        assert.equal(events.length, k)
        assert.ok(events.every((e) => e.result === 'Success'))
        // The same start (a client's retry) sent to both nodes at once.
        const retried = {
          instanceUuid: UUID,
          requestId: 'req-1',
          event: 'compute_retry',
          host: 'h',
          startTime: ts('20.000000'),
          createdAt: ts('20.000000'),
        }
        const starts = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? b : a).startEvent(retried)),
        )
        assert.equal(new Set(starts.map((e) => e.id)).size, 1)
        assert.equal(
          (await a.listEvents(action.id)).filter((e) => e.event === 'compute_retry').length,
          1,
        )
      },
    )
  })
}
