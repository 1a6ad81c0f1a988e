/**
 * Issue 12 item 4: the database import and the live follower together give one clean history,
 * with no duplicates and no gaps (docs/nova-integration.md, "Three sources, one history"). A Nova
 * cell database (schema by Nova's migrations) and the notifications Nova would have sent for the
 * same actions (same uuids, request ids and hosts, times inside the database's) are given to a
 * follower on the real RabbitMQ while the import runs over the same actions in small batches. The
 * result must equal the store made by applying the two sources one after the other, in either
 * order, and hold the invariants directly: one action per (instance, request id), one event per
 * (action, event, host), every database event and every notification's event present, and spec
 * §3.3 rule 7 (confirmResize then delete under one request: one action, `delete`, with both
 * events).
 *
 * The fixture covers the cases where the sources differ: events only the database has
 * (conductor_*, api_lock), a name the follower can only guess (`resize` for Nova's `migrate`), an
 * action running in the database and finished by notifications, a failure only a notification
 * reports (create.error while Nova's build event says Success, spec §4.3), an action only the
 * database has (changePassword) and one only the notifications have (newer than the copy).
 *
 * Compared (the dump below): what Nova's API and the /v1 reads show, in listing order, without
 * store ids, creation times of records only the follower made (its clock), and writer tags (which
 * source recorded first).
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import type { ActionService } from '../../src/domain/action-service.js'
import type { ActionEvent } from '../../src/domain/instance-action.js'
import { createActionService } from '../../src/local-service.js'
import { memoryCheckpoint } from '../../src/nova/db-import/import-checkpoint.js'
import { importNovaCells } from '../../src/nova/db-import/nova-db-import.js'
import { openNovaCell } from '../../src/nova/db-import/open-cell.js'
import { createNotificationHandler } from '../../src/nova/notifications/notification-handler.js'
import type { ActionStore } from '../../src/store/action-store.js'
import { backendProblem, openFreshStores, REQUIRE_BACKENDS } from '../helpers/backends.js'
import { rig, waitFor } from '../helpers/follower-rig.js'
import { captureLogger } from '../helpers/log-capture.js'
import {
  insertNovaRows,
  novaSkip,
  novaSqliteCell,
  sqliteExec,
  type NovaRows,
} from '../helpers/nova-cell.js'
import {
  NOVA_PROJECT,
  NOVA_USER,
  notificationBody,
  routingKeyOf,
  type NotificationSpec,
} from '../helpers/nova-notifications.js'
import { rabbitSkip } from '../helpers/rabbitmq.js'

const skip = novaSkip() || (await rabbitSkip())

const two = (n: number) => String(n).padStart(2, '0')
/** Second `s` (and a fraction) of the history, as Nova on SQLite and oslo.messaging write it. */
const at = (s: number, micro = 0) =>
  `2024-02-01 10:${two(Math.floor(s / 60))}:${two(s % 60)}.${String(micro).padStart(6, '0')}`

/** One Nova action as both sources know it. */
interface Step {
  action: string
  requestId: string
  start: number
  /** The database's events: [event, host, start, finish or null, result]. */
  events: [string, string, number, number | null, string | null][]
  /** The notifications: [event type, host, second]; times are half a second in. */
  notes: [string, string, number][]
  /** Only one source has it. */
  only?: 'db' | 'notifications'
}

/** The history of instance `i`: odd ones are deleted while waiting for resize confirmation. */
function steps(i: number): Step[] {
  const req = (what: string) => `req-${randomUUID().slice(0, 8)}-0000-4000-8000-00000000000${what}`
  const failedBuild = i === 1
  const out: Step[] = [
    {
      action: 'create',
      requestId: req('1'),
      start: 0,
      events: [
        ['conductor_schedule_and_build_instances', 'conductor-1', 0, 1, 'Success'],
        ['compute__do_build_and_run_instance', 'cmp-1', 2, 6, 'Success'],
      ],
      notes: [
        ['instance.create.start', 'cmp-1', 2],
        [failedBuild ? 'instance.create.error' : 'instance.create.end', 'cmp-1', 5],
      ],
    },
    {
      action: 'migrate',
      requestId: req('2'),
      start: 10,
      events: [
        ['conductor_migrate_server', 'conductor-1', 10, 11, 'Success'],
        ['compute_prep_resize', 'cmp-2', 12, 13, 'Success'],
        ['compute_resize_instance', 'cmp-1', 14, 15, 'Success'],
        ['compute_finish_resize', 'cmp-2', 16, 17, 'Success'],
      ],
      // No flavors in these payloads: the follower can only guess `resize`.
      notes: [
        ['instance.resize_prep.start', 'cmp-2', 12],
        ['instance.resize_prep.end', 'cmp-2', 12],
        ['instance.resize.start', 'cmp-1', 14],
        ['instance.resize.end', 'cmp-1', 14],
        ['instance.resize_finish.start', 'cmp-2', 16],
        ['instance.resize_finish.end', 'cmp-2', 16],
      ],
    },
    {
      action: 'lock',
      requestId: req('3'),
      start: 20,
      events: [['api_lock', 'api-1', 20, 20, 'Success']],
      notes: [['instance.lock', 'api-1', 20]],
    },
    {
      // Running when the database was copied; its end only on the bus.
      action: 'reboot',
      requestId: req('4'),
      start: 30,
      events: [['compute_reboot_instance', 'cmp-2', 30, null, null]],
      notes: [
        ['instance.reboot.start', 'cmp-2', 30],
        ['instance.reboot.end', 'cmp-2', 31],
      ],
    },
    {
      action: 'changePassword',
      requestId: req('5'),
      start: 40,
      events: [['compute_set_admin_password', 'cmp-2', 40, 41, 'Success']],
      notes: [],
      only: 'db',
    },
  ]
  if (i % 2 === 1) {
    const requestId = req('6')
    out.push(
      {
        action: 'confirmResize',
        requestId,
        start: 50,
        events: [['compute_confirm_resize', 'cmp-1', 51, 52, 'Success']],
        notes: [
          ['instance.resize_confirm.start', 'cmp-1', 51],
          ['instance.resize_confirm.end', 'cmp-1', 51],
        ],
      },
      {
        action: 'delete',
        requestId,
        start: 53,
        events: [['compute_terminate_instance', 'cmp-2', 54, 56, 'Success']],
        notes: [
          ['instance.delete.start', 'cmp-2', 54],
          ['instance.delete.end', 'cmp-2', 55],
        ],
      },
    )
  } else {
    out.push({
      action: 'stop',
      requestId: req('7'),
      start: 60,
      events: [],
      notes: [
        ['instance.power_off.start', 'cmp-1', 60],
        ['instance.power_off.end', 'cmp-1', 61],
      ],
      only: 'notifications',
    })
  }
  return out
}

interface Fixture {
  rows: NovaRows
  notes: NotificationSpec[]
  uuids: string[]
  steps: Map<string, Step[]>
}

function fixture(instances: number): Fixture {
  const fx: Fixture = {
    rows: { instances: [], actions: [], events: [] },
    notes: [],
    uuids: [],
    steps: new Map(),
  }
  let actionId = 0
  let eventId = 0
  for (let i = 0; i < instances; i++) {
    const uuid = randomUUID()
    const history = steps(i)
    fx.uuids.push(uuid)
    fx.steps.set(uuid, history)
    const deleted = i % 2 === 1
    fx.rows.instances.push({
      id: i + 1,
      uuid,
      display_name: `vm-${i}`,
      project_id: NOVA_PROJECT,
      user_id: NOVA_USER,
      created_at: at(0),
      updated_at: at(56),
      deleted_at: deleted ? at(56) : null,
      deleted: deleted ? i + 1 : 0,
    })
    for (const step of history) {
      if (step.only !== 'notifications') {
        actionId += 1
        const times = step.events.flatMap(([, , s, f]) => (f === null ? [s] : [s, f]))
        fx.rows.actions.push({
          id: actionId,
          action: step.action,
          instance_uuid: uuid,
          request_id: step.requestId,
          user_id: NOVA_USER,
          project_id: NOVA_PROJECT,
          start_time: at(step.start),
          finish_time: null,
          message: null,
          created_at: at(step.start),
          updated_at: at(Math.max(step.start, ...times)),
        })
        for (const [event, host, start, finish, result] of step.events)
          fx.rows.events.push({
            id: ++eventId,
            action_id: actionId,
            event,
            start_time: at(start),
            finish_time: finish === null ? null : at(finish),
            result,
            traceback: null,
            host,
            details: null,
            created_at: at(start),
            updated_at: finish === null ? null : at(finish),
          })
      }
      if (step.only !== 'db')
        for (const [eventType, host, second] of step.notes)
          fx.notes.push({
            eventType,
            uuid,
            requestId: step.requestId,
            host,
            timestamp: at(second, eventType.endsWith('.start') ? 500000 : 900000),
            ...(eventType.endsWith('.error')
              ? {
                  fault: {
                    message: 'Build failed: password=hunter2',
                    traceback: 'Traceback (most recent call last):\nValueError: password=hunter2',
                  },
                }
              : {}),
          })
    }
  }
  return fx
}

/** A fixed shuffle (the notifications of one request arrive out of order, §5.4). */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items]
  let seed = 7
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 48271) % 2147483647
    const j = seed % (i + 1)
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

/** What a reader sees of the fixture's instances (see the file header). */
async function dump(service: ActionService, fx: Fixture): Promise<unknown> {
  const out: Record<string, unknown> = {}
  for (const uuid of fx.uuids) {
    const instance = await service.getInstance(uuid)
    const actions = []
    for (const a of await service.listActions(uuid, { limit: 100 })) {
      const shown = await service.getAction(uuid, a.requestId)
      const inDb = fx.rows.actions.some((r) => r.request_id === a.requestId)
      actions.push({
        ...a,
        id: undefined,
        writtenBy: undefined,
        // The follower's own clock, for an action only it knows.
        createdAt: inDb ? a.createdAt : undefined,
        events: shown?.events.map((e) => ({
          ...e,
          id: undefined,
          actionId: undefined,
          createdAt: undefined,
          updatedAt: undefined,
          writtenBy: undefined,
          finishedBy: undefined,
        })),
      })
    }
    out[uuid] = { ...instance, updatedAt: undefined, actions }
  }
  return out
}

async function importCell(store: ActionStore, cell: string, batchSize: number): Promise<void> {
  const source = await openNovaCell(`sqlite:${cell}`)
  try {
    await importNovaCells({ store, cells: [source], checkpoint: memoryCheckpoint(), batchSize })
  } finally {
    await source.close()
  }
}

async function serviceOn(t: TestContext, backend: 'sqlite-file' | 'postgres' | 'mysql') {
  const [stores] = await openFreshStores(t, backend)
  assert.ok(stores)
  return { store: stores.actions, service: createActionService(stores.actions) }
}

for (const backend of ['sqlite-file', 'postgres', 'mysql'] as const) {
  const problem = skip || (await backendProblem(backend))
  if (problem && REQUIRE_BACKENDS) {
    test(`three sources: ${backend} (required by ACTIONTRAIL_REQUIRE_BACKENDS=1)`, () =>
      assert.fail(problem))
    continue
  }
  describe(`three Nova sources converge: ${backend}`, { skip: problem || false }, () => {
    test('follower and database import at once equal either one after the other', async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'nova-converge-'))
      t.after(() => rmSync(dir, { recursive: true, force: true }))
      const fx = fixture(6)
      const cell = novaSqliteCell(dir)
      const w = sqliteExec(cell)
      await insertNovaRows(w.exec, fx.rows)
      w.close()
      const bodies = fx.notes.map((n) => notificationBody({ ...n, messageId: randomUUID() }))

      // Both at once: the follower on RabbitMQ, the import in batches of five actions (the last
      // instance's confirmResize/delete pair is split over two batches: ids 35 and 36).
      const live = await serviceOn(t, backend)
      const handler = createNotificationHandler({
        service: live.service,
        log: captureLogger().logger,
      })
      const r = await rig(t, handler, { prefetch: 8 })
      await r.follower.whenConsuming()
      const order = shuffled(bodies.map((b, i) => i))
      // A few published twice (a publisher retry): recognised by their message id.
      const published = [...order, ...order.slice(0, 5)]
      const importing = importCell(live.store, cell, 5)
      for (const i of published) r.nova.publishRaw(routingKeyOf(fx.notes[i]!.eventType), bodies[i]!)
      await r.nova.confirmed()
      await importing
      await waitFor(
        'every notification handled',
        () => r.follower.counters.applied + r.follower.counters.duplicate === published.length,
        60_000,
      )
      assert.equal(r.follower.counters.deadLettered, 0, r.logs())
      assert.equal(r.follower.counters.duplicate, 5)

      // One after the other, both ways.
      const dbFirst = await serviceOn(t, backend)
      await importCell(dbFirst.store, cell, 1000)
      const dbFirstHandler = createNotificationHandler({
        service: dbFirst.service,
        log: captureLogger().logger,
      })
      for (const body of bodies) assert.equal((await dbFirstHandler.handle(body)).kind, 'applied')
      const notesFirst = await serviceOn(t, backend)
      const notesFirstHandler = createNotificationHandler({
        service: notesFirst.service,
        log: captureLogger().logger,
      })
      for (const body of [...bodies].reverse())
        assert.equal((await notesFirstHandler.handle(body)).kind, 'applied')
      await importCell(notesFirst.store, cell, 1000)
      // …and the import once more on top: nothing changes.
      await importCell(live.store, cell, 3)

      const expected = await dump(dbFirst.service, fx)
      assert.deepEqual(await dump(notesFirst.service, fx), expected, 'notifications, then import')
      assert.deepEqual(await dump(live.service, fx), expected, 'both at once')
      await assertInvariants(live.service, fx)
    })
  })
}

const apiTime = (nova: string) => nova.replace(' ', 'T')

/** The invariants of the file header, checked on the store directly. */
async function assertInvariants(service: ActionService, fx: Fixture): Promise<void> {
  for (const uuid of fx.uuids) {
    const instance = await service.getInstance(uuid)
    const row = fx.rows.instances.find((i) => i.uuid === uuid)!
    assert.equal(instance?.name, row.display_name, "Nova's name, not the follower's placeholder")
    assert.equal(instance?.createdAt, apiTime(row.created_at))
    assert.equal(instance?.deletedAt, row.deleted_at && apiTime(row.deleted_at))
    const listed = await service.listActions(uuid, { limit: 100 })
    const requests = listed.map((a) => a.requestId)
    assert.equal(new Set(requests).size, requests.length, 'one action per (instance, request id)')
    const history = fx.steps.get(uuid)!
    assert.equal(listed.length, new Set(history.map((s) => s.requestId)).size)
    for (const step of history) {
      const shown = await service.getAction(uuid, step.requestId)
      assert.ok(shown, step.action)
      const keys = shown.events.map((e) => `${e.event}@${e.host}`)
      assert.equal(new Set(keys).size, keys.length, 'one event per (action, event, host)')
      // (A step only the notifications have lists no database events.)
      for (const [event, host, start, finish, result] of step.events) {
        const e: ActionEvent | undefined = shown.events.find(
          (x) => x.event === event && x.host === host,
        )
        assert.ok(e, `database event ${event} of ${step.action} is there`)
        assert.equal(
          e.startTime,
          apiTime(at(start)),
          'the earliest start (the database is earlier)',
        )
        const failedBuild = step.action === 'create' && fx.uuids.indexOf(uuid) === 1
        if (finish !== null && result === 'Success' && !failedBuild)
          assert.deepEqual([e.finishTime, e.result], [apiTime(at(finish)), 'Success'])
      }
      for (const [eventType, host] of step.only === 'db' ? [] : step.notes) {
        if (eventType === 'instance.lock') continue // a marker: the action itself
        assert.ok(
          shown.events.some((e) => e.host === host && e.startTime !== null),
          `${eventType}'s event is there`,
        )
      }
    }
    // Rule 7: confirmResize then delete under one request → one action, delete, both events.
    const pair = history.filter((s) => s.action === 'confirmResize' || s.action === 'delete')
    if (pair.length === 2) {
      const shown = await service.getAction(uuid, pair[0]!.requestId)
      assert.equal(shown?.action.action, 'delete')
      assert.equal(shown?.action.startTime, apiTime(at(50)), "the older row's start")
      assert.deepEqual(shown?.events.map((e) => e.event).sort(), [
        'compute_confirm_resize',
        'compute_terminate_instance',
      ])
    }
    // The recorded name wins over the follower's guess (resize, for Nova's migrate).
    const migrate = history.find((s) => s.action === 'migrate')!
    assert.equal((await service.getAction(uuid, migrate.requestId))?.action.action, 'migrate')
    // A failure only a notification reports sticks (Nova's build event says Success).
    if (fx.uuids.indexOf(uuid) === 1) {
      const create = await service.getAction(uuid, history[0]!.requestId)
      const build = create?.events.find((e) => e.event === 'compute__do_build_and_run_instance')
      assert.equal(build?.result, 'Error')
      assert.equal(create?.action.message, 'Error')
      assert.doesNotMatch(String(build?.details), /hunter2/)
    }
  }
}
