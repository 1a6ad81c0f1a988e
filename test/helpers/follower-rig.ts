/**
 * A follower on the real RabbitMQ for a test: a fake Nova (its own exchange) and a NovaFollower
 * over any notification handler, on fresh names, stopped and deleted after the test.
 */
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import {
  resolveFollowSettings,
  type FollowSettings,
} from '../../src/nova/follow/follow-settings.js'
import type { Backoff } from '../../src/nova/follow/backoff.js'
import { NovaFollower } from '../../src/nova/follow/nova-follower.js'
import type { NotificationHandler } from '../../src/nova/notifications/notification-handler.js'
import { captureLogger } from './log-capture.js'
import { FakeNova, TEST_AMQP_URL, uniqueName } from './rabbitmq.js'

/** Polls `check` every 20 ms until it holds; fails after `ms`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A running follower and the fake Nova it follows. */
export interface Rig {
  nova: FakeNova
  settings: FollowSettings
  follower: NovaFollower
  /** What the follower logged (debug level). */
  logs: () => string
}

/** A fake Nova and a follower on fresh names; everything is stopped and deleted after the test. */
export async function rig(
  t: TestContext,
  handler: NotificationHandler,
  options: { novaFirst?: boolean; prefetch?: number; requeue?: Backoff } = {},
): Promise<Rig> {
  const nova = new FakeNova()
  const queue = uniqueName('actiontrail.test')
  const settings = resolveFollowSettings(
    {
      amqp: TEST_AMQP_URL,
      exchange: nova.exchange,
      queue,
      prefetch: String(options.prefetch ?? 16),
    },
    {},
  )
  assert.ok(settings)
  if (options.novaFirst !== false) await nova.connect()
  const { logger, text } = captureLogger('debug')
  const follower = new NovaFollower({
    settings,
    handler,
    logger,
    reconnect: { initialMs: 50, maxMs: 500 },
    requeue: options.requeue ?? { initialMs: 20, maxMs: 100 },
    statsIntervalMs: 0,
  })
  follower.start()
  t.after(async () => {
    await follower.stop()
    await nova.cleanUp([settings.queue, settings.deadLetterQueue])
  })
  return { nova, settings, follower, logs: text }
}
