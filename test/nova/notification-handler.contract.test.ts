/**
 * The Nova notification handler on every backend: the rebuilding rules of spec
 * nova-notifications.md §4 and the delivery realities of §5.4 (out of order, an error without a
 * start, a start without an end, several hosts, duplicates), the message-id receipt, and the
 * context whitelist (a token is neither stored nor logged).
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import { sql } from 'kysely'
import { createActionService } from '../../src/local-service.js'
import { createNotificationHandler } from '../../src/nova/notifications/notification-handler.js'
import { openDatabase, openStores } from '../../src/store/open-store.js'
import {
  BACKEND_NAMES,
  backendProblem,
  freshDatabase,
  REQUIRE_BACKENDS,
} from '../helpers/backends.js'
import { captureLogger } from '../helpers/log-capture.js'
import { novaHandlerHarness } from '../helpers/nova-handler.js'
import { loadSample, novaBody } from '../helpers/nova-samples.js'

const TOKEN = 'gAAAAABfakeKeystoneTokenThatMustNeverBeStored0123456789'

for (const name of BACKEND_NAMES) {
  const problem = await backendProblem(name)
  if (problem && REQUIRE_BACKENDS) {
    test(`nova handler: ${name} (required by ACTIONTRAIL_REQUIRE_BACKENDS=1)`, () =>
      assert.fail(problem))
    continue
  }
  describe(`nova notification handler: ${name}`, { skip: problem ?? false }, () => {
    test('an .end before its .start: times come from the envelope, the earlier start wins', async (t) => {
      const h = await novaHandlerHarness(t, name)
      assert.equal(
        (await h.send('instance-reboot-end.json', { timestamp: '2026-03-01 10:00:09.5' })).kind,
        'applied',
      )
      assert.equal(
        (await h.send('instance-reboot-start.json', { timestamp: '2026-03-01 10:00:02' })).kind,
        'applied',
      )
      const shown = await h.service.getAction(h.uuid, h.requestId)
      assert.ok(shown)
      assert.equal(shown.action.action, 'reboot')
      assert.equal(shown.action.startTime, '2026-03-01T10:00:02.000000')
      assert.equal(shown.action.finishTime, '2026-03-01T10:00:09.500000')
      assert.equal(shown.action.userId, 'fake', 'the initiator, from action_initiator_user')
      assert.equal(shown.events.length, 1)
      const [event] = shown.events
      assert.equal(event?.startTime, '2026-03-01T10:00:02.000000')
      assert.equal(event?.finishTime, '2026-03-01T10:00:09.500000')
      assert.equal(event?.result, 'Success')
      assert.equal(event?.host, 'compute')
      const instance = await h.service.getInstance(h.uuid)
      assert.equal(
        instance?.projectId,
        '6f70656e737461636b20342065766572',
        'the owner, from tenant_id',
      )
      assert.equal(instance?.name, h.uuid, 'no display name is stored')
    })

    test('an .error without a .start makes the action and a failed event, sanitized', async (t) => {
      const h = await novaHandlerHarness(t, name)
      const secret = 'password=hunter2 at /home/nova/venv/lib/python3/site-packages/nova/x.py'
      await h.send('instance-reboot-error.json', {
        data: {
          fault: {
            'nova_object.data': {
              exception: 'Boom',
              exception_message: `${'é'.repeat(300)} ${secret}`,
              traceback:
                'Traceback (most recent call last):\n' +
                '  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 1\n' +
                `Boom: ${secret}`,
            },
          },
        },
      })
      const shown = await h.service.getAction(h.uuid, h.requestId)
      assert.ok(shown)
      assert.equal(shown.action.message, 'Error')
      const [event] = shown.events
      assert.equal(event?.result, 'Error')
      assert.ok(event?.details && Buffer.byteLength(event.details) <= 255)
      assert.ok(!event?.traceback?.includes('hunter2'), 'the traceback is sanitized')
      assert.equal(event?.startTime, event?.finishTime)
    })

    test('a .start merged after its .end keeps the writer that finished the event', async (t) => {
      const h = await novaHandlerHarness(t, name)
      await h.send('instance-reboot-end.json', { timestamp: '2026-03-01 10:00:09' })
      await h.send('instance-reboot-start.json', { timestamp: '2026-03-01 10:00:02' })
      const [event] = (await h.service.getAction(h.uuid, h.requestId))?.events ?? []
      assert.equal(event?.startTime, '2026-03-01T10:00:02.000000', 'the start was merged')
      assert.ok(event?.writtenBy, 'the follower tags what it writes')
      assert.equal(event?.finishedBy, event?.writtenBy, 'finished_by is not erased by the start')
    })

    test('a .start without an .end leaves the event (and the action) open', async (t) => {
      const h = await novaHandlerHarness(t, name)
      await h.send('instance-power_off-start.json')
      const shown = await h.service.getAction(h.uuid, h.requestId)
      assert.equal(shown?.action.finishTime, null)
      assert.equal(shown?.events[0]?.finishTime, null)
      assert.equal(shown?.events[0]?.result, null)
    })

    test('several .starts on different hosts: one action, one event per host', async (t) => {
      const h = await novaHandlerHarness(t, name)
      await h.send('instance-create-start.json', {
        publisherId: 'nova-compute:a',
        timestamp: '2026-03-01 10:00:01',
      })
      await h.send('instance-create-error.json', {
        publisherId: 'nova-compute:a',
        timestamp: '2026-03-01 10:00:02',
      })
      await h.send('instance-create-end.json', {
        publisherId: 'nova-compute:b',
        timestamp: '2026-03-01 10:00:09',
      })
      await h.send('instance-create-start.json', {
        publisherId: 'nova-compute:b',
        timestamp: '2026-03-01 10:00:03',
      })
      const shown = await h.service.getAction(h.uuid, h.requestId)
      assert.ok(shown)
      const byHost = new Map(shown.events.map((e) => [e.host, e]))
      assert.equal(shown.events.length, 2)
      assert.equal(byHost.get('a')?.result, 'Error')
      assert.equal(byHost.get('a')?.startTime, '2026-03-01T10:00:01.000000')
      assert.equal(byHost.get('b')?.result, 'Success')
      assert.equal(byHost.get('b')?.startTime, '2026-03-01T10:00:03.000000')
      assert.equal(shown.action.finishTime, '2026-03-01T10:00:09.000000')
    })

    test('a duplicate message_id is recognised and changes nothing, even in flight at once', async (t) => {
      const h = await novaHandlerHarness(t, name)
      const messageId = randomUUID()
      const first = await h.send('instance-create-start.json', {
        messageId,
        publisherId: 'nova-compute:a',
      })
      assert.deepEqual(first, { kind: 'applied', writes: 3 })
      await h.send('instance-create-start.json', { publisherId: 'nova-compute:b' })
      const before = await h.service.getAction(h.uuid, h.requestId)
      assert.deepEqual(
        await h.send('instance-create-start.json', { messageId, publisherId: 'nova-compute:a' }),
        { kind: 'duplicate' },
      )
      assert.deepEqual(await h.service.getAction(h.uuid, h.requestId), before)
      const errorId = randomUUID()
      const both = await Promise.all([
        h.send('instance-create-error.json', { messageId: errorId, publisherId: 'nova-compute:a' }),
        h.send('instance-create-error.json', { messageId: errorId, publisherId: 'nova-compute:a' }),
      ])
      assert.deepEqual(both.map((r) => r.kind).sort(), ['applied', 'duplicate'])
      const after = await h.service.getAction(h.uuid, h.requestId)
      const b = after?.events.find((e) => e.host === 'b')
      assert.equal(b?.finishTime, null, "the other host's event stays open")
    })

    test('a later definite name corrects a guess: resize → migrate, rebuild → evacuate', async (t) => {
      const h = await novaHandlerHarness(t, name)
      await h.send('instance-resize-start.json')
      await h.send('instance-resize_prep-start.json', {
        data: {
          new_flavor: { 'nova_object.data': { flavorid: 'a22d5517-147c-4147-a0d1-e698df5cd4e3' } },
        },
      })
      assert.equal((await h.service.getAction(h.uuid, h.requestId))?.action.action, 'migrate')
      // The events' copies of the action name (migration 0008) follow the correction.
      const byName = async (action: string) =>
        (await h.service.searchEvents({ instanceUuid: h.uuid, actions: [action], limit: 10 })).map(
          (f) => f.action,
        )
      assert.ok((await byName('migrate')).length > 0)
      assert.deepEqual(await byName('resize'), [])
      const other = `req-${randomUUID()}`
      await h.send('instance-rebuild-start.json', { data: { request_id: other } })
      await h.send('instance-evacuate.json', { data: { request_id: other } })
      await h.send('instance-rebuild-end.json', { data: { request_id: other } })
      assert.equal((await h.service.getAction(h.uuid, other))?.action.action, 'evacuate')
    })

    test('the service context: a null payload request id uses the context one (§3.3 rule 8)', async (t) => {
      const h = await novaHandlerHarness(t, name)
      const ctxRequest = `req-${randomUUID()}`
      await h.send('instance-power_off-start.json', {
        data: { request_id: null, action_initiator_user: null, action_initiator_project: null },
        context: { request_id: ctxRequest, user_id: null, project_id: null },
      })
      const shown = await h.service.getAction(h.uuid, ctxRequest)
      assert.equal(shown?.action.action, 'stop')
      assert.equal(shown?.action.userId, null)
      const periodic = await h.send('instance-shelve_offload-start.json', {
        data: { request_id: null, action_initiator_user: null, action_initiator_project: null },
        context: { request_id: `req-${randomUUID()}`, project_id: null },
      })
      assert.equal(periodic.kind, 'ignored')
    })

    test('poison: bad JSON, another oslo.version, a new major payload version, no instance uuid', async (t) => {
      const h = await novaHandlerHarness(t, name)
      assert.equal((await h.handler.handle(Buffer.from('{not json'))).kind, 'poison')
      const v3 = Buffer.from(JSON.stringify({ 'oslo.version': '3.0', 'oslo.message': '{}' }))
      assert.equal((await h.handler.handle(v3)).kind, 'poison')
      const sample = loadSample('instance-pause-start.json')
      const payload = sample.payload as Record<string, unknown>
      const major = novaBody({ ...sample, payload: { ...payload, 'nova_object.version': '2.0' } })
      assert.equal((await h.handler.handle(major)).kind, 'poison')
      assert.equal(
        (await h.send('instance-pause-start.json', { data: { uuid: null } })).kind,
        'poison',
      )
      assert.equal(
        (await h.send('instance-pause-start.json', { eventType: 'service.update' })).kind,
        'ignored',
      )
      // A v1 body (no envelope) is accepted.
      const inner = JSON.parse(
        (JSON.parse(novaBody(sample).toString()) as { 'oslo.message': string })['oslo.message'],
      ) as Record<string, unknown>
      assert.equal((await h.handler.handle(Buffer.from(JSON.stringify(inner)))).kind, 'applied')
    })

    test('_context_auth_token is neither stored (every column read back) nor logged', async (t) => {
      if (name === 'sqlite-memory')
        return t.skip('an in-memory database cannot be read by a second connection')
      const database = await freshDatabase(name)
      const stores = await openStores(database.url)
      t.after(async () => {
        await stores.close()
        await database.drop()
      })
      const service = createActionService(stores.actions)
      const log = captureLogger('trace')
      const handler = createNotificationHandler({ service, log: log.logger })
      const uuid = randomUUID()
      const context = {
        auth_token: TOKEN,
        request_id: `req-${randomUUID()}`,
        service_catalog: [{ token: TOKEN }],
      }
      for (const sample of ['instance-reboot-start.json', 'instance-reboot-error.json'])
        await handler.handle(novaBody(loadSample(sample), { context, data: { uuid } }))
      await handler.handle(Buffer.from(JSON.stringify({ 'oslo.version': '9', auth_token: TOKEN })))
      await handler.handle(
        novaBody(loadSample('instance-pause-start.json'), { context, data: { uuid: 'x' } }),
      )
      assert.ok(log.text().length > 0, 'something was logged')
      assert.ok(!log.text().includes(TOKEN), 'the token is not logged')
      const { db } = openDatabase(database.url)
      try {
        for (const table of [
          'instances',
          'instance_actions',
          'instance_actions_events',
          'nova_messages',
          'changes',
        ]) {
          const { rows } = await sql<
            Record<string, unknown>
          >`SELECT * FROM ${sql.table(table)}`.execute(db)
          assert.ok(rows.length > 0 || table === 'changes', table)
          assert.ok(!JSON.stringify(rows).includes(TOKEN), `no token in ${table}`)
        }
      } finally {
        await db.destroy()
      }
    })
  })
}
