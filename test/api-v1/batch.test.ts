/**
 * `POST /v1/batch`: JSON array and NDJSON bodies, results in request order with each single
 * endpoint's status, malformed operations reported at their index without poisoning the others,
 * chunks of BATCH_CHUNK_SIZE per ActionService.apply call, a store failure mid-batch, and a 10 MB NDJSON batch
 * applied completely.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { BATCH_CHUNK_SIZE } from '../../src/api/v1/apply.js'
import { AppError } from '../../src/domain/errors.js'
import type { WriteOperation } from '../../src/domain/write-operation.js'
import { buildHarness } from '../helpers/build-app.js'
import { assertV1Error, ok, UNKNOWN_VM, v1, VM } from './v1-helpers.js'

const NDJSON = { 'content-type': 'application/x-ndjson' }

interface Result {
  status: number
  error?: { status: number; code: string; message: string }
}

function results(body: Record<string, unknown>): Result[] {
  assert.deepEqual(Object.keys(body), ['results'])
  return body.results as Result[]
}

function statuses(rs: Result[]): number[] {
  return rs.map((r) => r.status)
}

const PUT_VM = {
  op: 'instance_put',
  instance_uuid: VM,
  name: 'vm-1',
  project_id: 'p',
  user_id: 'u',
}

function start(requestId: string, action = 'reboot'): Record<string, unknown> {
  return {
    op: 'action_start',
    instance_uuid: VM,
    action,
    request_id: requestId,
    user_id: 'u',
    project_id: 'p',
  }
}

describe('POST /v1/batch (JSON array)', () => {
  test('every operation with the status of its single endpoint, in order', async (t) => {
    const h = await buildHarness(t)
    const ops = [
      PUT_VM,
      PUT_VM,
      start('req-1'),
      start('req-1'),
      start('req-1', 'stop'),
      {
        op: 'event_start',
        instance_uuid: VM,
        request_id: 'req-1',
        event: 'e1',
        host: 'c1',
        start_time: '2026-01-01T00:00:00Z',
      },
      {
        op: 'event_start',
        instance_uuid: VM,
        request_id: 'req-1',
        event: 'e1',
        host: 'c1',
        start_time: '2026-01-01T00:00:00Z',
      },
      {
        op: 'event_finish',
        instance_uuid: VM,
        request_id: 'req-1',
        event: 'e1',
        result: 'Error',
        details: 'bad',
        traceback: 'password=hunter2',
      },
      { op: 'event_finish', instance_uuid: VM, request_id: 'req-1', event: 'e9', result: 'Error' },
      { op: 'action_finish', instance_uuid: VM, request_id: 'req-1' },
      { op: 'action_finish', instance_uuid: VM, request_id: 'req-none' },
      {
        op: 'action_start',
        instance_uuid: UNKNOWN_VM,
        action: 'a',
        request_id: 'r',
        user_id: null,
        project_id: null,
      },
      { op: 'instance_delete', instance_uuid: VM },
      { op: 'instance_delete', instance_uuid: UNKNOWN_VM },
    ]
    const rs = results(ok(await v1(h, 'POST', '/v1/batch', ops), 200))
    assert.deepEqual(
      statuses(rs),
      [201, 200, 201, 200, 409, 201, 200, 200, 404, 200, 404, 404, 200, 404],
    )
    assert.equal(rs[0]?.error, undefined)
    assert.deepEqual(Object.keys(rs[0] as object), ['status'], 'a success carries only its status')
    assert.equal(rs[4]?.error?.code, 'conflict')
    assert.equal(rs[8]?.error?.code, 'event_not_found')
    assert.equal(
      rs[10]?.error?.message,
      `Action for request_id req-none on instance ${VM} not found`,
    )
    assert.deepEqual(rs[11]?.error, {
      status: 404,
      code: 'instance_not_found',
      message: `Instance ${UNKNOWN_VM} could not be found.`,
    })

    const found = await h.service.getAction(VM, 'req-1')
    assert.equal(found?.action.message, 'Error')
    assert.notEqual(found?.action.finishTime, null)
    assert.equal(found?.events.length, 1)
    assert.doesNotMatch(found?.events[0]?.traceback ?? '', /hunter2/)
    assert.notEqual((await h.service.getInstance(VM))?.deletedAt, null)
  })

  test('a bad operation in the middle is a 400 at its index; the ones around it apply', async (t) => {
    const h = await buildHarness(t)
    const ops: unknown[] = [
      PUT_VM,
      start('req-1'),
      {
        op: 'action_start',
        instance_uuid: VM,
        action: 'x',
        request_id: 'req-bad',
        user_id: 'u',
        project_id: 'p',
        colour: 'red',
      },
      { op: 'teleport', instance_uuid: VM },
      'not an object',
      { instance_uuid: VM },
      { op: 'action_start', instance_uuid: VM, request_id: 'req-2', user_id: 'u', project_id: 'p' },
      { op: 'event_start', instance_uuid: VM, request_id: 'req-1', event: 42 },
      { op: 'event_finish', instance_uuid: VM, request_id: 'req-1', event: 'e', result: 'Maybe' },
      {
        op: 'action_start',
        instance_uuid: VM,
        action: 'a',
        request_id: 'req-3',
        user_id: 'u',
        project_id: 'p',
        start_time: 'soon',
      },
      { op: 'instance_put', instance_uuid: 'nope', name: 'n', project_id: 'p', user_id: 'u' },
      start('req-4'),
    ]
    const rs = results(ok(await v1(h, 'POST', '/v1/batch', ops), 200))
    assert.deepEqual(statuses(rs), [201, 201, 400, 400, 400, 400, 400, 400, 400, 400, 400, 201])
    const messages = rs.map((r) => r.error?.message)
    assert.equal(messages[2], 'operation must NOT have additional properties')
    assert.equal(messages[3], 'operation/op must be equal to one of the allowed values')
    assert.equal(messages[4], 'operation must be object')
    assert.equal(messages[5], "operation must have required property 'op'")
    assert.equal(messages[6], "operation must have required property 'action'")
    assert.equal(messages[7], 'operation/event must be string')
    assert.equal(messages[8], 'operation/result must be equal to one of the allowed values')
    assert.equal(messages[9], 'start_time is not a valid ISO 8601 date-time')
    assert.equal(messages[10], 'instance_uuid must be a UUID')
    for (const r of rs.filter((x) => x.status === 400)) assert.equal(r.error?.code, 'invalid_input')
    assert.deepEqual((await h.service.listActions(VM, {})).map((a) => a.requestId).sort(), [
      'req-1',
      'req-4',
    ])
  })

  test('a field of another operation is unknown here (400)', async (t) => {
    const h = await buildHarness(t)
    const rs = results(
      ok(
        await v1(h, 'POST', '/v1/batch', [
          { ...PUT_VM, host: 'c1' },
          { op: 'instance_delete', instance_uuid: VM, name: 'x' },
        ]),
        200,
      ),
    )
    assert.deepEqual(statuses(rs), [400, 400])
  })

  test('an empty batch → 200 {"results": []}', async (t) => {
    const h = await buildHarness(t)
    assert.deepEqual(ok(await v1(h, 'POST', '/v1/batch', []), 200), { results: [] })
  })

  test('a body that is not a JSON array → 400 for the whole request', async (t) => {
    const h = await buildHarness(t)
    for (const body of [PUT_VM, 'null', '"ops"', '{}']) {
      const res = await v1(
        h,
        'POST',
        '/v1/batch',
        typeof body === 'string' ? body : JSON.stringify(body),
        {
          headers: { 'content-type': 'application/json' },
        },
      )
      assertV1Error(res, 400, 'invalid_input', 'body must be a JSON array of operations')
    }
    assertV1Error(
      await v1(h, 'POST', '/v1/batch', '[{"op":', {
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'invalid_input',
    )
    assertV1Error(
      await v1(h, 'POST', '/v1/batch'),
      400,
      'invalid_input',
      'body must be a JSON array of operations',
    )
    assert.equal(await h.service.getInstance(VM), undefined)
  })

  test('operations are applied in chunks of BATCH_CHUNK_SIZE, one ActionService.apply call each', async (t) => {
    const h = await buildHarness(t)
    const apply = t.mock.method(h.service, 'apply')
    const ops: unknown[] = [PUT_VM]
    const C = BATCH_CHUNK_SIZE
    for (let i = 1; i < 2.5 * C; i++) ops.push(start(`req-${i}`))
    const rs = results(ok(await v1(h, 'POST', '/v1/batch', ops), 200))
    assert.equal(rs.length, 2.5 * C)
    assert.ok(rs.every((r) => r.status === 201))
    assert.deepEqual(
      apply.mock.calls.map((c) => c.arguments[0].length),
      [C, C, C / 2],
    )
    assert.equal((await h.service.listActions(VM, {})).length, 2.5 * C - 1)
  })

  test(
    'a store failure stops the batch: the failed chunk and the rest are reported, not ' +
      'applied, not remembered',
    async (t) => {
      const h = await buildHarness(t)
      const real = h.service.apply.bind(h.service)
      let calls = 0
      t.mock.method(h.service, 'apply', async (ops: readonly WriteOperation[]) => {
        calls++
        if (calls === 2) throw new AppError('store_unavailable', 'database is locked')
        return real(ops)
      })
      const ops: unknown[] = [PUT_VM]
      const C = BATCH_CHUNK_SIZE
      for (let i = 1; i < 2.2 * C; i++)
        ops.push(i === 2.1 * C ? { op: 'bogus' } : start(`req-${i}`))
      const key = { 'idempotency-key': 'batch-store-failure' }
      const rs = results(ok(await v1(h, 'POST', '/v1/batch', ops, { headers: key }), 200))
      assert.ok(rs.slice(0, C).every((r) => r.status === 201))
      assert.ok(rs.slice(C, 2.1 * C).every((r) => r.status === 503))
      assert.deepEqual(rs[C]?.error, {
        status: 503,
        code: 'store_unavailable',
        message: 'The service is unavailable.',
      })
      assert.equal(rs[2.1 * C]?.status, 400, 'an invalid operation keeps its own 400')
      assert.ok(rs.slice(2.1 * C + 1).every((r) => r.status === 503))
      assert.equal((await h.service.listActions(VM, {})).length, C - 1)
      assert.match(h.logs(), /batch chunk failed/)
      assert.doesNotMatch(
        JSON.stringify(rs),
        /database is locked/,
        'the store message is not shown',
      )

      // The same request with the same key runs again (the failure was not remembered).
      const again = await v1(h, 'POST', '/v1/batch', ops, { headers: key })
      assert.equal(again.headers['idempotent-replayed'], undefined)
      const rs2 = results(ok(again, 200))
      assert.equal(rs2[0]?.status, 200)
      assert.equal(rs2[1]?.status, 200, 'already applied: retry')
      assert.equal(rs2[1.5 * C]?.status, 201, 'not applied the first time: applied now')
      assert.equal((await h.service.listActions(VM, {})).length, 2.2 * C - 2)
    },
  )
})

describe('POST /v1/batch (NDJSON)', () => {
  test('one operation per line, blank lines ignored, a malformed line reported at its index', async (t) => {
    const h = await buildHarness(t)
    const text = [
      JSON.stringify(PUT_VM),
      '',
      JSON.stringify(start('req-1')),
      '{"op": "action_start", "instance_uuid": ',
      '   ',
      '[1, 2]',
      JSON.stringify(start('req-2')) + '\r',
      '',
    ].join('\n')
    const rs = results(ok(await v1(h, 'POST', '/v1/batch', text, { headers: NDJSON }), 200))
    assert.deepEqual(statuses(rs), [201, 201, 400, 400, 201])
    assert.deepEqual(rs[2]?.error, {
      status: 400,
      code: 'invalid_input',
      message: 'line 4 is not valid JSON',
    })
    assert.equal(rs[3]?.error?.message, 'operation must be object')
    assert.equal((await h.service.listActions(VM, {})).length, 2)
  })

  test('an empty NDJSON body → 200 {"results": []}', async (t) => {
    const h = await buildHarness(t)
    assert.deepEqual(ok(await v1(h, 'POST', '/v1/batch', '', { headers: NDJSON }), 200), {
      results: [],
    })
    assert.deepEqual(ok(await v1(h, 'POST', '/v1/batch', '\n\n  \n', { headers: NDJSON }), 200), {
      results: [],
    })
  })

  test('a 10 MB NDJSON batch (~33k operations) is applied completely', async (t) => {
    const h = await buildHarness(t)
    const lines: string[] = [JSON.stringify(PUT_VM)]
    const pad = 'x'.repeat(180)
    let actions = 0
    while (lines.join('\n').length < 10 * 1024 * 1024 && actions < 20_000) {
      // A cheap size estimate: build in blocks, then measure.
      for (let k = 0; k < 1000; k++) {
        const rid = `req-${String(actions).padStart(6, '0')}`
        lines.push(JSON.stringify({ ...start(rid), action: `reboot-${pad}` }))
        lines.push(
          JSON.stringify({
            op: 'event_start',
            instance_uuid: VM,
            request_id: rid,
            event: 'compute_reboot_instance',
            host: `compute-${pad}`,
          }),
        )
        lines.push(
          JSON.stringify({
            op: 'event_finish',
            instance_uuid: VM,
            request_id: rid,
            event: 'compute_reboot_instance',
            result: 'Error',
            details: pad,
          }),
        )
        actions++
      }
    }
    const text = lines.join('\n') + '\n'
    assert.ok(
      Buffer.byteLength(text) >= 10 * 1024 * 1024,
      `body is ${Buffer.byteLength(text)} bytes`,
    )
    assert.ok(lines.length > 30_000)
    const res = await v1(h, 'POST', '/v1/batch', text, { headers: NDJSON })
    const rs = results(ok(res, 200))
    assert.equal(rs.length, lines.length)
    const bad = rs.findIndex((r, i) => r.status !== (i === 0 || (i - 1) % 3 !== 2 ? 201 : 200))
    assert.equal(bad, -1, `operation ${bad}: ${JSON.stringify(rs[bad])}`)
    assert.equal((await h.service.listActions(VM, {})).length, actions)
    const last = await h.service.getAction(VM, `req-${String(actions - 1).padStart(6, '0')}`)
    assert.equal(last?.events[0]?.result, 'Error')
    assert.equal(last?.action.message, 'Error')
  })
})
