/**
 * Retries, through a fault injector in front of the real server: 503s, reset connections, answers
 * lost after the write happened, timeouts and refused connections are retried with the same
 * Idempotency-Key and the same explicit times; 4xx answers are final.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import {
  ActionTrailClient,
  ClientHttpError,
  ClientNetworkError,
  type WireOp,
} from '../../src/client/index.js'
import { isAppError } from '../../src/domain/errors.js'
import { PROJECT_A, TOKENS, USER_A } from '../helpers/build-app.js'
import {
  batchOps,
  CTX,
  jsonBody,
  seedVm,
  serviceClient,
  startActionTrail,
  startInjector,
  VM,
  type Fault,
} from './support.js'

const START = {
  instanceUuid: VM,
  action: 'reboot',
  requestId: CTX.requestId,
  userId: USER_A,
  projectId: PROJECT_A,
}
const EVENT = { instanceUuid: VM, requestId: CTX.requestId, event: 'compute_reboot_instance' }

/** The first `count` requests get `fault`, the rest pass through. */
function first(count: number, fault: Fault): (n: number) => Fault {
  return (n) => (n < count ? fault : 'pass')
}

function assertSameRequests(
  seen: { headers: Record<string, unknown>; body: string }[],
  count: number,
): void {
  assert.equal(seen.length, count)
  const key = seen[0]?.headers['idempotency-key']
  assert.equal(typeof key, 'string')
  for (const r of seen) {
    assert.equal(r.headers['idempotency-key'], key, 'one Idempotency-Key for all attempts')
    assert.equal(r.body, seen[0]?.body, 'the same body (and explicit times) for all attempts')
  }
}

test('503 answers are retried with the same Idempotency-Key and start_time until the write succeeds', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  await h.service.actionStart({ ...START, startTime: '2026-11-25T10:00:00.000000' })
  const injector = await startInjector(t, baseUrl, first(2, '503'))
  const client = serviceClient(injector.url)
  await client.eventStart({ ...EVENT, host: 'c-1' })
  assertSameRequests(injector.seen, 3)
  const body = jsonBody(injector.seen[0]) as Record<string, unknown>
  assert.equal(typeof body.start_time, 'string', 'an explicit start_time is always sent')
  assert.match(String(injector.seen[0]?.headers['user-agent']), /^actiontrail-client /)
  const events = (await h.service.getAction(VM, CTX.requestId))?.events ?? []
  assert.equal(events.length, 1)
  assert.equal(events[0]?.startTime, body.start_time)
})

test('a reset connection is retried with the same key and times', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const injector = await startInjector(t, baseUrl, first(2, 'reset'))
  const client = serviceClient(injector.url)
  await client.actionStart(START)
  assertSameRequests(injector.seen, 3)
  const action = (await h.service.getAction(VM, CTX.requestId))?.action
  assert.equal(action?.action, 'reboot')
  assert.equal(action.startTime, (jsonBody(injector.seen[0]) as { start_time: string }).start_time)
})

test(
  'when the answer is lost after the write happened, the retry gets the same result and ' +
    'writes nothing twice',
  async (t) => {
    const { h, baseUrl } = await startActionTrail(t)
    await seedVm(h)
    await h.service.actionStart({ ...START, startTime: '2026-11-25T10:00:00.000000' })
    await h.service.eventStart({ ...EVENT, startTime: '2026-11-25T10:00:01.000000' })
    await h.service.eventStart({ ...EVENT, startTime: '2026-11-25T10:00:02.000000' })
    // Every request reaches the server; the first answer to the start and to the finish never
    // reaches the client.
    const injector = await startInjector(t, baseUrl, (n) =>
      n === 0 || n === 2 ? 'pass-then-reset' : 'pass',
    )
    const client = serviceClient(injector.url)
    await client.eventStart(EVENT)
    assertSameRequests(injector.seen.slice(0, 2), 2)
    const startTime = (jsonBody(injector.seen[0]) as { start_time: string }).start_time
    await client.eventFinish({ ...EVENT, result: 'Success' })
    assertSameRequests(injector.seen.slice(2), 2)
    const events = (await h.service.getAction(VM, CTX.requestId))?.events ?? []
    // Three events (two seeded, one started by the client) and exactly one of them finished: a
    // finish applies to the oldest unfinished event, so only the Idempotency-Key (replaying the
    // first answer) keeps the retried finish from finishing a second one.
    assert.equal(events.length, 3)
    assert.equal(events.filter((e) => e.startTime === startTime).length, 1)
    assert.deepEqual(
      events.filter((e) => e.finishTime !== null).map((e) => e.result),
      ['Success'],
    )
  },
)

test('a 503 that outlasts the retries is thrown as a ClientHttpError store_unavailable', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const injector = await startInjector(t, baseUrl, () => '503')
  const client = serviceClient(injector.url, { retries: 2 })
  await assert.rejects(client.actionStart(START), (err) => {
    assert.ok(err instanceof ClientHttpError)
    assert.equal(err.status, 503)
    assert.equal(err.code, 'store_unavailable')
    return true
  })
  assertSameRequests(injector.seen, 3)
})

test('4xx answers are final: no retry', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  await h.service.actionStart(START)
  const injector = await startInjector(t, baseUrl)
  const client = serviceClient(injector.url, { retries: 5 })
  await assert.rejects(client.eventFinish({ ...EVENT, result: 'Success' }), (err) =>
    isAppError(err, 'event_not_found'),
  )
  await assert.rejects(client.actionStart({ ...START, action: 'resize' }), (err) =>
    isAppError(err, 'conflict'),
  )
  assert.equal(injector.seen.length, 2)

  const canned = await startInjector(t, baseUrl, () => ({
    status: 422,
    body: { error: { status: 422, code: 'idempotency_key_reused', message: 'reused' } },
  }))
  const reused = serviceClient(canned.url, { retries: 5 })
  await assert.rejects(reused.actionFinish({ instanceUuid: VM, requestId: CTX.requestId }), (err) =>
    isAppError(err, 'idempotency_key_reused'),
  )
  assert.equal(canned.seen.length, 1)
})

test('429 is retried like a 503; one that outlasts the retries keeps the server code and message', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const slowDown = {
    status: 429,
    body: { error: { status: 429, code: 'too_many_requests', message: 'slow down' } },
  }
  const recovering = await startInjector(t, baseUrl, first(2, slowDown))
  await serviceClient(recovering.url).actionStart(START)
  assertSameRequests(recovering.seen, 3)
  assert.equal((await h.service.getAction(VM, CTX.requestId))?.action.action, 'reboot')

  const canned = await startInjector(t, baseUrl, () => slowDown)
  const limited = serviceClient(canned.url, { retries: 2 })
  await assert.rejects(
    limited.actionFinish({ instanceUuid: VM, requestId: CTX.requestId }),
    (err) => {
      assert.ok(err instanceof ClientHttpError)
      assert.equal(err.status, 429)
      // Not one of ActionTrail's codes: the status decides, the server's code is kept.
      assert.equal(err.code, 'invalid_input')
      assert.equal(err.serverCode, 'too_many_requests')
      assert.equal(err.message, 'slow down')
      return true
    },
  )
  assertSameRequests(canned.seen, 3)
})

test('an attempt that gets no answer in timeoutMs is retried; when all time out, ClientNetworkError', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const injector = await startInjector(t, baseUrl, first(1, 'hang'))
  const client = serviceClient(injector.url, { timeoutMs: 200 })
  const began = Date.now()
  assert.equal(await client.actionStart(START), undefined)
  assert.ok(Date.now() - began >= 190, 'waited for the timeout')
  assertSameRequests(injector.seen, 2)

  const silent = await startInjector(t, baseUrl, () => 'hang')
  const patient = serviceClient(silent.url, { timeoutMs: 100, retries: 1 })
  await assert.rejects(
    patient.actionFinish({ instanceUuid: VM, requestId: CTX.requestId }),
    (err) => {
      assert.ok(err instanceof ClientNetworkError)
      assert.equal(err.code, 'store_unavailable')
      assert.equal(err.timedOut, true)
      assert.equal(err.attempts, 2)
      assert.ok(!err.message.includes(CTX.requestId), 'no ids in the message')
      return true
    },
  )
  assertSameRequests(silent.seen, 2)
})

test('a refused connection is retried, then reported as ClientNetworkError', async () => {
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  let calls = 0
  const client = new ActionTrailClient({
    baseUrl: `http://127.0.0.1:${port}`,
    token: TOKENS.serviceA,
    retries: 2,
    backoffMs: 1,
    fetch: (url, init) => {
      calls += 1
      return fetch(url, init)
    },
  })
  await assert.rejects(client.listActions(VM), (err) => {
    assert.ok(err instanceof ClientNetworkError)
    assert.equal(err.attempts, 3)
    assert.equal(err.timedOut, false)
    assert.match(err.message, /ECONNREFUSED/)
    return true
  })
  assert.equal(calls, 3)
})

test('a batch is retried on 503 and reset with the same Idempotency-Key and body', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const injector = await startInjector(t, baseUrl, (n) =>
    n === 0 ? '503' : n === 1 ? 'pass-then-reset' : 'pass',
  )
  const client = serviceClient(injector.url)
  const ops: WireOp[] = [
    {
      op: 'action_start',
      instance_uuid: VM,
      action: 'reboot',
      request_id: CTX.requestId,
      user_id: USER_A,
      project_id: PROJECT_A,
    },
    {
      op: 'event_start',
      instance_uuid: VM,
      request_id: CTX.requestId,
      event: 'compute_reboot_instance',
    },
  ]
  const results = await client.batch(ops)
  // The second attempt was applied and its answer remembered under the key: the third replays it.
  assert.deepEqual(
    results.map((r) => r.status),
    [201, 201],
  )
  assertSameRequests(injector.seen, 3)
  for (const op of batchOps(injector.seen[0]!)) {
    assert.equal(
      typeof op.start_time,
      'string',
      'start times are stamped once, before the first attempt',
    )
  }
  assert.equal((await h.service.getAction(VM, CTX.requestId))?.events.length, 1)
})

test('operations a batch reports as not attempted (5xx results) are sent again, from the first one on', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  // The first answer claims that the store failed from the second operation on; the server did
  // apply everything, so the resend also checks that repeating them is harmless.
  const unavailable = {
    status: 503,
    error: { status: 503, code: 'store_unavailable', message: 'The service is unavailable.' },
  }
  const injector = await startInjector(t, baseUrl, (n) =>
    n === 0
      ? {
          rewrite: (status, body) => ({
            status,
            body: {
              results: [(body as { results: unknown[] }).results[0], unavailable, unavailable],
            },
          }),
        }
      : 'pass',
  )
  // The pause between rounds is the transport's jittered backoff, observed through its sleep.
  const waits: number[] = []
  const client = new ActionTrailClient(
    { baseUrl: injector.url, token: TOKENS.serviceA, backoffMs: 40 },
    { sleep: (ms) => (waits.push(ms), Promise.resolve()), random: () => 0.5 },
  )
  const results = await client.batch([
    {
      op: 'action_start',
      instance_uuid: VM,
      action: 'reboot',
      request_id: CTX.requestId,
      user_id: USER_A,
      project_id: PROJECT_A,
    },
    {
      op: 'event_start',
      instance_uuid: VM,
      request_id: CTX.requestId,
      event: 'compute_reboot_instance',
    },
    {
      op: 'event_finish',
      instance_uuid: VM,
      request_id: CTX.requestId,
      event: 'compute_reboot_instance',
      result: 'Success',
    },
  ])
  assert.deepEqual(
    results.map((r) => r.status),
    [201, 200, 200],
  )
  assert.equal(injector.seen.length, 2)
  const [firstOps, resent] = [batchOps(injector.seen[0]!), batchOps(injector.seen[1]!)]
  assert.deepEqual(resent, firstOps.slice(1), 'the same operations, same times')
  assert.notEqual(
    injector.seen[1]?.headers['idempotency-key'],
    injector.seen[0]?.headers['idempotency-key'],
  )
  assert.deepEqual(waits, [20])
  const stored = await h.service.getAction(VM, CTX.requestId)
  assert.equal(stored?.events.length, 1)
  assert.equal(stored?.events[0]?.result, 'Success')
})

test('a request that cannot be sent (invalid header value) fails at once as an AppError', async () => {
  let calls = 0
  const client = new ActionTrailClient({
    baseUrl: 'http://127.0.0.1:9',
    token: 'bad\ntoken',
    retries: 5,
    fetch: (url, init) => {
      calls += 1
      return fetch(url, init)
    },
  })
  await assert.rejects(client.listActions(VM), (err) => {
    assert.ok(isAppError(err, 'internal'))
    assert.ok(err.cause instanceof TypeError)
    assert.ok(!err.message.includes('token'), 'the header value is not repeated in the message')
    return true
  })
  assert.equal(calls, 1)
})

test('against a real rate limit the client waits out Retry-After (1 s) and then succeeds', async (t) => {
  const { h, baseUrl } = await startActionTrail(t, { rateLimit: { rate: 1, burst: 1 } })
  await seedVm(h)
  const client = serviceClient(baseUrl)
  await client.actionStart(START)
  // The bucket is empty: this request gets 429 with Retry-After: 1, and the retry after it passes.
  await client.actionFinish({ instanceUuid: VM, requestId: CTX.requestId })
  assert.ok((await h.service.getAction(VM, CTX.requestId))?.action.finishTime)
  const scrape = (await h.app.inject('/metrics')).body
  const refused = /^actiontrail_rate_limited_total\{surface="v1"\} (\d+)$/m.exec(scrape)
  assert.ok(refused && Number(refused[1]) >= 1, 'the server refused at least once')
})

test('a client without retries gets the rate limit as a ClientHttpError `rate_limited`', async (t) => {
  // One token per 100 s: the second request is refused whatever the machine's speed.
  const { h, baseUrl } = await startActionTrail(t, { rateLimit: { rate: 0.01, burst: 1 } })
  await seedVm(h)
  const impatient = serviceClient(baseUrl, { retries: 0 })
  await impatient.actionStart(START)
  await assert.rejects(
    impatient.actionFinish({ instanceUuid: VM, requestId: CTX.requestId }),
    (err) => {
      assert.ok(err instanceof ClientHttpError)
      assert.equal(err.status, 429)
      assert.ok(isAppError(err, 'rate_limited'))
      return true
    },
  )
})
