/**
 * The store contract: every backend must pass this suite. Backends are listed in BACKENDS;
 * SQLite (in-memory and on a file) always runs.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import { isAppError } from '../../src/domain/errors.js'
import type { Timestamp } from '../../src/domain/timestamp.js'
import type { ActionStore } from '../../src/store/action-store.js'
import { openStore } from '../../src/store/open-store.js'

interface Backend {
  name: string
  open(t: TestContext): Promise<ActionStore>
}

const BACKENDS: Backend[] = [
  {
    name: 'sqlite-memory',
    open: async (t) => {
      const store = await openStore(':memory:')
      t.after(() => store.close())
      return store
    },
  },
  {
    name: 'sqlite-file',
    open: async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'actiontrail-store-'))
      const store = await openStore(join(dir, 'db.sqlite'))
      t.after(async () => {
        await store.close()
        rmSync(dir, { recursive: true, force: true })
      })
      return store
    },
  },
]

const UUID = '11111111-2222-4333-8444-555555555555'
const OTHER = '99999999-2222-4333-8444-555555555555'
const ts = (s: string) => `2026-01-01T00:00:${s}` as Timestamp

async function seed(store: ActionStore, uuid = UUID): Promise<void> {
  await store.putInstance({ uuid, name: 'vm', projectId: 'p1', userId: 'u1', now: ts('00.000000') })
}

async function start(store: ActionStore, requestId: string, created: string, action = 'reboot', uuid = UUID) {
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

for (const backend of BACKENDS) {
  describe(`ActionStore contract: ${backend.name}`, () => {
    test('starting an action on an unknown instance is instance_not_found', async (t) => {
      const store = await backend.open(t)
      await assert.rejects(start(store, 'req-1', '01.000000'), (e) => isAppError(e, 'instance_not_found'))
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
      await assert.rejects(start(store, 'req-1', '06.000000', 'delete'), (e) => isAppError(e, 'conflict'))
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
      for (const [i, c] of ['01', '02', '02', '02', '03'].entries()) await start(store, `req-${i}`, `${c}.000000`)
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

    test('an unknown marker fails with Nova\'s message; limit 0 returns [] without resolving it', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await start(store, 'req-1', '01.000000')
      await assert.rejects(store.listActions(UUID, { marker: 'nope' }), (e) => isAppError(e, 'marker_not_found') && e.message === 'Marker None could not be found.')
      assert.deepEqual(await store.listActions(UUID, { limit: 0, marker: 'nope' }), [])
    })

    test('a marker from another instance is not found', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await seed(store, OTHER)
      await start(store, 'req-other', '01.000000', 'reboot', OTHER)
      await assert.rejects(store.listActions(UUID, { marker: 'req-other' }), (e) => isAppError(e, 'marker_not_found'))
    })

    test('changes-since and changes-before filter on updated_at, inclusive', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await start(store, 'req-1', '01.000000')
      await start(store, 'req-2', '02.000000')
      await start(store, 'req-3', '03.000000')
      await store.startEvent({ instanceUuid: UUID, requestId: 'req-1', event: 'e', host: 'h', startTime: ts('09.000000'), createdAt: ts('09.000000') })
      const since = await store.listActions(UUID, { changesSince: ts('02.000000') })
      assert.deepEqual(since.map((a) => a.requestId), ['req-3', 'req-2', 'req-1'])
      const window = await store.listActions(UUID, { changesSince: ts('02.000000'), changesBefore: ts('03.000000') })
      assert.deepEqual(window.map((a) => a.requestId), ['req-3', 'req-2'])
      const marker = await store.listActions(UUID, { changesBefore: ts('03.000000'), marker: 'req-3' })
      assert.deepEqual(marker.map((a) => a.requestId), ['req-2'])
    })

    test('event start and finish bump updated_at; a failure sets message "Error" for good', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await start(store, 'req-1', '01.000000')
      const e1 = await store.startEvent({ instanceUuid: UUID, requestId: 'req-1', event: 'compute_a', host: 'c1', startTime: ts('02.000000'), createdAt: ts('02.000000') })
      assert.equal(e1.result, null)
      assert.equal((await store.getAction(UUID, 'req-1'))?.updatedAt, ts('02.000000'))
      const f1 = await store.finishEvent({ instanceUuid: UUID, requestId: 'req-1', event: 'compute_a', finishTime: ts('03.000000'), result: 'Error', traceback: 'tb', details: 'Boom', updatedAt: ts('03.000000') })
      assert.equal(f1.result, 'Error')
      assert.equal(f1.traceback, 'tb')
      assert.equal(f1.details, 'Boom')
      let action = await store.getAction(UUID, 'req-1')
      assert.equal(action?.message, 'Error')
      assert.equal(action?.updatedAt, ts('03.000000'))
      await store.startEvent({ instanceUuid: UUID, requestId: 'req-1', event: 'compute_b', host: 'c1', startTime: ts('04.000000'), createdAt: ts('04.000000') })
      await store.finishEvent({ instanceUuid: UUID, requestId: 'req-1', event: 'compute_b', finishTime: ts('05.000000'), result: 'Success', traceback: null, details: null, updatedAt: ts('05.000000') })
      action = await store.getAction(UUID, 'req-1')
      assert.equal(action?.message, 'Error')
      assert.equal(action?.updatedAt, ts('05.000000'))
      const events = await store.listEvents(action?.id ?? -1)
      assert.deepEqual(events.map((e) => e.event), ['compute_b', 'compute_a'])
    })

    test('finishing an event that never started is event_not_found with Nova\'s message', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      const { action } = await start(store, 'req-1', '01.000000')
      await assert.rejects(
        store.finishEvent({ instanceUuid: UUID, requestId: 'req-1', event: 'nope', finishTime: ts('02.000000'), result: 'Success', traceback: null, details: null, updatedAt: ts('02.000000') }),
        (e) => isAppError(e, 'event_not_found') && e.message === `Event nope not found for action id ${action.id}`,
      )
    })

    test('events need their action: unknown request id is action_not_found', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await assert.rejects(
        store.startEvent({ instanceUuid: UUID, requestId: 'req-x', event: 'e', host: null, startTime: ts('01.000000'), createdAt: ts('01.000000') }),
        (e) => isAppError(e, 'action_not_found') && e.message === `Action for request_id req-x on instance ${UUID} not found`,
      )
    })

    test('a repeated event finish is a no-op; a restarted event of the same name is finished separately', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await start(store, 'req-1', '01.000000')
      const ev = { instanceUuid: UUID, requestId: 'req-1', event: 'compute__do_build_and_run_instance', host: 'c1' }
      await store.startEvent({ ...ev, startTime: ts('02.000000'), createdAt: ts('02.000000') })
      await store.startEvent({ ...ev, host: 'c2', startTime: ts('03.000000'), createdAt: ts('03.000000') })
      const fin = { instanceUuid: UUID, requestId: 'req-1', event: ev.event, traceback: null, details: null }
      const a = await store.finishEvent({ ...fin, result: 'Error', finishTime: ts('04.000000'), updatedAt: ts('04.000000') })
      const b = await store.finishEvent({ ...fin, result: 'Success', finishTime: ts('05.000000'), updatedAt: ts('05.000000') })
      const c = await store.finishEvent({ ...fin, result: 'Error', finishTime: ts('06.000000'), updatedAt: ts('06.000000') })
      assert.notEqual(a.id, b.id)
      assert.equal(c.id, b.id)
      assert.equal(c.result, 'Success')
      assert.equal(c.finishTime, ts('05.000000'))
    })

    test('finishing an action sets finish_time; unknown is action_not_found', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await start(store, 'req-1', '01.000000', 'resetState')
      const done = await store.finishAction({ instanceUuid: UUID, requestId: 'req-1', finishTime: ts('02.500000') })
      assert.equal(done.finishTime, ts('02.500000'))
      assert.equal(done.updatedAt, ts('02.500000'))
      await assert.rejects(store.finishAction({ instanceUuid: UUID, requestId: 'nope', finishTime: ts('03.000000') }), (e) => isAppError(e, 'action_not_found'))
    })

    test('write() applies a batch in order; a failing write is reported alone and rolled back', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      const outcomes = await store.write([
        { op: 'action_start', values: { instanceUuid: UUID, action: 'stop', requestId: 'req-1', userId: 'u', projectId: 'p', startTime: ts('01.000000'), createdAt: ts('01.000000') } },
        { op: 'event_start', values: { instanceUuid: UUID, requestId: 'req-1', event: 'compute_stop_instance', host: 'h', startTime: ts('02.000000'), createdAt: ts('02.000000') } },
        { op: 'event_finish', values: { instanceUuid: UUID, requestId: 'req-1', event: 'never_started', finishTime: ts('03.000000'), result: 'Error', traceback: null, details: null, updatedAt: ts('03.000000') } },
        { op: 'action_start', values: { instanceUuid: OTHER, action: 'stop', requestId: 'req-2', userId: 'u', projectId: 'p', startTime: ts('01.000000'), createdAt: ts('01.000000') } },
        { op: 'event_finish', values: { instanceUuid: UUID, requestId: 'req-1', event: 'compute_stop_instance', finishTime: ts('04.000000'), result: 'Success', traceback: null, details: null, updatedAt: ts('04.000000') } },
      ])
      assert.deepEqual(outcomes.map((o) => (o.ok ? (o.created ? 'created' : 'ok') : o.error.code)), ['created', 'created', 'event_not_found', 'instance_not_found', 'ok'])
      const action = await store.getAction(UUID, 'req-1')
      // The failed finish left no trace: no Error message on the action.
      assert.equal(action?.message, null)
      assert.equal(action?.updatedAt, ts('04.000000'))
      assert.equal((await store.listEvents(action?.id ?? -1))[0]?.result, 'Success')
    })

    test('concurrent writers are coalesced and each gets its own outcome', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => start(store, `req-${i}`, `${String(10 + (i % 40)).padStart(2, '0')}.${String(i).padStart(6, '0')}`)),
      )
      assert.equal(new Set(results.map((r) => r.action.id)).size, 200)
      assert.ok(results.every((r) => r.created))
      assert.equal((await store.listActions(UUID, {})).length, 200)
      // The same request id raced by many writers yields one action.
      const raced = await Promise.all(Array.from({ length: 20 }, () => start(store, 'req-race', '59.000000')))
      assert.equal(raced.filter((r) => r.created).length, 1)
      assert.equal(new Set(raced.map((r) => r.action.id)).size, 1)
    })

    test('retried starts and finishes are idempotent', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await start(store, 'req-1', '01.000000')
      const ev = { instanceUuid: UUID, requestId: 'req-1', event: 'compute_x', host: 'h', startTime: ts('02.000000'), createdAt: ts('02.000000') }
      const e1 = await store.startEvent(ev)
      const e2 = await store.startEvent({ ...ev, createdAt: ts('02.500000') })
      assert.equal(e2.id, e1.id)
      const f1 = await store.finishAction({ instanceUuid: UUID, requestId: 'req-1', finishTime: ts('05.000000') })
      const f2 = await store.finishAction({ instanceUuid: UUID, requestId: 'req-1', finishTime: ts('06.000000') })
      assert.equal(f2.finishTime, f1.finishTime)
      const d1 = await store.deleteInstance(UUID, ts('07.000000'))
      const d2 = await store.deleteInstance(UUID, ts('08.000000'))
      assert.equal(d2?.deletedAt, d1?.deletedAt)
    })

    test('idempotency records: first writer wins, purge by age', async (t) => {
      const store = await backend.open(t)
      await store.putIdempotency({ keyHash: 'k1', requestHash: 'r1', status: 201, body: '{"a":1}', createdAt: ts('01.000000') })
      await store.putIdempotency({ keyHash: 'k1', requestHash: 'r2', status: 200, body: '{}', createdAt: ts('02.000000') })
      await store.putIdempotency({ keyHash: 'k2', requestHash: 'r3', status: 404, body: '{}', createdAt: ts('09.000000') })
      assert.deepEqual(await store.getIdempotency('k1'), { keyHash: 'k1', requestHash: 'r1', status: 201, body: '{"a":1}', createdAt: ts('01.000000') })
      assert.equal(await store.purgeIdempotency(ts('05.000000')), 1)
      assert.equal(await store.getIdempotency('k1'), undefined)
      assert.equal((await store.getIdempotency('k2'))?.status, 404)
    })

    test('a deleted instance keeps its actions; instances filter by project and plain-text name', async (t) => {
      const store = await backend.open(t)
      await seed(store)
      await store.putInstance({ uuid: OTHER, name: 'web_1%', projectId: 'p2', userId: 'u2', now: ts('00.000000') })
      await start(store, 'req-1', '01.000000')
      const deleted = await store.deleteInstance(UUID, ts('09.000000'))
      assert.equal(deleted?.deletedAt, ts('09.000000'))
      assert.equal((await store.listActions(UUID, {})).length, 1)
      assert.equal((await store.listInstances({ includeDeleted: false, limit: 10 })).length, 1)
      assert.equal((await store.listInstances({ includeDeleted: true, limit: 10 })).length, 2)
      assert.deepEqual((await store.listInstances({ includeDeleted: true, nameContains: '_1%', limit: 10 })).map((i) => i.uuid), [OTHER])
      assert.deepEqual(await store.listInstances({ includeDeleted: true, nameContains: 'b_', projectId: 'p1', limit: 10 }), [])
      assert.equal(await store.deleteInstance('00000000-0000-4000-8000-000000000000', ts('09.000000')), undefined)
    })
  })
}
