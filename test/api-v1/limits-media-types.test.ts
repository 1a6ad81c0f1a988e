/**
 * Body limits and media types of /v1: single endpoints take only application/json, up to 64 KiB
 * (2.25 MiB for an event finish, which carries the traceback); the batch takes application/json
 * and application/x-ndjson up to 32 MiB and 100000 operations.
 * Beyond → 413 payload_too_large; another media type (text/plain included) → 415.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  BATCH_BODY_LIMIT,
  EVENT_FINISH_BODY_LIMIT,
  MAX_RAW_DETAILS_LENGTH,
  MAX_RAW_TRACEBACK_LENGTH,
  SINGLE_BODY_LIMIT,
} from '../../src/api/v1/schemas.js'
import { buildHarness, TOKENS } from '../helpers/build-app.js'
import { assertV1Error, ok, putVm, v1, VM } from './v1-helpers.js'

const MiB = 1024 * 1024

describe('single endpoints', () => {
  const others = [
    'text/plain',
    'text/plain; charset=utf-8',
    'application/x-ndjson',
    'application/xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
  ]
  for (const type of others) {
    test(`${type} → 415 unsupported_media_type`, async (t) => {
      const h = await buildHarness(t)
      const res = await v1(
        h,
        'PUT',
        `/v1/instances/${VM}`,
        '{"name":"a","project_id":"p","user_id":"u"}',
        { headers: { 'content-type': type } },
      )
      assertV1Error(res, 415, 'unsupported_media_type')
      assert.equal(await h.service.getInstance(VM), undefined)
    })
  }

  test('a body without a content type → 415', async (t) => {
    const h = await buildHarness(t)
    const res = await h.app.inject({
      method: 'PUT',
      url: `/v1/instances/${VM}`,
      headers: { 'x-auth-token': TOKENS.serviceA },
      payload: Buffer.from('{}'),
    })
    assertV1Error(res, 415, 'unsupported_media_type')
  })

  test('a body over 64 KiB → 413 on the routes without free text; a schema-sized one is read', async (t) => {
    const h = await buildHarness(t)
    const url = `/v1/instances/${VM}`
    const json = { headers: { 'content-type': 'application/json' } }
    const over = JSON.stringify({
      name: 'n'.repeat(SINGLE_BODY_LIMIT),
      project_id: 'p',
      user_id: 'u',
    })
    assertV1Error(await v1(h, 'PUT', url, over, json), 413, 'payload_too_large')
    // The largest body the schema allows, every character escaped: well under the limit.
    const escaped = '\\u00e9'.repeat(255)
    const largest = `{"name":"${escaped}","project_id":"${escaped}","user_id":"${escaped}"}`
    assert.ok(largest.length < SINGLE_BODY_LIMIT)
    ok(await v1(h, 'PUT', url, largest, json), 201)
  })

  test('event finish: the longest traceback and details the schema allows are read; over → 413', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    const url = `/v1/instances/${VM}/actions/req-1/events/e/finish`
    const json = { headers: { 'content-type': 'application/json' } }
    // Real tracebacks are lines: every line break is escaped (2 bytes) in JSON.
    const lines = (n: number) => 'File "x.py", line 1\n'.repeat(n).slice(0, n)
    const longest = JSON.stringify({
      result: 'Error',
      traceback: lines(MAX_RAW_TRACEBACK_LENGTH),
      details: lines(MAX_RAW_DETAILS_LENGTH),
    })
    assert.ok(longest.length > MiB, 'over the old 1 MiB limit')
    assertV1Error(await v1(h, 'POST', url, longest, json), 404, 'action_not_found')
    const over = JSON.stringify({
      result: 'Error',
      traceback: '\u0001'.repeat(EVENT_FINISH_BODY_LIMIT / 6),
    })
    assertV1Error(await v1(h, 'POST', url, over, json), 413, 'payload_too_large')
  })

  test("Nova's /v2.1 API keeps its own fault format", async (t) => {
    const h = await buildHarness(t)
    const res = await h.app.inject({
      method: 'GET',
      url: '/v2.1/nothing',
      headers: { 'x-auth-token': TOKENS.admin },
    })
    assert.equal(res.statusCode, 404)
    assert.deepEqual(JSON.parse(res.body), {
      itemNotFound: { code: 404, message: 'The resource could not be found.' },
    })
  })
})

describe('batch', () => {
  test('text/plain → 415', async (t) => {
    const h = await buildHarness(t)
    assertV1Error(
      await v1(h, 'POST', '/v1/batch', '[]', { headers: { 'content-type': 'text/plain' } }),
      415,
      'unsupported_media_type',
    )
  })

  test('a body over 32 MiB → 413 (JSON and NDJSON)', async (t) => {
    const h = await buildHarness(t)
    const big = `[${' '.repeat(BATCH_BODY_LIMIT)}]`
    assertV1Error(
      await v1(h, 'POST', '/v1/batch', big, { headers: { 'content-type': 'application/json' } }),
      413,
      'payload_too_large',
    )
    assertV1Error(
      await v1(h, 'POST', '/v1/batch', big, {
        headers: { 'content-type': 'application/x-ndjson' },
      }),
      413,
      'payload_too_large',
    )
  })

  test('a 2 MiB batch is fine (over the single-endpoint limit)', async (t) => {
    const h = await buildHarness(t)
    const put = { op: 'instance_put', instance_uuid: VM, name: 'n', project_id: 'p', user_id: 'u' }
    const text = `${'\n'.repeat(2 * MiB)}${JSON.stringify(put)}`
    const body = ok(
      await v1(h, 'POST', '/v1/batch', text, {
        headers: { 'content-type': 'application/x-ndjson' },
      }),
      200,
    )
    assert.deepEqual(body, { results: [{ status: 201 }] })
  })

  test('more than 100000 operations → 413; exactly 100000 are accepted', async (t) => {
    const h = await buildHarness(t)
    const over = await v1(h, 'POST', '/v1/batch', '{}\n'.repeat(100_001), {
      headers: { 'content-type': 'application/x-ndjson' },
    })
    assertV1Error(
      over,
      413,
      'payload_too_large',
      'The batch has more than 100000 operations; at most 100000 are allowed',
    )
    const overJson = await v1(h, 'POST', '/v1/batch', `[${Array(100_001).fill('{}').join(',')}]`, {
      headers: { 'content-type': 'application/json' },
    })
    assertV1Error(overJson, 413, 'payload_too_large')
    const max = await v1(h, 'POST', '/v1/batch', '{}\n'.repeat(100_000), {
      headers: { 'content-type': 'application/x-ndjson' },
    })
    const results = ok(max, 200).results as { status: number }[]
    assert.equal(results.length, 100_000)
    assert.ok(results.every((r) => r.status === 400))
  })
})
