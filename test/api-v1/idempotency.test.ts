/**
 * Idempotency-Key on /v1 writes: a retry replays the first answer exactly (status, body,
 * `Idempotent-Replayed: true`); the key with another request is a 422; keys are per caller; after
 * 24 hours (by the injected clock) the key is free again and expired records are purged; bad keys
 * are a 400; concurrent requests with one key execute once.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { idempotencyKeyHash } from '../../src/api/v1/idempotency.js'
import { buildHarness, PROJECT_A, TOKENS, USER_A } from '../helpers/build-app.js'
import { assertV1Error, hours, ManualClock, ok, putVm, v1, VM } from './v1-helpers.js'

const ACTIONS = `/v1/instances/${VM}/actions`

function key(k: string): Record<string, string> {
  return { 'idempotency-key': k }
}

function startBody(requestId: string, action = 'reboot'): Record<string, unknown> {
  return { action, request_id: requestId, user_id: 'u', project_id: 'p' }
}

describe('replay', () => {
  test('the same request with the same key replays status and body exactly, without running again', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    const first = await v1(h, 'POST', ACTIONS, startBody('req-1'), { headers: key('k-1') })
    ok(first, 201)
    assert.equal(first.headers['idempotent-replayed'], undefined)
    const apply = t.mock.method(h.service, 'apply')
    const again = await v1(h, 'POST', ACTIONS, startBody('req-1'), { headers: key('k-1') })
    assert.equal(again.statusCode, 201, 'the first status, not the 200 of a retried start')
    assert.equal(again.body, first.body)
    assert.equal(again.headers['idempotent-replayed'], 'true')
    assert.equal(again.headers['content-type'], 'application/json; charset=utf-8')
    assert.notEqual(
      again.headers['x-openstack-request-id'],
      first.headers['x-openstack-request-id'],
      'a request id of its own',
    )
    assert.equal(apply.mock.callCount(), 0, 'not executed again')
  })

  test('error answers (< 500) are remembered too', async (t) => {
    const h = await buildHarness(t)
    const first = await v1(h, 'POST', ACTIONS, startBody('req-1'), { headers: key('k-404') })
    assertV1Error(first, 404, 'instance_not_found')
    await putVm(h)
    const again = await v1(h, 'POST', ACTIONS, startBody('req-1'), { headers: key('k-404') })
    assert.equal(again.statusCode, 404)
    assert.equal(again.body, first.body)
    assert.equal(again.headers['idempotent-replayed'], 'true')
    const invalid = await v1(h, 'POST', ACTIONS, { action: 'a' }, { headers: key('k-400') })
    assertV1Error(invalid, 400, 'invalid_input')
    const invalidAgain = await v1(h, 'POST', ACTIONS, { action: 'a' }, { headers: key('k-400') })
    assert.equal(invalidAgain.headers['idempotent-replayed'], 'true')
    assert.equal(invalidAgain.body, invalid.body)
  })

  test('PUT, DELETE and the batch honour the key', async (t) => {
    const h = await buildHarness(t)
    const put = { name: 'vm', project_id: 'p', user_id: 'u' }
    const p1 = await v1(h, 'PUT', `/v1/instances/${VM}`, put, { headers: key('put') })
    const p2 = await v1(h, 'PUT', `/v1/instances/${VM}`, put, { headers: key('put') })
    assert.equal(p2.statusCode, 201)
    assert.equal(p2.body, p1.body)
    const d1 = await v1(h, 'DELETE', `/v1/instances/${VM}`, undefined, { headers: key('del') })
    const d2 = await v1(h, 'DELETE', `/v1/instances/${VM}`, undefined, { headers: key('del') })
    assert.equal(d2.headers['idempotent-replayed'], 'true')
    assert.equal(d2.body, d1.body)
    const ops = [
      { op: 'instance_put', instance_uuid: VM, name: 'vm-2', project_id: 'p', user_id: 'u' },
    ]
    const b1 = await v1(h, 'POST', '/v1/batch', ops, { headers: key('batch') })
    const b2 = await v1(h, 'POST', '/v1/batch', ops, { headers: key('batch') })
    assert.equal(b2.headers['idempotent-replayed'], 'true')
    assert.equal(b2.body, b1.body)
  })

  test('without a key nothing is remembered', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    ok(await v1(h, 'POST', ACTIONS, startBody('req-1')), 201)
    const again = await v1(h, 'POST', ACTIONS, startBody('req-1'))
    ok(again, 200)
    assert.equal(again.headers['idempotent-replayed'], undefined)
  })
})

describe('reuse', () => {
  test('the key with another body, path or method → 422 idempotency_key_reused; nothing runs', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    ok(await v1(h, 'POST', ACTIONS, startBody('req-1'), { headers: key('k') }), 201)
    assertV1Error(
      await v1(h, 'POST', ACTIONS, startBody('req-2'), { headers: key('k') }),
      422,
      'idempotency_key_reused',
    )
    assertV1Error(
      await v1(h, 'POST', `${ACTIONS}/req-1/finish`, startBody('req-1'), { headers: key('k') }),
      422,
      'idempotency_key_reused',
    )
    assertV1Error(
      await v1(h, 'PUT', ACTIONS, startBody('req-1'), { headers: key('k') }),
      404,
      'not_found',
    )
    assert.equal((await h.service.listActions(VM, {})).length, 1)
    // The refusal did not replace the remembered answer.
    const replay = await v1(h, 'POST', ACTIONS, startBody('req-1'), { headers: key('k') })
    assert.equal(replay.statusCode, 201)
    assert.equal(replay.headers['idempotent-replayed'], 'true')
  })

  test('the raw body counts: the same JSON spelt differently is another request', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    const json = { 'content-type': 'application/json', ...key('k') }
    ok(
      await v1(
        h,
        'POST',
        ACTIONS,
        '{"action":"a","request_id":"r","user_id":"u","project_id":"p"}',
        { headers: json },
      ),
      201,
    )
    const spaced = await v1(
      h,
      'POST',
      ACTIONS,
      '{"action": "a", "request_id": "r", "user_id": "u", "project_id": "p"}',
      { headers: json },
    )
    assertV1Error(spaced, 422, 'idempotency_key_reused')
  })

  test('keys are per caller: another user with the same key is not affected', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    ok(await v1(h, 'POST', ACTIONS, startBody('req-1'), { headers: key('shared') }), 201)
    const admin = await v1(h, 'POST', ACTIONS, startBody('req-2'), {
      token: TOKENS.admin,
      headers: key('shared'),
    })
    ok(admin, 201)
    assert.equal(admin.headers['idempotent-replayed'], undefined)
  })
})

describe('expiry', () => {
  test('after 24 hours the key is free again: the request runs and its new answer is remembered', async (t) => {
    const clock = new ManualClock()
    const h = await buildHarness(t, ':memory:', { clock })
    await putVm(h)
    ok(await v1(h, 'POST', ACTIONS, startBody('req-1'), { headers: key('k') }), 201)

    clock.advance(hours(23))
    const replay = await v1(h, 'POST', ACTIONS, startBody('req-1'), { headers: key('k') })
    assert.equal(replay.headers['idempotent-replayed'], 'true', 'still remembered after 23 h')
    assertV1Error(
      await v1(h, 'POST', ACTIONS, startBody('req-2'), { headers: key('k') }),
      422,
      'idempotency_key_reused',
    )

    clock.advance(hours(1))
    const fresh = await v1(h, 'POST', ACTIONS, startBody('req-2'), { headers: key('k') })
    ok(fresh, 201)
    assert.equal(fresh.headers['idempotent-replayed'], undefined)
    const replayFresh = await v1(h, 'POST', ACTIONS, startBody('req-2'), { headers: key('k') })
    assert.equal(replayFresh.headers['idempotent-replayed'], 'true')
    assert.equal(replayFresh.body, fresh.body)
  })

  test('expired records are purged in the background of a later request', async (t) => {
    const clock = new ManualClock()
    const h = await buildHarness(t, ':memory:', { clock })
    await putVm(h)
    ok(await v1(h, 'POST', ACTIONS, startBody('req-1'), { headers: key('old') }), 201)
    const hash = idempotencyKeyHash(
      { userId: USER_A, projectId: PROJECT_A, roles: new Set(['service']) },
      'old',
    )
    assert.ok(await h.idempotency.get(hash))

    clock.advance(hours(25))
    ok(await v1(h, 'POST', ACTIONS, startBody('req-2')), 201)
    for (let i = 0; i < 50 && (await h.idempotency.get(hash)); i++)
      await new Promise((r) => setTimeout(r, 10))
    assert.equal(await h.idempotency.get(hash), undefined)
  })
})

describe('key format', () => {
  const bad: [string, string][] = [
    ['256 characters', 'k'.repeat(256)],
    ['a non-ASCII character', 'clé'],
    ['a tab', 'a\tb'],
  ]
  for (const [name, value] of bad) {
    test(`${name} → 400 invalid_input`, async (t) => {
      const h = await buildHarness(t)
      await putVm(h)
      const res = await v1(h, 'POST', ACTIONS, startBody('req-1'), {
        headers: { 'idempotency-key': value },
      })
      assertV1Error(
        res,
        400,
        'invalid_input',
        'Idempotency-Key must be 1 to 255 printable ASCII characters',
      )
      assert.equal((await h.service.listActions(VM, {})).length, 0)
    })
  }

  test('255 printable characters are fine', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    ok(
      await v1(h, 'POST', ACTIONS, startBody('req-1'), { headers: key(`${'~'.repeat(250)} a!"#`) }),
      201,
    )
  })

  test('an empty key → 400', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    assertV1Error(
      await v1(h, 'POST', ACTIONS, startBody('req-1'), { headers: key('') }),
      400,
      'invalid_input',
    )
  })
})

describe('concurrency', () => {
  test('concurrent requests with one key run once; the others replay its answer', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    const apply = t.mock.method(h.service, 'apply')
    const responses = await Promise.all(
      Array.from({ length: 5 }, () =>
        v1(h, 'POST', ACTIONS, startBody('req-1'), { headers: key('race') }),
      ),
    )
    assert.deepEqual(
      responses.map((r) => r.statusCode),
      [201, 201, 201, 201, 201],
    )
    assert.equal(responses.filter((r) => r.headers['idempotent-replayed'] === 'true').length, 4)
    assert.equal(new Set(responses.map((r) => r.body)).size, 1)
    assert.equal(apply.mock.callCount(), 1)
  })
})
