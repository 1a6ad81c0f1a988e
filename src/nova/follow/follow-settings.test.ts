import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isAppError } from '../../domain/errors.js'
import { backoffDelay } from './backoff.js'
import { redactAmqpUrl, resolveFollowSettings } from './follow-settings.js'

test('no URL: no follower; the URL from the flag wins over ACTIONTRAIL_NOVA_AMQP_URL', () => {
  assert.equal(resolveFollowSettings({}, {}), undefined)
  const s = resolveFollowSettings(
    { amqp: 'amqp://a:b@flag:5672/' },
    { ACTIONTRAIL_NOVA_AMQP_URL: 'amqp://env/' },
  )
  assert.equal(s?.url, 'amqp://a:b@flag:5672/')
  assert.equal(s?.exchange, 'nova')
  assert.equal(s?.queue, 'actiontrail.nova')
  assert.equal(s?.deadLetterQueue, 'actiontrail.nova.dead')
  assert.deepEqual(s?.routingKeys, [
    'versioned_notifications.info',
    'versioned_notifications.error',
  ])
})

test('bad settings are invalid_input naming the variable, never echoing the password', () => {
  const cases: Record<string, string>[] = [
    { ACTIONTRAIL_NOVA_AMQP_URL: 'http://user:hunter2@rabbit/' },
    { ACTIONTRAIL_NOVA_AMQP_URL: 'amqp://user:hunter2@rabbit/', ACTIONTRAIL_NOVA_PREFETCH: '0' },
    { ACTIONTRAIL_NOVA_AMQP_URL: 'amqp://user:hunter2@rabbit/', ACTIONTRAIL_NOVA_QUEUE: 'a b' },
    { ACTIONTRAIL_NOVA_AMQP_URL: 'amqp://user:hunter2@rabbit/', ACTIONTRAIL_NOVA_EXCHANGE: '' },
  ]
  for (const env of cases) {
    assert.throws(
      () => resolveFollowSettings({}, env),
      (err: unknown) =>
        isAppError(err, 'invalid_input') &&
        /ACTIONTRAIL_NOVA_/.test(err.message) &&
        !err.message.includes('hunter2'),
      JSON.stringify(env),
    )
  }
})

test('the URL is shown without its password', () => {
  assert.equal(
    redactAmqpUrl('amqp://nova:hunter2@rabbit:5672/vh'),
    'amqp://nova:***@rabbit:5672/vh',
  )
  assert.ok(!redactAmqpUrl('amqp://nova:hunter2@[bad').includes('hunter2'))
})

test('backoff grows to its cap and keeps at least half of it (jitter)', () => {
  const b = { initialMs: 100, maxMs: 1000 }
  assert.equal(
    backoffDelay(b, 0, () => 0),
    50,
  )
  assert.equal(
    backoffDelay(b, 0, () => 1),
    100,
  )
  assert.equal(
    backoffDelay(b, 3, () => 1),
    800,
  )
  assert.equal(
    backoffDelay(b, 50, () => 1),
    1000,
  )
  assert.equal(
    backoffDelay(b, 50, () => 0),
    500,
  )
})
