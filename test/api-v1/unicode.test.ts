/**
 * Text that cannot be stored faithfully is refused, not altered: a body that is not valid UTF-8 and
 * a JSON string with an unpaired surrogate (`"\ud800"`) are a 400 `invalid_input`, for single
 * endpoints and for each batch operation at its index.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { buildHarness, TOKENS } from '../helpers/build-app.js'
import { assertV1Error, ok, putVm, startAction, v1, VM } from './v1-helpers.js'

const JSON_TYPE = { 'content-type': 'application/json' }
const NDJSON = { 'content-type': 'application/x-ndjson' }

interface Result {
  status: number
  error?: { code: string; message: string }
}

function results(body: Record<string, unknown>): Result[] {
  return body.results as Result[]
}

// A JSON text whose request_id is the given JSON string literal (escapes stay escapes).
function startBody(requestIdLiteral: string): string {
  return `{"action":"reboot","request_id":"${requestIdLiteral}","user_id":"u","project_id":"p"}`
}

describe('invalid UTF-8 in a /v1 body', () => {
  test('a single endpoint answers 400 invalid_input instead of storing U+FFFD', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    const payload = Buffer.concat([
      Buffer.from('{"action":"reboot","request_id":"req-'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('","user_id":"u","project_id":"p"}'),
    ])
    const res = await h.app.inject({
      method: 'POST',
      url: `/v1/instances/${VM}/actions`,
      headers: { ...JSON_TYPE, 'x-auth-token': TOKENS.serviceA },
      payload,
    })
    assertV1Error(res, 400, 'invalid_input', /UTF-8/)
    assert.deepEqual(await h.service.listActions(VM, {}), [])
  })

  test('a batch, JSON or NDJSON, answers 400 for the whole body', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    for (const headers of [JSON_TYPE, NDJSON]) {
      const line = Buffer.concat([
        Buffer.from('{"op":"action_start","instance_uuid":"' + VM + '","action":"a\xe9'),
        Buffer.from([0xc3]),
        Buffer.from('","request_id":"r","user_id":"u","project_id":"p"}'),
      ])
      const payload =
        headers === NDJSON ? line : Buffer.concat([Buffer.from('['), line, Buffer.from(']')])
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { ...headers, 'x-auth-token': TOKENS.serviceA },
        payload,
      })
      assertV1Error(res, 400, 'invalid_input', /UTF-8/)
    }
  })

  test('valid multi-byte UTF-8 still passes, and the Idempotency-Key hash still sees the text', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    const body = startBody('req-\u00e9\u2603\ud83d\ude00')
    const headers = { ...JSON_TYPE, 'idempotency-key': 'k-unicode-1' }
    ok(await v1(h, 'POST', `/v1/instances/${VM}/actions`, body, { headers }), 201)
    const replay = await v1(h, 'POST', `/v1/instances/${VM}/actions`, body, { headers })
    ok(replay, 201)
    const actions = await h.service.listActions(VM, {})
    assert.deepEqual(
      actions.map((a) => a.requestId),
      ['req-\u00e9\u2603\ud83d\ude00'],
    )
  })
})

describe('unpaired surrogates in /v1 JSON strings', () => {
  test('a lone surrogate in a request id is 400, so two of them never collide', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    for (const literal of ['\\ud800', '\\ud801', 'x\\udc00y', '\\ude00\\ud83d']) {
      const res = await v1(h, 'POST', `/v1/instances/${VM}/actions`, startBody(literal), {
        headers: JSON_TYPE,
      })
      assertV1Error(res, 400, 'invalid_input', /request_id .*unpaired surrogate/)
    }
    // A proper pair written as escapes is one character, and fine.
    ok(
      await v1(h, 'POST', `/v1/instances/${VM}/actions`, startBody('\\ud83d\\ude00'), {
        headers: JSON_TYPE,
      }),
      201,
    )
  })

  test('a lone surrogate in an instance name or in failure details is 400', async (t) => {
    const h = await buildHarness(t)
    const put = await v1(
      h,
      'PUT',
      `/v1/instances/${VM}`,
      '{"name":"vm-\\udfff","project_id":"p","user_id":"u"}',
      { headers: JSON_TYPE },
    )
    assertV1Error(put, 400, 'invalid_input', /name .*unpaired surrogate/)
    await putVm(h)
    await startAction(h, 'req-1')
    ok(await v1(h, 'POST', `/v1/instances/${VM}/actions/req-1/events`, { event: 'e' }), 201)
    const finish = await v1(
      h,
      'POST',
      `/v1/instances/${VM}/actions/req-1/events/e/finish`,
      '{"result":"Error","details":"boom \\ud800"}',
      { headers: JSON_TYPE },
    )
    assertV1Error(finish, 400, 'invalid_input', /details .*unpaired surrogate/)
  })

  test('a batch operation with a lone surrogate gets its own 400; the others apply', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    const op = (rid: string) =>
      `{"op":"action_start","instance_uuid":"${VM}","action":"a","request_id":"${rid}",` +
      '"user_id":"u","project_id":"p"}'
    const lines = [op('req-1'), op('req-\\ud800'), op('req-2')]
    for (const [headers, payload] of [
      [JSON_TYPE, `[${lines.join(',')}]`],
      [NDJSON, lines.map((l) => l.replace(/req-/g, 'nd-')).join('\n')],
    ] as const) {
      const rs = results(ok(await v1(h, 'POST', '/v1/batch', payload, { headers }), 200))
      assert.deepEqual(
        rs.map((r) => r.status),
        [201, 400, 201],
      )
      assert.equal(rs[1]?.error?.code, 'invalid_input')
      assert.match(rs[1]?.error?.message ?? '', /unpaired surrogate/)
    }
    assert.deepEqual((await h.service.listActions(VM, {})).map((a) => a.requestId).sort(), [
      'nd-1',
      'nd-2',
      'req-1',
      'req-2',
    ])
  })
})
