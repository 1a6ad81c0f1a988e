/**
 * The caps on what Idempotency-Keys make the server remember (issue 9: a 300 KB batch of invalid
 * operations stored an 11.6 MB answer for 24 hours; repeated keyed no-op finishes stored 66 KB
 * each). Answers are kept compressed; an answer over the per-key cap leaves a marker and its retry
 * is a 409, never a second run; a caller whose remembered answers fill its allowance gets 429 with
 * Retry-After for new keys, before anything runs, while its remembered keys still replay.
 */
import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import { describe, test } from 'node:test'
import {
  idempotencyCallerHash,
  idempotencyKeyHash,
  IDEMPOTENCY_TTL_MICROS,
} from '../../src/api/v1/idempotency.js'
import { checkedLimits, DEFAULT_IDEMPOTENCY_LIMITS } from '../../src/api/v1/idempotency-limits.js'
import type { Principal } from '../../src/auth/principal.js'
import { fromEpochMicros, toEpochMicros, type Timestamp } from '../../src/domain/timestamp.js'
import { buildHarness, PROJECT_A, TOKENS, USER_A, type Harness } from '../helpers/build-app.js'
import { assertV1Error, ManualClock, ok, putVm, startAction, v1, VM } from './v1-helpers.js'

const SERVICE_A: Principal = { userId: USER_A, projectId: PROJECT_A, roles: new Set(['service']) }
const EVENTS = `/v1/instances/${VM}/actions/req-1/events`
const FINISH = `${EVENTS}/compute_reboot/finish`

function key(k: string): Record<string, string> {
  return { 'idempotency-key': k }
}

// A traceback that compresses only a few times (distinct numbers on every line), ~20 KB.
function traceback(): string {
  const lines = ['Traceback (most recent call last):']
  for (let i = 0; i < 200; i++) {
    lines.push(
      `  File "nova/compute/m${randomInt(1e6)}.py", line ${randomInt(1e5)}, in f${randomInt(1e6)}`,
    )
    lines.push(`    v${randomInt(1e6)} = w${randomInt(1e6)}(${randomInt(1e9)})`)
  }
  lines.push('RuntimeError: boom')
  return lines.join('\n')
}

/** VM with action req-1 and its event compute_reboot finished with a large traceback. */
async function failedEvent(h: Harness): Promise<Record<string, unknown>> {
  await putVm(h)
  await startAction(h, 'req-1')
  ok(await v1(h, 'POST', EVENTS, { event: 'compute_reboot' }), 201)
  const body = { result: 'Error', traceback: traceback() }
  ok(await v1(h, 'POST', FINISH, body), 200)
  return body
}

async function callerUsage(h: Harness, now: Timestamp): Promise<number> {
  const since = fromEpochMicros(toEpochMicros(now) - IDEMPOTENCY_TTL_MICROS)
  const slices = await h.idempotency.usage(idempotencyCallerHash(SERVICE_A), since)
  return slices.reduce((sum, s) => sum + s.bytes, 0)
}

describe('per-key cap', () => {
  test('a 300 KB batch of invalid operations is stored compressed under the cap; replays byte for byte', async (t) => {
    const h = await buildHarness(t)
    const body = `[${Array.from({ length: 100_000 }, () => '{}').join(',')}]`
    assert.ok(body.length >= 300_000)
    const headers = { 'content-type': 'application/json', ...key('big-batch') }
    const first = await v1(h, 'POST', '/v1/batch', body, { headers })
    assert.equal(first.statusCode, 200)
    assert.ok(first.body.length > 10_000_000, 'the answer itself is 11.6 MB')
    const record = await h.idempotency.get(idempotencyKeyHash(SERVICE_A, 'big-batch'))
    assert.ok(record)
    assert.ok(
      record.storedBytes <= DEFAULT_IDEMPOTENCY_LIMITS.maxAnswerBytes,
      `stored ${record.storedBytes} bytes`,
    )
    const usage = await callerUsage(h, record.createdAt)
    assert.equal(usage, record.storedBytes + DEFAULT_IDEMPOTENCY_LIMITS.recordOverheadBytes)
    const again = await v1(h, 'POST', '/v1/batch', body, { headers })
    assert.equal(again.statusCode, 200)
    assert.equal(again.headers['idempotent-replayed'], 'true')
    assert.ok(again.body === first.body, 'byte-identical replay')
  })

  test('an answer over the per-key cap: sent once; its retry is a 409 naming the status, no rerun', async (t) => {
    const h = await buildHarness(t, ':memory:', { idempotencyLimits: { maxAnswerBytes: 1024 } })
    const body = await failedEvent(h)
    const first = await v1(h, 'POST', FINISH, body, { headers: key('k-big') })
    const event = ok(first, 200).event as Record<string, unknown>
    assert.ok(typeof event.traceback === 'string' && event.traceback.length > 10_000)
    const record = await h.idempotency.get(idempotencyKeyHash(SERVICE_A, 'k-big'))
    assert.ok(record)
    assert.equal(record.body, undefined, 'only a marker is kept')
    assert.ok(record.storedBytes > 1024)

    const apply = t.mock.method(h.service, 'apply')
    const retry = await v1(h, 'POST', FINISH, body, { headers: key('k-big') })
    assertV1Error(
      retry,
      409,
      'idempotency_answer_not_kept',
      /already answered 200 under this Idempotency-Key.*over the 1024 bytes kept per key/,
    )
    assert.equal(retry.headers['idempotent-replayed'], undefined)
    // The marker still remembers the request: the key with another request is refused too.
    assertV1Error(
      await v1(h, 'POST', FINISH, { result: 'Success' }, { headers: key('k-big') }),
      422,
      'idempotency_key_reused',
    )
    assert.equal(apply.mock.callCount(), 0, 'not executed again')
    // Small answers are still kept and replayed under the same limits.
    const small = await v1(
      h,
      'POST',
      `/v1/instances/${VM}/actions/req-1/finish`,
      {},
      { headers: key('k-small') },
    )
    ok(small, 200)
    const replay = await v1(
      h,
      'POST',
      `/v1/instances/${VM}/actions/req-1/finish`,
      {},
      { headers: key('k-small') },
    )
    assert.equal(replay.headers['idempotent-replayed'], 'true')
    assert.equal(replay.body, small.body)
  })
})

describe('per-caller total', () => {
  test('a caller cannot exceed its total: new keys 429 + Retry-After, no run; old keys replay', async (t) => {
    const clock = new ManualClock()
    const limits = {
      maxAnswerBytes: 16 * 1024,
      maxCallerBytes: 64 * 1024,
      recordOverheadBytes: 256,
    }
    const h = await buildHarness(t, ':memory:', { clock, idempotencyLimits: limits })
    const body = await failedEvent(h)

    // Keyed no-op finishes, each with a fresh key, until the caller is full.
    const answers: { key: string; body: string }[] = []
    let refused
    for (let i = 0; i < 40 && !refused; i++) {
      const res = await v1(h, 'POST', FINISH, body, { headers: key(`fin-${i}`) })
      if (res.statusCode === 429) refused = res
      else answers.push({ key: `fin-${i}`, body: ok(res, 200) && res.body })
      assert.ok((await callerUsage(h, clock.now())) <= limits.maxCallerBytes)
    }
    assert.ok(refused, 'refused once full')
    assert.ok(answers.length >= 2, `${answers.length} answers remembered first`)
    assertV1Error(refused, 429, 'idempotency_quota_exceeded', /Retry-After/)
    const retryAfter = Number(refused.headers['retry-after'])
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 25 * 3600,
      `${retryAfter}`,
    )

    // A new keyed write is refused before it runs.
    const start = { action: 'resize', request_id: 'req-new', user_id: 'u', project_id: 'p' }
    const actions = `/v1/instances/${VM}/actions`
    assertV1Error(
      await v1(h, 'POST', actions, start, { headers: key('new') }),
      429,
      'idempotency_quota_exceeded',
    )
    assert.deepEqual(
      (await h.service.listActions(VM, {})).map((a) => a.requestId),
      ['req-1'],
    )
    // Every remembered key still replays, byte for byte.
    for (const a of answers) {
      const replay = await v1(h, 'POST', FINISH, body, { headers: key(a.key) })
      assert.equal(replay.headers['idempotent-replayed'], 'true')
      assert.equal(replay.body, a.body)
    }
    // Another caller is not affected.
    ok(await v1(h, 'POST', FINISH, body, { token: TOKENS.admin, headers: key('admin') }), 200)
    assert.ok((await callerUsage(h, clock.now())) <= limits.maxCallerBytes)

    // Once Retry-After has passed, the caller's oldest answers have expired and the key is taken.
    clock.advance(retryAfter * 1000)
    ok(await v1(h, 'POST', actions, start, { headers: key('new') }), 201)
  })

  test('concurrent keyed requests of one caller cannot pass the total together', async (t) => {
    const limits = {
      maxAnswerBytes: 16 * 1024,
      maxCallerBytes: 64 * 1024,
      recordOverheadBytes: 256,
    }
    const h = await buildHarness(t, ':memory:', { idempotencyLimits: limits })
    const body = await failedEvent(h)
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => v1(h, 'POST', FINISH, body, { headers: key(`c-${i}`) })),
    )
    const statuses = responses.map((r) => r.statusCode)
    assert.ok(statuses.includes(429), statuses.join(' '))
    assert.ok(
      statuses.every((s) => s === 200 || s === 429),
      statuses.join(' '),
    )
    // Which of the concurrent requests were refused is up to the race: read the usage through one
    // that was remembered (c-0 itself may have been a 429, which stores nothing).
    const kept = statuses.indexOf(200)
    assert.ok(kept >= 0, statuses.join(' '))
    const record = await h.idempotency.get(idempotencyKeyHash(SERVICE_A, `c-${kept}`))
    assert.ok(record)
    assert.ok((await callerUsage(h, record.createdAt)) <= limits.maxCallerBytes)
  })
})

test('caps that leave a caller no room for one answer of the largest kind are refused', () => {
  assert.deepEqual(checkedLimits({}), DEFAULT_IDEMPOTENCY_LIMITS)
  assert.throws(
    () => checkedLimits({ maxAnswerBytes: 1000, maxCallerBytes: 1200 }),
    /at least the per-key cap \+ 256 bytes/,
  )
  assert.throws(() => checkedLimits({ maxCallerBytes: -1 }), /whole number of bytes/)
  assert.throws(() => checkedLimits({ maxAnswerBytes: 0.5 }), /whole number of bytes/)
})
