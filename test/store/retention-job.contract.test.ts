/**
 * The server's retention job (retention/retention-job.ts) on every backend: two nodes on one
 * database run it at once and exactly one does the work (the lease); the default keep period and
 * per-project periods decide what is archived; purge-after-days deletes archived rows; the policy
 * settings are checked (retention-policy.ts).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import pino from 'pino'
import type { Timestamp } from '../../src/domain/timestamp.js'
import { RetentionJob } from '../../src/retention/retention-job.js'
import {
  resolveRetentionPolicy,
  type RetentionPolicy,
} from '../../src/retention/retention-policy.js'
import type { Stores } from '../../src/store/open-store.js'
import { timestampIn } from '../../src/store/retention-store.js'
import {
  BACKEND_NAMES,
  backendProblem,
  openFreshStores,
  REQUIRE_BACKENDS,
} from '../helpers/backends.js'
import { TestStore } from '../helpers/store-ops.js'

const DAY = 86_400_000
const vm = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`
const silent = pino({ level: 'silent' })

/** An instance of `project` with one action and one event, deleted `daysAgo` days ago. */
async function seed(store: TestStore, n: number, project: string, daysAgo: number) {
  const t = timestampIn(-(daysAgo + 1) * DAY)
  const uuid = vm(n)
  await store.putInstance({ uuid, name: `vm${n}`, projectId: project, userId: 'u', now: t })
  const values = {
    instanceUuid: uuid,
    action: 'create',
    requestId: `req-${n}`,
    userId: 'u',
    projectId: project,
    startTime: t,
    createdAt: t,
  }
  await store.startAction(values)
  await store.startEvent({
    instanceUuid: uuid,
    requestId: `req-${n}`,
    event: 'compute_build',
    host: 'h',
    startTime: t,
    createdAt: t,
  })
  await store.deleteInstance(uuid, timestampIn(-daysAgo * DAY) as Timestamp)
}

const policy = (p: Partial<RetentionPolicy>): RetentionPolicy => ({
  keepDaysByProject: [],
  intervalMs: 3_600_000,
  pauseMs: 0,
  batchMs: 5,
  batchActions: 2,
  ...p,
})

for (const name of BACKEND_NAMES) {
  const problem = await backendProblem(name)
  if (problem && REQUIRE_BACKENDS) {
    test(`retention job: ${name} (required by ACTIONTRAIL_REQUIRE_BACKENDS=1)`, () =>
      assert.fail(problem))
    continue
  }
  describe(`retention job: ${name}`, { skip: problem ?? false }, () => {
    test('two nodes run at once: exactly one does the work; keep periods per project', async (t) => {
      const [a, b] = (await openFreshStores(t, name, 2)) as [Stores, Stores]
      const store = new TestStore(a.actions)
      await seed(store, 1, 'p1', 40) // past the default 30 days: archived
      await seed(store, 2, 'p1', 20) // within 30 days: stays
      await seed(store, 3, 'short', 10) // project kept 5 days: archived
      await seed(store, 4, 'long', 100) // project kept 365 days: stays
      await seed(store, 5, 'p2', 31) // archived
      const p = policy({
        keepDays: 30,
        keepDaysByProject: [
          ['short', 5],
          ['long', 365],
        ],
      })
      const jobA = new RetentionJob(a.retention, p, silent, { holder: 'node-a' })
      const jobB = new RetentionJob(b.retention, p, silent, { holder: 'node-b' })
      t.after(() => Promise.all([jobA.stop(), jobB.stop()]))
      const reports = await Promise.all([jobA.runOnce(), jobB.runOnce()])
      const ran = reports.filter((r) => r !== undefined)
      assert.equal(ran.length, 1, 'one node ran, the other found the lease taken')
      assert.deepEqual(ran[0]?.archived, { instances: 3, actions: 3, events: 3 })
      assert.deepEqual(ran[0]?.purged, { instances: 0, actions: 0, events: 0 })
      for (const n of [1, 3, 5]) assert.equal(await store.getInstance(vm(n)), undefined)
      for (const n of [2, 4]) assert.ok(await store.getInstance(vm(n)))
      // The node that ran holds the lease until it stops; the other then takes over.
      const [first, second] = reports[0] ? [jobA, jobB] : [jobB, jobA]
      assert.equal(await second.runOnce(), undefined)
      await first.stop()
      assert.deepEqual((await second.runOnce())?.archived, { instances: 0, actions: 0, events: 0 })
    })

    test('purge-after-days deletes archived rows past it', async (t) => {
      const [stores] = (await openFreshStores(t, name)) as [Stores]
      const store = new TestStore(stores.actions)
      await seed(store, 1, 'p1', 100)
      await seed(store, 2, 'p1', 40)
      // What the server signs a checkpoint of (retention-checkpoint.ts): each removal, once.
      const removed: unknown[] = []
      const job = new RetentionJob(
        stores.retention,
        policy({ keepDays: 30, purgeAfterDays: 60 }),
        silent,
        { onRemoved: async (reason, counts) => removed.push([reason, counts]) },
      )
      t.after(() => job.stop())
      const report = await job.runOnce()
      assert.deepEqual(report?.archived, { instances: 2, actions: 2, events: 2 })
      assert.deepEqual(report?.purged, { instances: 1, actions: 1, events: 1 })
      assert.deepEqual(removed, [
        ['archive', { instances: 2, actions: 2, events: 2 }],
        ['purge', { instances: 1, actions: 1, events: 1 }],
      ])
      await job.runOnce()
      assert.equal(removed.length, 2, 'a run that removed nothing reports nothing')
      const left = await store.searchActions({ archived: true, limit: 10 })
      assert.deepEqual(
        left.map((x) => x.instanceUuid),
        [vm(2)],
      )
    })
  })
}

test('the policy from flags and environment: off by default, checked, flags over env', () => {
  assert.equal(resolveRetentionPolicy({}, {}), undefined)
  const p = resolveRetentionPolicy(
    { keepDays: '90', keepDaysProject: 'p1=30, p2=365' },
    { ACTIONTRAIL_KEEP_DAYS: '10', ACTIONTRAIL_PURGE_AFTER_DAYS: '400' },
  )
  assert.deepEqual(p, {
    keepDays: 90,
    keepDaysByProject: [
      ['p1', 30],
      ['p2', 365],
    ],
    purgeAfterDays: 400,
    intervalMs: 3_600_000,
    pauseMs: 5,
    batchMs: 5,
    batchActions: 1000,
  })
  assert.throws(() => resolveRetentionPolicy({ keepDays: '0' }, {}), /from 1 to/)
  assert.throws(() => resolveRetentionPolicy({ keepDays: 'x' }, {}), /whole number of days/)
  assert.throws(() => resolveRetentionPolicy({ keepDaysProject: 'p1' }, {}), /PROJECT=DAYS/)
  assert.throws(() => resolveRetentionPolicy({ keepDaysProject: 'p1=3,p1=4' }, {}), /twice/)
  assert.throws(
    () => resolveRetentionPolicy({ keepDays: '90', purgeAfterDays: '30' }, {}),
    /at least the longest keep period/,
  )
  assert.throws(() => resolveRetentionPolicy({ purgeAfterDays: '30' }, {}), /needs a keep period/)
})
