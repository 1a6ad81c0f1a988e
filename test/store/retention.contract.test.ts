/**
 * Retention on every backend (issue 13, store/retention-store.ts): archive moves the history of
 * instances deleted before the cut-off into the shadow tables with its ids, batch by batch, and
 * notes one `archive` change per action; purge deletes archived rows and notes `purge`; a dry run
 * counts and changes nothing; archived history is read with `archived: true`; writers on live
 * instances keep succeeding while an archive runs; of two nodes on one database only one holds
 * the retention lease at a time; old Nova follower bookkeeping is pruned.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Timestamp } from '../../src/domain/timestamp.js'
import type { Stores } from '../../src/store/open-store.js'
import {
  BACKEND_NAMES,
  backendProblem,
  openFreshStores,
  REQUIRE_BACKENDS,
} from '../helpers/backends.js'
import { TestStore } from '../helpers/store-ops.js'

const two = (n: number) => String(n).padStart(2, '0')
/** Midnight of day `d` of January 2026, plus `s` seconds. */
const day = (d: number, s = 0) =>
  `2026-01-${two(d)}T00:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}.000000` as Timestamp
const vm = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

/**
 * Instance `n` of project `project` with `actions` actions of two finished events each, deleted
 * on day `deletedOn` (live when undefined).
 */
async function seedInstance(
  store: TestStore,
  n: number,
  project: string,
  actions: number,
  deletedOn?: number,
): Promise<void> {
  const uuid = vm(n)
  await store.putInstance({ uuid, name: `vm${n}`, projectId: project, userId: 'u', now: day(1) })
  for (let a = 0; a < actions; a++) {
    const requestId = `req-${n}-${a}`
    const t = day(1, a * 3 + 1)
    const ops = [
      {
        op: 'action_start' as const,
        values: {
          instanceUuid: uuid,
          action: 'reboot',
          requestId,
          userId: 'u',
          projectId: project,
          startTime: t,
          createdAt: t,
        },
      },
      ...['compute_a', 'compute_b'].flatMap((event) => [
        {
          op: 'event_start' as const,
          values: { instanceUuid: uuid, requestId, event, host: 'h1', startTime: t, createdAt: t },
        },
        {
          op: 'event_finish' as const,
          values: {
            instanceUuid: uuid,
            requestId,
            event,
            finishTime: t,
            result: 'Success' as const,
            traceback: null,
            details: null,
            updatedAt: t,
          },
        },
      ]),
      { op: 'action_finish' as const, values: { instanceUuid: uuid, requestId, finishTime: t } },
    ]
    for (const o of await store.write(ops)) assert.ok(o.ok, JSON.stringify(o))
  }
  if (deletedOn !== undefined) await store.deleteInstance(uuid, day(deletedOn))
}

for (const name of BACKEND_NAMES) {
  const problem = await backendProblem(name)
  if (problem && REQUIRE_BACKENDS) {
    test(`retention: ${name} (required by ACTIONTRAIL_REQUIRE_BACKENDS=1)`, () =>
      assert.fail(problem))
    continue
  }
  describe(`retention: ${name}`, { skip: problem ?? false }, () => {
    test('archive moves deleted instances before the cut-off, with ids, in batches; purge deletes them', async (t) => {
      const [stores] = (await openFreshStores(t, name)) as [Stores]
      const store = new TestStore(stores.actions)
      await seedInstance(store, 1, 'p1', 5, 2) // deleted on day 2: archived
      await seedInstance(store, 2, 'p2', 2, 3) // deleted on day 3: archived
      await seedInstance(store, 3, 'p1', 2, 20) // deleted after the cut-off: stays
      await seedInstance(store, 4, 'p1', 2) // live: stays
      const live1 = await store.listActions(vm(1), {})
      const events1 = await store.listEventsOfActions(live1.map((a) => a.id))
      const cut = day(10)

      const expected = { instances: 2, actions: 7, events: 14 }
      assert.deepEqual(await stores.retention.countArchivable(cut), expected)
      // The dry run's reads changed nothing.
      assert.deepEqual(await stores.retention.countArchivable(cut), expected)
      const head = await stores.changes.head()

      const batches: number[] = []
      const moved = await stores.retention.archive({
        before: cut,
        batchActions: 3,
        onBatch: (c) => batches.push(c.actions),
      })
      assert.deepEqual(moved, expected)
      assert.deepEqual(batches, [3, 6, 7, 7], 'batches of at most 3 actions, then one empty')

      // Gone from the live tables, as Nova after archive_deleted_rows.
      assert.equal(await store.getInstance(vm(1)), undefined)
      assert.equal(await store.getInstance(vm(2)), undefined)
      assert.deepEqual(await store.listActions(vm(1), {}), [])
      assert.equal((await store.listActions(vm(3), {})).length, 2)
      assert.equal((await store.listActions(vm(4), {})).length, 2)
      assert.deepEqual(await stores.retention.countArchivable(cut), {
        instances: 0,
        actions: 0,
        events: 0,
      })
      // In the shadow tables with their ids and every column.
      const archived = await store.searchActions({ archived: true, instanceUuid: vm(1), limit: 50 })
      assert.deepEqual(
        [...archived].sort((a, b) => a.id - b.id),
        [...live1].sort((a, b) => a.id - b.id),
      )
      assert.deepEqual(
        await store.listEventsOfActions(
          live1.map((a) => a.id),
          { archived: true },
        ),
        events1,
      )
      const archivedEvents = await store.searchEvents({
        archived: true,
        ownerProjectId: 'p2',
        limit: 50,
      })
      assert.equal(archivedEvents.length, 4)
      assert.ok(
        archivedEvents.every((e) => e.instanceUuid === vm(2) && e.requestId.startsWith('req-2-')),
      )
      assert.equal((await store.searchActions({ archived: true, limit: 50 })).length, 7)

      // One `archive` change per action moved, with its owner project.
      const notes = await stores.changes.readChanges(head, 100)
      assert.equal(notes.length, 7)
      assert.ok(notes.every((c) => c.kind === 'archive' && c.eventId === null))
      assert.deepEqual(
        notes.filter((c) => c.instanceUuid === vm(2)).map((c) => c.ownerProject),
        ['p2', 'p2'],
      )
      assert.deepEqual(
        new Set(notes.filter((c) => c.instanceUuid === vm(1)).map((c) => c.actionId)),
        new Set(live1.map((a) => a.id)),
      )

      // A second run finds nothing more.
      assert.deepEqual(await stores.retention.archive({ before: cut }), {
        instances: 0,
        actions: 0,
        events: 0,
      })

      // Purge: by deletion time, then all.
      assert.deepEqual(await stores.retention.countPurgeable(day(3)), {
        instances: 1,
        actions: 5,
        events: 10,
      })
      const purgeHead = await stores.changes.head()
      assert.deepEqual(await stores.retention.purge({ before: day(3), batchActions: 2 }), {
        instances: 1,
        actions: 5,
        events: 10,
      })
      const purged = await stores.changes.readChanges(purgeHead, 100)
      assert.equal(purged.length, 5)
      assert.ok(purged.every((c) => c.kind === 'purge' && c.ownerProject === 'p1'))
      assert.deepEqual(
        await store.searchActions({ archived: true, instanceUuid: vm(1), limit: 50 }),
        [],
      )
      assert.deepEqual(await stores.retention.countPurgeable(null), {
        instances: 1,
        actions: 2,
        events: 4,
      })
      assert.deepEqual(await stores.retention.purge({ before: null }), {
        instances: 1,
        actions: 2,
        events: 4,
      })
      assert.deepEqual(await store.searchActions({ archived: true, limit: 50 }), [])
      // The live history is untouched.
      assert.equal((await store.searchActions({ limit: 50 })).length, 4)
    })

    test('--max-rows bounds a run; a partly archived instance stays until its last action moves', async (t) => {
      const [stores] = (await openFreshStores(t, name)) as [Stores]
      const store = new TestStore(stores.actions)
      await seedInstance(store, 1, 'p1', 5, 2)
      const first = await stores.retention.archive({ before: day(10), maxRows: 3, batchActions: 2 })
      assert.deepEqual(first, { instances: 0, actions: 3, events: 6 })
      assert.ok(await store.getInstance(vm(1)), 'still an instance: two actions left')
      assert.equal((await store.listActions(vm(1), {})).length, 2)
      const rest = await stores.retention.archive({ before: day(10) })
      assert.deepEqual(rest, { instances: 1, actions: 2, events: 4 })
      assert.equal(await store.getInstance(vm(1)), undefined)
    })

    test('time-bounded batches: a slow batch makes the next smaller, fast ones grow it up to the cap', async (t) => {
      const [stores] = (await openFreshStores(t, name)) as [Stores]
      const store = new TestStore(stores.actions)
      await seedInstance(store, 1, 'p1', 12, 2)
      await seedInstance(store, 2, 'p1', 8, 3)
      // A clock the test drives: each batch "takes" the next of these milliseconds (then 1 ms),
      // so the sizes do not depend on how fast this machine is.
      const durations = [20, 20, 1, 1, 1]
      let now = 0
      let calls = 0
      const clock = () => {
        if (calls++ % 2 === 1) now += durations.shift() ?? 1
        return now
      }
      const totals: number[] = []
      const moved = await stores.retention.archive({
        before: day(10),
        batchMs: 10,
        batchActions: 6,
        clock,
        onBatch: (c) => totals.push(c.actions),
      })
      assert.deepEqual(moved, { instances: 2, actions: 20, events: 40 })
      const sizes = totals.map((n, i) => n - (totals[i - 1] ?? 0))
      // First 4 (nothing measured yet); 4 in 20 ms of a 10 ms budget: 2; then 1; 1 in 1 ms: at
      // most double, 2; then 4; then 8, capped at 6; the rest; one empty batch ends the run.
      assert.deepEqual(sizes, [4, 2, 1, 2, 4, 6, 1, 0])
    })

    test('writers on live instances keep succeeding while an archive runs; nothing acknowledged is lost', async (t) => {
      const [stores] = (await openFreshStores(t, name)) as [Stores]
      const store = new TestStore(stores.actions)
      for (let n = 1; n <= 6; n++) await seedInstance(store, n, 'p1', 10, 2)
      await store.putInstance({
        uuid: vm(99),
        name: 'live',
        projectId: 'p1',
        userId: 'u',
        now: day(1),
      })
      let running = true
      const acknowledged: string[] = []
      const writer = (async () => {
        for (let i = 0; running || i < 20; i++) {
          const requestId = `live-${i}`
          const [o] = await store.write([
            {
              op: 'action_start',
              values: {
                instanceUuid: vm(99),
                action: 'reboot',
                requestId,
                userId: 'u',
                projectId: 'p1',
                startTime: day(15, i % 3600),
                createdAt: day(15, i % 3600),
              },
            },
          ])
          assert.ok(o?.ok, JSON.stringify(o))
          acknowledged.push(requestId)
        }
      })()
      const moved = await stores.retention.archive({ before: day(10), batchActions: 4 })
      running = false
      await writer
      assert.deepEqual(moved, { instances: 6, actions: 60, events: 120 })
      const stored = await store.listActions(vm(99), {})
      assert.deepEqual(new Set(stored.map((a) => a.requestId)), new Set(acknowledged))
    })

    test('one node of two holds the retention lease; it renews it; another takes it once released', async (t) => {
      const [a, b] = (await openFreshStores(t, name, 2)) as [Stores, Stores]
      const [gotA, gotB] = await Promise.all([
        a.retention.takeLease('node-a', 60_000),
        b.retention.takeLease('node-b', 60_000),
      ])
      assert.equal(Number(gotA) + Number(gotB), 1, 'exactly one node gets the lease')
      const [holder, other] = gotA ? [a, b] : [b, a]
      const [holderName, otherName] = gotA ? ['node-a', 'node-b'] : ['node-b', 'node-a']
      assert.equal(await holder.retention.takeLease(holderName, 60_000), true, 'renewed')
      assert.equal(await other.retention.takeLease(otherName, 60_000), false)
      await holder.retention.releaseLease(holderName)
      assert.equal(await other.retention.takeLease(otherName, 60_000), true)
      assert.equal(await holder.retention.takeLease(holderName, 60_000), false)
      // An expired lease is taken over.
      assert.equal(await other.retention.takeLease(otherName, -1000), true)
      assert.equal(await holder.retention.takeLease(holderName, 60_000), true)
    })

    test('old Nova message ids and request faults are pruned', async (t) => {
      const [stores] = (await openFreshStores(t, name)) as [Stores]
      const store = new TestStore(stores.actions)
      for (let i = 0; i < 5; i++)
        await store.write([
          {
            op: 'message_receipt',
            values: { messageId: `m-${i}`, seenAt: day(i < 3 ? 1 : 20) },
          },
        ])
      await store.write([
        {
          op: 'request_fault',
          values: {
            requestId: 'req-x',
            host: 'h1',
            failedAt: day(1),
            details: null,
            traceback: null,
            createdAt: day(1),
          },
        },
      ])
      const pruned = await stores.retention.pruneNova(day(10), 2)
      assert.deepEqual(pruned, { nova_messages: 3, nova_request_faults: 1 })
      assert.deepEqual(await stores.retention.pruneNova(day(10)), {
        nova_messages: 0,
        nova_request_faults: 0,
      })
      // The recent ids are still known: a redelivery of one is recognised.
      const [again] = await store.write([
        { op: 'message_receipt', values: { messageId: 'm-4', seenAt: day(21) } },
      ])
      assert.ok(again?.ok && !again.created)
    })
  })
}
