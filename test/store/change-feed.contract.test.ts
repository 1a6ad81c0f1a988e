/**
 * The change feed on every backend (issue 10, the stream): each change to an action or event has
 * a position; an idempotent repeat has none; and the invariant the stream relies on — with several
 * nodes (stores with their own pools and group committers) committing concurrently, a reader that
 * continues after the last position it has seen never misses a change and never gets one twice.
 * The reader polls while the writers run, and every answer must continue exactly where the last
 * one stopped: a position handed out by a transaction that committed after a larger one would show
 * up as a hole (then filled later) and fail the test.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Timestamp } from '../../src/domain/timestamp.js'
import type { StoreWrite } from '../../src/store/action-store.js'
import type { Change } from '../../src/store/change-feed.js'
import {
  BACKEND_NAMES,
  backendProblem,
  openFreshStores,
  REQUIRE_BACKENDS,
} from '../helpers/backends.js'
import { TestStore } from '../helpers/store-ops.js'

const two = (n: number) => String(n).padStart(2, '0')
/** 10:00 plus `s` seconds on 2026-01-01. */
const at = (s: number) =>
  `2026-01-01T10:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}.000000` as Timestamp
const vm = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

for (const name of BACKEND_NAMES) {
  const problem = await backendProblem(name)
  if (problem && REQUIRE_BACKENDS) {
    test(`change feed: ${name} (required by ACTIONTRAIL_REQUIRE_BACKENDS=1)`, () =>
      assert.fail(problem))
    continue
  }
  describe(`change feed: ${name}`, { skip: problem ?? false }, () => {
    test('every change to an action or event has the next position; repeats have none', async (t) => {
      const [stores] = await openFreshStores(t, name)
      assert.ok(stores)
      const store = new TestStore(stores.actions)
      const feed = stores.changes
      assert.equal(await feed.head(), 0)
      await store.putInstance({ uuid: vm(1), name: 'vm', projectId: 'p1', userId: 'u', now: at(0) })
      assert.equal(await feed.head(), 0, 'instances are not in the feed')
      const start = {
        instanceUuid: vm(1),
        action: 'reboot',
        requestId: 'req-1',
        userId: 'u',
        projectId: 'p2',
        startTime: at(1),
        createdAt: at(1),
      }
      const { action } = await store.startAction(start)
      await store.startAction(start)
      const ev = { instanceUuid: vm(1), requestId: 'req-1', event: 'compute_reboot' }
      const event = await store.startEvent({ ...ev, host: 'h', startTime: at(2), createdAt: at(2) })
      await store.startEvent({ ...ev, host: 'h', startTime: at(2), createdAt: at(2) })
      const finish = {
        ...ev,
        finishTime: at(3),
        result: 'Success' as const,
        traceback: null,
        details: null,
        updatedAt: at(3),
      }
      await store.finishEvent(finish)
      await store.finishEvent(finish)
      await store.finishAction({ instanceUuid: vm(1), requestId: 'req-1', finishTime: at(4) })
      await store.finishAction({ instanceUuid: vm(1), requestId: 'req-1', finishTime: at(5) })
      const changes = await feed.readChanges(0, 100)
      const shape = (c: Change) => [c.position, c.kind, c.actionId, c.eventId, c.ownerProject, c.at]
      assert.deepEqual(changes.map(shape), [
        [1, 'action', action.id, null, 'p1', at(1)],
        [2, 'event', action.id, event.id, 'p1', at(2)],
        [3, 'action', action.id, null, 'p1', at(2)],
        [4, 'event', action.id, event.id, 'p1', at(3)],
        [5, 'action', action.id, null, 'p1', at(3)],
        [6, 'action', action.id, null, 'p1', at(4)],
      ])
      assert.equal(await feed.head(), 6)
      assert.deepEqual(
        (await feed.readChanges(4, 1)).map((c) => c.position),
        [5],
      )
      assert.deepEqual(
        (await feed.actionsByIds([action.id])).map((a) => a.finishTime),
        [at(4)],
      )
      assert.deepEqual(
        (await feed.eventsByIds([event.id])).map((e) => e.result),
        ['Success'],
      )
    })

    test('a record changed twice in one transaction is one change', async (t) => {
      const [stores] = await openFreshStores(t, name)
      assert.ok(stores)
      const base = { instanceUuid: vm(1), requestId: 'r' }
      await stores.actions.write([
        {
          op: 'instance_put',
          values: { uuid: vm(1), name: 'vm', projectId: 'p', userId: 'u', now: at(0) },
        },
        {
          op: 'action_start',
          values: {
            ...base,
            action: 'a',
            userId: null,
            projectId: null,
            startTime: at(1),
            createdAt: at(1),
          },
        },
        {
          op: 'event_start',
          values: { ...base, event: 'e', host: null, startTime: at(1), createdAt: at(1) },
        },
        { op: 'action_finish', values: { ...base, finishTime: at(2) } },
      ])
      const changes = await stores.changes.readChanges(0, 100)
      assert.deepEqual(
        changes.map((c) => [c.position, c.kind, c.at]),
        [
          [1, 'action', at(2)],
          [2, 'event', at(1)],
        ],
      )
    })

    test('concurrent writers on several nodes: a reader never sees a hole, never a change twice', async (t) => {
      const nodes = await openFreshStores(t, name, 3)
      const first = nodes[0]
      assert.ok(first)
      const instances = 6
      for (let i = 0; i < instances; i++)
        await first.actions.write([
          {
            op: 'instance_put',
            values: {
              uuid: vm(i),
              name: `vm${i}`,
              projectId: `p${i % 2}`,
              userId: 'u',
              now: at(0),
            },
          },
        ])
      // Each worker writes the lifecycle of its actions one write at a time, many workers per node
      // at once, so group commits of different sizes interleave on every node.
      const perWorker = name === 'sqlite-memory' ? 25 : 15
      const workersPerNode = 8
      let expected = 0
      const workers: Promise<void>[] = []
      nodes.forEach((node, n) => {
        for (let w = 0; w < workersPerNode; w++) {
          workers.push(
            (async () => {
              for (let k = 0; k < perWorker; k++) {
                const instanceUuid = vm((n + w + k) % instances)
                const requestId = `req-${n}-${w}-${k}`
                const base = { instanceUuid, requestId }
                const ops: StoreWrite[] = [
                  {
                    op: 'action_start',
                    values: {
                      ...base,
                      action: 'a',
                      userId: null,
                      projectId: null,
                      startTime: at(k),
                      createdAt: at(k),
                    },
                  },
                  {
                    op: 'event_start',
                    values: { ...base, event: 'e', host: null, startTime: at(k), createdAt: at(k) },
                  },
                  {
                    op: 'event_finish',
                    values: {
                      ...base,
                      event: 'e',
                      finishTime: at(k + 1),
                      result: 'Success',
                      traceback: null,
                      details: null,
                      updatedAt: at(k + 1),
                    },
                  },
                  { op: 'action_finish', values: { ...base, finishTime: at(k + 2) } },
                ]
                for (const op of ops) {
                  const [outcome] = await node.actions.write([op])
                  assert.equal(outcome?.ok, true)
                }
              }
            })(),
          )
        }
      })
      // Per lifecycle: action start (1), event start (event + action), event finish (event +
      // action), action finish (1).
      expected = nodes.length * workersPerNode * perWorker * 6
      let done = false
      const all = Promise.all(workers).finally(() => {
        done = true
      })
      const seen: number[] = []
      const reader = nodes[nodes.length - 1] ?? first
      let last = 0
      let polls = 0
      while (!done || last < expected) {
        const page = await reader.changes.readChanges(last, 37)
        polls++
        for (const c of page) {
          assert.equal(c.position, last + 1, `after ${last} the feed answered ${c.position}`)
          last = c.position
          seen.push(c.position)
        }
        if (page.length === 0) await new Promise((r) => setTimeout(r, 2))
        if (done && page.length === 0 && last >= expected) break
        assert.ok(polls < 1_000_000)
      }
      await all
      assert.equal(seen.length, expected)
      assert.equal(await reader.changes.head(), expected)
      // Resuming from any earlier position gives exactly the rest.
      for (const from of [0, 1, Math.floor(expected / 3), expected - 1, expected]) {
        let pos = from
        const got: number[] = []
        for (;;) {
          const page = await first.changes.readChanges(pos, 500)
          if (page.length === 0) break
          for (const c of page) got.push(c.position)
          pos = page.at(-1)?.position ?? pos
        }
        assert.deepEqual(got, seen.slice(from))
      }
    })
  })
}
