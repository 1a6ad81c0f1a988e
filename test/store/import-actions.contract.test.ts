/**
 * The bulk import path (store/write/import-program.ts, issue 12) on every backend: complete
 * actions with their events land as the per-operation writes would leave them, an import run
 * twice adds nothing, deletions are taken over, actions of unknown instances are skipped, and
 * every new action and event has its change row (so the stream sees imported history).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Timestamp } from '../../src/domain/timestamp.js'
import type { ImportCounts, WriteOutcome } from '../../src/domain/write-operation.js'
import type { ImportedAction, ImportedInstance } from '../../src/store/action-store.js'
import {
  BACKEND_NAMES,
  backendProblem,
  openFreshStores,
  REQUIRE_BACKENDS,
} from '../helpers/backends.js'

const two = (n: number) => String(n).padStart(2, '0')
const at = (s: number) =>
  `2026-01-01T10:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}.000000` as Timestamp
const vm = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

function counts(outcomes: WriteOutcome[]): ImportCounts {
  const [o] = outcomes
  assert.ok(o?.ok, 'the import write succeeds')
  assert.equal(o.record.kind, 'import')
  if (o.record.kind !== 'import') throw new Error('unreachable')
  return o.record.counts
}

const instance = (n: number, deletedAt: Timestamp | null = null): ImportedInstance => ({
  uuid: vm(n),
  name: `vm-${n}`,
  projectId: `owner-${n % 2}`,
  userId: 'u',
  createdAt: at(0),
  updatedAt: at(0),
  deletedAt,
})

/** Action `i` on instance `n`: a reboot with two events, the second failed when `i` is odd. */
const action = (n: number, i: number): ImportedAction => ({
  instanceUuid: vm(n),
  action: 'reboot',
  requestId: `req-${n}-${i}`,
  userId: 'u',
  projectId: 'initiator',
  startTime: at(i),
  finishTime: null,
  message: i % 2 ? 'Error' : null,
  createdAt: at(i),
  updatedAt: at(i + 2),
  events: [
    {
      event: 'compute_reboot_instance',
      startTime: at(i),
      finishTime: at(i + 1),
      result: 'Success',
      traceback: null,
      details: null,
      host: 'c1',
      createdAt: at(i),
      updatedAt: at(i + 1),
    },
    {
      event: 'compute_power_on',
      startTime: at(i + 1),
      finishTime: at(i + 2),
      result: i % 2 ? 'Error' : 'Success',
      traceback: i % 2 ? 'Traceback (most recent call last):\nValueError' : null,
      details: i % 2 ? 'ValueError' : null,
      host: 'c1',
      createdAt: at(i + 1),
      updatedAt: at(i + 2),
    },
  ],
})

for (const name of BACKEND_NAMES) {
  const problem = await backendProblem(name)
  if (problem && REQUIRE_BACKENDS) {
    test(`bulk import: ${name} (required by ACTIONTRAIL_REQUIRE_BACKENDS=1)`, () =>
      assert.fail(problem))
    continue
  }
  describe(`bulk import: ${name}`, { skip: problem ?? false }, () => {
    test('actions and events land complete, once, with change rows', async (t) => {
      const [stores] = await openFreshStores(t, name)
      assert.ok(stores)
      const { actions: store, changes: feed } = stores
      const instances = [instance(1), instance(2, at(50))]
      assert.deepEqual(counts(await store.write([{ op: 'import_instances', instances }])), {
        created: 2,
        existing: 0,
        skipped: 0,
      })
      // 300 actions: more than one 256-row chunk, and a duplicate and an orphan in the batch.
      const batch: ImportedAction[] = []
      for (let i = 0; i < 300; i++) batch.push(action(1 + (i % 2), i))
      batch.push(action(1, 0), action(9, 0))
      const first = counts(
        await store.write([{ op: 'import_actions', actions: batch, writer: 'nova-import' }]),
      )
      assert.deepEqual(first, { created: 300, existing: 1, skipped: 1 })
      assert.equal(await feed.head(), 300 * 3, 'one change row per action and per event')

      const a = await store.getAction(vm(2), 'req-2-1')
      assert.ok(a)
      assert.equal(a.action, 'reboot')
      assert.equal(a.userId, 'u')
      assert.equal(a.projectId, 'initiator')
      assert.equal(a.startTime, at(1))
      assert.equal(a.message, 'Error')
      assert.equal(a.updatedAt, at(3))
      assert.equal(a.writtenBy, 'nova-import')
      const events = await store.listEvents(a.id)
      assert.deepEqual(
        events.map((e) => [e.event, e.result, e.traceback, e.details, e.host, e.finishTime]),
        [
          [
            'compute_power_on',
            'Error',
            'Traceback (most recent call last):\nValueError',
            'ValueError',
            'c1',
            at(3),
          ],
          ['compute_reboot_instance', 'Success', null, null, 'c1', at(2)],
        ],
      )
      // The project search sees the owner copied onto imported rows (migration 0005).
      const owned = await store.searchActions({ ownerProjectId: 'owner-0', limit: 500 })
      assert.equal(owned.length, 150)
      const failed = await store.searchEvents({ result: 'error', limit: 500 })
      assert.equal(failed.length, 150)
      // …and the parent's name, project and user copied onto imported events (migration 0008).
      const byParent = await store.searchEvents({
        actions: ['reboot'],
        projectId: 'initiator',
        userId: 'u',
        limit: 1000,
      })
      assert.equal(byParent.length, 600)

      // The change rows name the imported records.
      const changes = await feed.readChanges(0, 1000)
      assert.equal(changes.filter((c) => c.kind === 'event').length, 600)
      assert.ok(changes.some((c) => c.kind === 'action' && c.actionId === a.id))
      assert.ok(changes.every((c) => c.ownerProject === 'owner-0' || c.ownerProject === 'owner-1'))

      // Again: nothing new, no new change rows.
      const again = counts(
        await store.write([{ op: 'import_actions', actions: batch, writer: 'nova-import' }]),
      )
      assert.deepEqual(again, { created: 0, existing: 301, skipped: 1 })
      assert.equal(await feed.head(), 900)
      assert.equal((await store.listActions(vm(1), {})).length, 150)
    })

    test('instances: known ones keep their fields and take over a deletion', async (t) => {
      const [stores] = await openFreshStores(t, name)
      assert.ok(stores)
      const store = stores.actions
      await store.write([
        {
          op: 'instance_put',
          values: { uuid: vm(1), name: 'live', projectId: 'p', userId: 'u', now: at(0) },
        },
      ])
      const outcome = counts(
        await store.write([
          { op: 'import_instances', instances: [instance(1, at(9)), instance(3), instance(3)] },
        ]),
      )
      assert.deepEqual(outcome, { created: 1, existing: 2, skipped: 0 })
      const one = await store.getInstance(vm(1))
      assert.equal(one?.name, 'live')
      assert.equal(one?.deletedAt, at(9))
      assert.equal((await store.getInstance(vm(3)))?.deletedAt, null)
      // A second import of a deleted instance keeps the first deletion time.
      await store.write([{ op: 'import_instances', instances: [instance(1, at(20))] }])
      assert.equal((await store.getInstance(vm(1)))?.deletedAt, at(9))
    })
  })
}
