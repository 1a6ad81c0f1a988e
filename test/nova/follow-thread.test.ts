/**
 * The follower with its AMQP side on a thread of its own (follower-thread.ts), as `follow-nova` and
 * `serve` run it: the bridge that carries batches between the threads, and the real thread on the
 * real RabbitMQ — notifications recorded, its log lines on the caller's logger, and a thread that
 * dies replaced without losing or doubling anything.
 */
import assert from 'node:assert/strict'
import { MessageChannel, type Worker } from 'node:worker_threads'
import { describe, test } from 'node:test'
import { AppError, isAppError } from '../../src/domain/errors.js'
import { remoteHandler, serveHandler } from '../../src/nova/follow/handler-bridge.js'
import { resolveFollowSettings } from '../../src/nova/follow/follow-settings.js'
import { startFollowerThread } from '../../src/nova/follow/follower-thread.js'
import {
  createNotificationHandler,
  type HandleResult,
} from '../../src/nova/notifications/notification-handler.js'
import { buildHarness, headers, TOKENS } from '../helpers/build-app.js'
import { waitFor } from '../helpers/follower-rig.js'
import { captureLogger } from '../helpers/log-capture.js'
import { newRequestId, type NotificationSpec } from '../helpers/nova-notifications.js'
import { FakeNova, rabbitSkip, TEST_AMQP_URL, uniqueName } from '../helpers/rabbitmq.js'

const skip = await rabbitSkip()

describe('the bridge between the follower thread and the store thread', () => {
  // amqplib's bodies can be views into a larger frame buffer.
  test('a batch arrives whole: each body its own bytes, results in order', async (t) => {
    const { port1, port2 } = new MessageChannel()
    t.after(() => port1.close())
    const seen: string[][] = []
    const stop = serveHandler(port2, {
      handle: () => Promise.reject(new Error('not used')),
      handleBatch: (bodies) => {
        seen.push(bodies.map((b) => b.toString('utf8')))
        return Promise.resolve(
          bodies.map((b, i): HandleResult => ({ kind: 'applied', writes: b.length + i })),
        )
      },
    })
    t.after(stop)
    const remote = remoteHandler(port1)
    // As amqplib hands them out: slices of one frame buffer.
    const frame = Buffer.from('xx{"a":1}{"bb":22}ééyy')
    const bodies = [frame.subarray(2, 9), frame.subarray(9, 18), frame.subarray(18, 22)]
    const results = await (remote.handleBatch as NonNullable<typeof remote.handleBatch>)(bodies)
    assert.deepEqual(seen, [['{"a":1}', '{"bb":22}', 'éé']])
    assert.deepEqual(results, [
      { kind: 'applied', writes: 7 },
      { kind: 'applied', writes: 10 },
      { kind: 'applied', writes: 6 },
    ])
    // The follower's buffers are left as they were.
    assert.equal(frame.toString('utf8'), 'xx{"a":1}{"bb":22}ééyy')
    assert.deepEqual(await remote.handle(Buffer.from('{}')), { kind: 'applied', writes: 2 })
  })

  // store_unavailable: the follower requeues the batch; without a code: retries one by one.
  test('a store that is down comes back as store_unavailable, another failure without a code', async (t) => {
    const { port1, port2 } = new MessageChannel()
    t.after(() => port1.close())
    let failure: Error = new AppError('store_unavailable', 'the database is locked')
    t.after(
      serveHandler(port2, {
        handle: () => Promise.reject(failure),
        handleBatch: () => Promise.reject(failure),
      }),
    )
    const remote = remoteHandler(port1)
    await assert.rejects(remote.handle(Buffer.from('{}')), (err: unknown) => {
      assert.ok(isAppError(err, 'store_unavailable'))
      assert.equal(err.message, 'the database is locked')
      return true
    })
    failure = new Error('UNIQUE constraint failed')
    await assert.rejects(remote.handle(Buffer.from('{}')), (err: unknown) => {
      assert.ok(!(err instanceof AppError))
      assert.equal((err as Error).message, 'UNIQUE constraint failed')
      return true
    })
  })
})

describe('the follower thread on RabbitMQ', { skip, concurrency: false }, () => {
  // Its log lines on the caller's logger without the password; a thread that dies replaced
  // without losing or doubling a notification.
  test('records what Nova publishes; a thread that dies is replaced', async (t) => {
    const h = await buildHarness(t)
    const nova = new FakeNova()
    await nova.connect()
    const settings = resolveFollowSettings(
      { amqp: TEST_AMQP_URL, exchange: nova.exchange, queue: uniqueName('actiontrail.test') },
      {},
    )
    assert.ok(settings)
    const log = captureLogger('info')
    const threads: Worker[] = []
    const follower = startFollowerThread({
      settings,
      handler: createNotificationHandler({ service: h.service, log: log.logger }),
      logger: log.logger,
      onThread: (w) => threads.push(w),
    })
    t.after(async () => {
      await follower.stop()
      await nova.cleanUp([settings.queue, settings.deadLetterQueue])
    })
    await follower.whenConsuming()
    assert.equal(follower.consuming, true)
    assert.equal(threads.length, 1)

    const uuid = '9a8b0921-8f85-4257-88b6-2e743b5a975c'
    const lifecycle = (requestId: string): NotificationSpec[] => [
      { eventType: 'instance.reboot.start', uuid, requestId },
      { eventType: 'instance.reboot.end', uuid, requestId },
    ]
    const first = Array.from({ length: 5 }, () => newRequestId())
    await nova.publish(...first.flatMap(lifecycle))
    await waitFor('10 applied', () => follower.counters.applied === 10)

    // The thread's lines reach this logger; the URL's password never does.
    await waitFor('the consuming line', () => log.text().includes('nova follower: consuming'))
    assert.ok(!log.text().includes('guest:guest'), 'the AMQP password was logged')

    // The thread dies in the middle of a stream; another takes over.
    const second = Array.from({ length: 20 }, () => newRequestId())
    await nova.publish(...second.slice(0, 10).flatMap(lifecycle))
    await (threads[0] as Worker).terminate()
    await nova.publish(...second.slice(10).flatMap(lifecycle))
    await waitFor('a second thread', () => threads.length === 2)
    await follower.whenConsuming()
    // Redelivered notifications the first thread had handed over are duplicates, not new writes.
    await waitFor(
      'every notification recorded',
      () => follower.counters.applied + follower.counters.duplicate >= 50,
    )
    assert.ok(log.text().includes('its thread stopped, starting another'))

    const res = await h.app.inject({
      url: `/v2.1/servers/${uuid}/os-instance-actions`,
      headers: headers(TOKENS.admin, '2.84'),
    })
    assert.equal(res.statusCode, 200, res.body)
    const actions = (JSON.parse(res.body) as { instanceActions: { request_id: string }[] })
      .instanceActions
    assert.deepEqual(actions.map((a) => a.request_id).sort(), [...first, ...second].sort())
    for (const requestId of [...first, ...second]) {
      const shown = await h.app.inject({
        url: `/v2.1/servers/${uuid}/os-instance-actions/${requestId}`,
        headers: headers(TOKENS.admin, '2.84'),
      })
      const events = (
        JSON.parse(shown.body) as { instanceAction: { events: Record<string, unknown>[] } }
      ).instanceAction.events
      assert.deepEqual(
        events.map((e) => [e.event, e.result]),
        [['compute_reboot_instance', 'Success']],
        requestId,
      )
    }
    const counted = follower.counters
    assert.equal(counted.deadLettered, 0)
    assert.ok(counted.received >= 50)
  })
})
