/**
 * The Nova follower against the real RabbitMQ (docs/nova-integration.md): the test plays Nova
 * (its own topic exchange, envelope-wrapped notifications on versioned_notifications.info/.error)
 * and reads the result back through ActionTrail's Nova API. Unique exchange and queue names per
 * test, deleted afterwards.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { connect } from 'amqplib'
import {
  createNotificationHandler,
  type HandleResult,
  type NotificationHandler,
} from '../../src/nova/notifications/notification-handler.js'
import { resolveFollowSettings } from '../../src/nova/follow/follow-settings.js'
import { DEAD_REASON_HEADER } from '../../src/nova/follow/nova-follower.js'
import { StandInNotificationHandler } from '../helpers/stand-in-handler.js'
import { startFollower } from '../../src/nova/follow/start-follower.js'
import { buildHarness, headers, TOKENS, type Harness } from '../helpers/build-app.js'
import { rig, waitFor } from '../helpers/follower-rig.js'
import { captureLogger } from '../helpers/log-capture.js'
import {
  envelopeTime,
  newRequestId,
  notificationBody,
  routingKeyOf,
} from '../helpers/nova-notifications.js'
import { loadSample, novaBody } from '../helpers/nova-samples.js'
import {
  brokerRestartProblem,
  drainQueue,
  FakeNova,
  rabbitSkip,
  restartBroker,
  TEST_AMQP_URL,
  uniqueName,
} from '../helpers/rabbitmq.js'

const skip = await rabbitSkip()

async function actionsOf(h: Harness, uuid: string): Promise<Record<string, unknown>[]> {
  const res = await h.app.inject({
    url: `/v2.1/servers/${uuid}/os-instance-actions`,
    headers: headers(TOKENS.admin, '2.84'),
  })
  if (res.statusCode === 404) return []
  assert.equal(res.statusCode, 200, res.body)
  return (JSON.parse(res.body) as { instanceActions: Record<string, unknown>[] }).instanceActions
}

async function queueDepth(queue: string): Promise<number> {
  const connection = await connect(TEST_AMQP_URL)
  try {
    const channel = await connection.createChannel()
    return (await channel.checkQueue(queue)).messageCount
  } finally {
    await connection.close()
  }
}

describe('follow-nova on RabbitMQ', { skip, concurrency: false }, () => {
  test(
    'notifications published by Nova become actions and events in the Nova API, ' +
      'even when the exchange appears after the follower started',
    async (t) => {
      const h = await buildHarness(t)
      const r = await rig(t, new StandInNotificationHandler(h.service), { novaFirst: false })
      // Nova's exchange is not there yet: the follower waits (passive check), never declares it.
      await new Promise((resolve) => setTimeout(resolve, 300))
      assert.equal(r.follower.consuming, false)
      await r.nova.connect()
      await r.follower.whenConsuming()

      const uuid = '178b0921-8f85-4257-88b6-2e743b5a975c'
      const create = newRequestId()
      const reboot = newRequestId()
      await r.nova.publish(
        {
          eventType: 'instance.create.start',
          uuid,
          requestId: create,
          timestamp: '2026-01-05 10:00:01.250000',
        },
        {
          eventType: 'instance.create.end',
          uuid,
          requestId: create,
          timestamp: '2026-01-05 10:00:09',
        },
        {
          eventType: 'instance.reboot.start',
          uuid,
          requestId: reboot,
          timestamp: '2026-01-05 11:00:00.5',
        },
        {
          eventType: 'instance.reboot.error',
          uuid,
          requestId: reboot,
          timestamp: '2026-01-05 11:00:03.000001',
          fault: {
            message: 'Connection to libvirt lost: 1',
            traceback:
              'Traceback (most recent call last):\n' +
              '  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 1, in reboot\n',
          },
        },
      )
      await waitFor('4 applied', () => r.follower.counters.applied === 4)

      const actions = await actionsOf(h, uuid)
      assert.deepEqual(
        actions.map((a) => [a.action, a.request_id]),
        [
          ['reboot', reboot],
          ['create', create],
        ],
      )
      const shown = await h.app.inject({
        url: `/v2.1/servers/${uuid}/os-instance-actions/${reboot}`,
        headers: headers(TOKENS.admin, '2.84'),
      })
      assert.equal(shown.statusCode, 200, shown.body)
      const events = (
        JSON.parse(shown.body) as { instanceAction: { events: Record<string, unknown>[] } }
      ).instanceAction.events
      assert.equal(events.length, 1)
      assert.equal(events[0]?.event, 'compute_reboot')
      assert.equal(events[0]?.result, 'Error')
      assert.equal(events[0]?.host, 'cmp-1')
      // The traceback went through the sanitizer: no absolute path is stored.
      assert.ok(
        !String(events[0]?.traceback).includes('/usr/lib/python3'),
        String(events[0]?.traceback),
      )
      assert.deepEqual(r.follower.counters, {
        received: 4,
        applied: 4,
        duplicate: 0,
        ignored: 0,
        deadLettered: 0,
        requeued: 0,
        reconnects: 0,
      })
      assert.equal(await queueDepth(r.settings.queue), 0, 'every message acknowledged')
    },
  )

  test('with the real notification handler (follow-nova, serve): a reboot is recorded with its event', async (t) => {
    const h = await buildHarness(t)
    const nova = new FakeNova()
    await nova.connect()
    const settings = resolveFollowSettings(
      { amqp: TEST_AMQP_URL, exchange: nova.exchange, queue: uniqueName('actiontrail.test') },
      {},
    )
    assert.ok(settings)
    const follower = startFollower(h.service, settings, captureLogger('debug').logger)
    t.after(async () => {
      await follower.stop()
      await nova.cleanUp([settings.queue, settings.deadLetterQueue])
    })
    await follower.whenConsuming()
    const uuid = '878b0921-8f85-4257-88b6-2e743b5a975c'
    const create = newRequestId()
    const reboot = newRequestId()
    await nova.publish(
      { eventType: 'instance.create.start', uuid, requestId: create },
      { eventType: 'instance.create.end', uuid, requestId: create },
    )
    await waitFor('created', () => follower.counters.applied === 2)
    await nova.publish(
      { eventType: 'instance.reboot.start', uuid, requestId: reboot },
      { eventType: 'instance.reboot.end', uuid, requestId: reboot },
    )
    await waitFor('4 applied', () => follower.counters.applied === 4)
    const actions = await actionsOf(h, uuid)
    assert.deepEqual(
      actions.map((a) => [a.action, a.request_id]),
      [
        ['reboot', reboot],
        ['create', create],
      ],
    )
    const shown = await h.app.inject({
      url: `/v2.1/servers/${uuid}/os-instance-actions/${reboot}`,
      headers: headers(TOKENS.admin, '2.84'),
    })
    assert.equal(shown.statusCode, 200, shown.body)
    const events = (
      JSON.parse(shown.body) as { instanceAction: { events: Record<string, unknown>[] } }
    ).instanceAction.events
    assert.deepEqual(
      events.map((e) => [e.event, e.result, e.host]),
      [['compute_reboot_instance', 'Success', 'cmp-1']],
    )
    // A stop whose only failure signal is a compute.exception (priority ERROR, no instance uuid).
    const stop = newRequestId()
    await nova.publish({ eventType: 'instance.power_off.start', uuid, requestId: stop })
    nova.publishRaw(
      'versioned_notifications.error',
      novaBody(loadSample('compute-exception.json'), {
        context: { request_id: stop },
        publisherId: 'nova-compute:cmp-1',
        timestamp: envelopeTime(),
      }),
    )
    await nova.confirmed()
    await waitFor('6 applied', () => follower.counters.applied === 6)
    const stopped = await h.app.inject({
      url: `/v2.1/servers/${uuid}/os-instance-actions/${stop}`,
      headers: headers(TOKENS.admin, '2.84'),
    })
    const stopAction = (
      JSON.parse(stopped.body) as {
        instanceAction: { message: string | null; events: Record<string, unknown>[] }
      }
    ).instanceAction
    assert.equal(stopAction.message, 'Error')
    assert.deepEqual(
      stopAction.events.map((e) => [e.event, e.result, e.host, e.details]),
      [
        [
          'compute_stop_instance',
          'Error',
          'cmp-1',
          'Aggregate versioned_exc_aggregate already exists.',
        ],
      ],
    )
  })

  test('deliveries handled in batches: all committed and acknowledged, poison among them dead-lettered', async (t) => {
    const h = await buildHarness(t)
    const log = captureLogger()
    let batches = 0
    const real = createNotificationHandler({ service: h.service, log: log.logger })
    const counting: NotificationHandler = {
      handle: (body) => real.handle(body),
      handleBatch: (bodies) => {
        batches += 1
        return real.handleBatch?.(bodies) ?? Promise.reject(new Error('no batches'))
      },
    }
    const r = await rig(t, counting, { prefetch: 64 })
    await r.follower.whenConsuming()
    const uuid = '978b0921-8f85-4257-88b6-2e743b5a975c'
    const requestIds = Array.from({ length: 60 }, () => newRequestId())
    for (const [i, requestId] of requestIds.entries()) {
      for (const phase of ['start', 'end']) {
        const eventType = `instance.reboot.${phase}`
        r.nova.publishRaw(routingKeyOf(eventType), notificationBody({ eventType, uuid, requestId }))
      }
      if (i % 20 === 10) r.nova.publishRaw('versioned_notifications.info', Buffer.from('{"x"'))
    }
    await r.nova.confirmed()
    await waitFor(
      'all settled',
      () => r.follower.counters.applied === 120 && r.follower.counters.deadLettered === 3,
    )
    assert.ok(batches < 123, `${batches} batches for 123 deliveries`)
    assert.equal((await actionsOf(h, uuid)).length, 60)
    assert.equal((await drainQueue(r.settings.deadLetterQueue)).length, 3)
    await r.follower.stop()
    assert.equal(await queueDepth(r.settings.queue), 0, 'every delivery acknowledged')
  })

  test(
    'a batch whose transaction fails is handled again one message at a time, and the message ' +
      'waiting for its requeue holds back none of the others',
    async (t) => {
      const h = await buildHarness(t)
      const real = createNotificationHandler({ service: h.service, log: captureLogger().logger })
      const uuid = 'a78b0921-8f85-4257-88b6-2e743b5a975c'
      const bad = newRequestId()
      const isBad = (body: Buffer) => body.toString('utf8').includes(bad)
      const breaking: NotificationHandler = {
        handle: (body) =>
          isBad(body) ? Promise.reject(new Error('constraint failed')) : real.handle(body),
        handleBatch: (bodies) =>
          bodies.some(isBad)
            ? Promise.reject(new Error('constraint failed'))
            : (real.handleBatch?.(bodies) ?? Promise.reject(new Error('no batches'))),
      }
      // With a requeue delay longer than the test, the broken message stays unsettled: if it held
      // back the others' acknowledgements, the 4 prefetch slots would fill and nothing would move.
      const r = await rig(t, breaking, {
        prefetch: 4,
        requeue: { initialMs: 600_000, maxMs: 600_000 },
      })
      await r.follower.whenConsuming()
      await r.nova.publish({ eventType: 'instance.reboot.start', uuid, requestId: bad })
      const good = Array.from({ length: 30 }, () => newRequestId())
      await r.nova.publish(
        ...good.map((requestId) => ({ eventType: 'instance.reboot.start', uuid, requestId })),
      )
      await waitFor('the good ones applied', () => r.follower.counters.applied === 30)
      const stored = new Set((await actionsOf(h, uuid)).map((a) => a.request_id))
      assert.deepEqual([...stored].sort(), [...good].sort())
      // Stopping requeues the waiting message at once: it is back in the queue, not lost.
      await r.follower.stop()
      assert.equal(r.follower.counters.requeued, 1)
      assert.equal(await queueDepth(r.settings.queue), 1)
    },
  )

  test('a poison message lands in the dead-letter queue with its reason, and the follower carries on', async (t) => {
    const h = await buildHarness(t)
    const r = await rig(t, new StandInNotificationHandler(h.service))
    await r.follower.whenConsuming()
    const badInner = JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': '{not json' })
    r.nova.publishRaw('versioned_notifications.info', Buffer.from(badInner))
    r.nova.publishRaw('versioned_notifications.error', Buffer.from('\u00ff\u0000 binary'))
    await r.nova.confirmed()
    const uuid = '278b0921-8f85-4257-88b6-2e743b5a975c'
    const requestId = newRequestId()
    await r.nova.publish({ eventType: 'instance.pause.start', uuid, requestId })
    await waitFor(
      'processed',
      () => r.follower.counters.deadLettered === 2 && r.follower.counters.applied === 1,
    )
    assert.equal(r.follower.counters.received, 3)
    // Handled concurrently: the dead-letter queue's order is not the publishing order.
    const dead = (await drainQueue(r.settings.deadLetterQueue)).sort((a, b) =>
      String(a.headers[DEAD_REASON_HEADER]).localeCompare(String(b.headers[DEAD_REASON_HEADER])),
    )
    assert.equal(dead.length, 2)
    assert.equal(dead[0]?.headers[DEAD_REASON_HEADER], 'body is not a JSON object')
    assert.equal(dead[0]?.headers['x-actiontrail-routing-key'], 'versioned_notifications.error')
    assert.equal(dead[1]?.headers[DEAD_REASON_HEADER], 'oslo.message is not a JSON object')
    assert.equal(dead[1]?.headers['x-actiontrail-routing-key'], 'versioned_notifications.info')
    assert.equal(dead[1]?.body.toString('utf8'), badInner)
    assert.deepEqual(
      (await actionsOf(h, uuid)).map((a) => a.action),
      ['pause'],
    )
    assert.equal(await queueDepth(r.settings.queue), 0)
    // The log says what happened without the messages' contents.
    assert.ok(!r.logs().includes('not json'))
  })

  test(
    'a duplicate delivery (same message_id) is acknowledged without a second write; ' +
      'other event types are ignored',
    async (t) => {
      const h = await buildHarness(t)
      const r = await rig(t, new StandInNotificationHandler(h.service))
      await r.follower.whenConsuming()
      const spec = {
        eventType: 'instance.shelve.start',
        uuid: '378b0921-8f85-4257-88b6-2e743b5a975c',
        requestId: newRequestId(),
        messageId: 'b6b8a9c1-0a0e-4f6e-9a34-1f6e3f1c2a77',
      }
      await r.nova.publish(spec)
      await waitFor('applied', () => r.follower.counters.applied === 1)
      // Redelivered, or published again by a Nova that retried: the same message_id.
      await r.nova.publish(spec, { ...spec, eventType: 'instance.exists' })
      await waitFor(
        'settled',
        () => r.follower.counters.ignored === 1 && r.follower.counters.duplicate === 1,
      )
      assert.equal(await queueDepth(r.settings.queue), 0)
      assert.equal(r.follower.counters.applied, 1)
      assert.equal(r.follower.counters.duplicate, 1)
    },
  )

  test(
    'a handler that fails (store down) gets the message again after a delay, ' +
      'and nothing is acknowledged before it commits',
    async (t) => {
      const h = await buildHarness(t)
      const real = new StandInNotificationHandler(h.service)
      let failuresLeft = 3
      const flaky: NotificationHandler = {
        async handle(body: Buffer): Promise<HandleResult> {
          if (failuresLeft > 0) {
            failuresLeft -= 1
            throw new Error('store_unavailable')
          }
          return real.handle(body)
        },
      }
      const r = await rig(t, flaky)
      await r.follower.whenConsuming()
      const uuid = '478b0921-8f85-4257-88b6-2e743b5a975c'
      await r.nova.publish({ eventType: 'instance.suspend.start', uuid, requestId: newRequestId() })
      await waitFor('applied', () => r.follower.counters.applied === 1)
      assert.equal(r.follower.counters.requeued, 3)
      assert.equal(r.follower.counters.received, 4)
      assert.deepEqual(
        (await actionsOf(h, uuid)).map((a) => a.action),
        ['suspend'],
      )
    },
  )

  test('stop waits for the notifications being handled, which are committed and acknowledged', async (t) => {
    const h = await buildHarness(t)
    const real = new StandInNotificationHandler(h.service)
    const slow: NotificationHandler = {
      async handle(body: Buffer): Promise<HandleResult> {
        await new Promise((resolve) => setTimeout(resolve, 300))
        return real.handle(body)
      },
    }
    const r = await rig(t, slow)
    await r.follower.whenConsuming()
    const uuid = '578b0921-8f85-4257-88b6-2e743b5a975c'
    const specs = Array.from({ length: 5 }, () => ({
      eventType: 'instance.resume.start',
      uuid,
      requestId: newRequestId(),
    }))
    await r.nova.publish(...specs)
    await waitFor('5 received', () => r.follower.counters.received === 5)
    await r.follower.stop()
    assert.equal(r.follower.counters.applied, 5)
    assert.equal((await actionsOf(h, uuid)).length, 5)
    assert.equal(
      await queueDepth(r.settings.queue),
      0,
      'all acknowledged before the connection closed',
    )
  })

  test(
    'a broker restart mid-stream loses nothing that was acknowledged, and the follower re-binds',
    { skip: brokerRestartProblem() ?? false },
    async (t) => {
      const h = await buildHarness(t)
      const r = await rig(t, new StandInNotificationHandler(h.service), { prefetch: 8 })
      await r.follower.whenConsuming()
      const uuid = '678b0921-8f85-4257-88b6-2e743b5a975c'
      const publishBatch = async (n: number): Promise<string[]> => {
        const ids = Array.from({ length: n }, () => newRequestId())
        for (const requestId of ids) {
          const eventType = 'instance.reboot.start'
          // Persistent, as Nova with amqp_durable_queues: the durable queue keeps them.
          r.nova.publishRaw(
            routingKeyOf(eventType),
            notificationBody({ eventType, uuid, requestId }),
            true,
          )
        }
        await r.nova.confirmed()
        return ids
      }
      const before = await publishBatch(300)
      // Mid-stream: some are committed and acknowledged, the rest wait in the queue.
      await waitFor('some applied', () => r.follower.counters.applied >= 20)
      restartBroker()
      // Nova's exchange is not durable: it is gone until Nova reconnects and declares it again.
      await r.nova.connect()
      await waitFor(
        'reconnected',
        () => r.follower.counters.reconnects >= 1 && r.follower.consuming,
        60_000,
      )
      const after = await publishBatch(20)
      await waitFor('all applied', async () => (await actionsOf(h, uuid)).length === 320, 60_000)
      const stored = new Set((await actionsOf(h, uuid)).map((a) => a.request_id))
      for (const id of [...before, ...after]) assert.ok(stored.has(id), `${id} recorded`)
      assert.equal(r.follower.counters.deadLettered, 0)
    },
  )
})
