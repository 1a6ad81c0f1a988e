/**
 * A NUL character (`\u0000`) is valid JSON but PostgreSQL text cannot hold it. One bad value must
 * stay that operation's problem on every backend: a NUL in an id or name is that operation's 400,
 * and one in an event's `details` or `traceback` is removed before storage, never a 500 for the
 * operation or for the batch chunk around it.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { buildHarness } from '../helpers/build-app.js'
import { assertV1Error, ok, putVm, startAction, v1, VM } from './v1-helpers.js'

interface Result {
  status: number
  error?: { code: string; message: string }
}

const OPS = 103

function eventOps(bad: Record<string, unknown>): Record<string, unknown>[] {
  const ops: Record<string, unknown>[] = []
  for (let i = 0; i < OPS; i++) {
    const event = `e-${i}`
    ops.push({ op: 'event_start', instance_uuid: VM, request_id: 'req-1', event })
  }
  ops[50] = { ...ops[50], ...bad }
  return ops
}

describe('NUL in /v1 text', () => {
  test('in details or traceback: stored without the NUL; the rest of the batch applies', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    await startAction(h, 'req-1')
    const ops = eventOps({})
    ops.push({
      op: 'event_finish',
      instance_uuid: VM,
      request_id: 'req-1',
      event: 'e-50',
      result: 'Error',
      details: 'bad\u0000value',
      traceback: 'Traceback\u0000 (most recent call last):\n  boom',
    })
    const body = ok(await v1(h, 'POST', '/v1/batch', ops), 200)
    const rs = body.results as Result[]
    assert.equal(rs.length, OPS + 1)
    assert.deepEqual(
      rs.filter((r) => r.status >= 300),
      [],
    )
    const found = await h.service.getAction(VM, 'req-1')
    assert.equal(found?.events.length, OPS)
    const failed = found?.events.find((e) => e.event === 'e-50')
    assert.equal(failed?.details, 'badvalue')
    assert.ok(!(failed?.traceback ?? '').includes('\u0000'))
    assert.match(failed?.traceback ?? '', /^Traceback \(most recent call last\)/)
  })

  test('in a single event finish: 200 and stored without the NUL', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    await startAction(h, 'req-1')
    ok(await v1(h, 'POST', `/v1/instances/${VM}/actions/req-1/events`, { event: 'e' }), 201)
    const res = await v1(h, 'POST', `/v1/instances/${VM}/actions/req-1/events/e/finish`, {
      result: 'Error',
      details: '\u0000nul\u0000',
    })
    assert.ok(res.statusCode < 300, res.body)
    const found = await h.service.getAction(VM, 'req-1')
    assert.equal(found?.events[0]?.details, 'nul')
  })

  test('in an id or a name: that operation is 400, the others apply', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    await startAction(h, 'req-1')
    for (const bad of [{ event: 'e-\u0000' }, { host: 'h\u0000' }, { request_id: 'req-1\u0000' }]) {
      const rs = (ok(await v1(h, 'POST', '/v1/batch', eventOps(bad)), 200).results ??
        []) as Result[]
      assert.equal(rs.length, OPS)
      assert.equal(rs[50]?.status, 400, JSON.stringify(bad))
      assert.equal(rs[50]?.error?.code, 'invalid_input')
      assert.deepEqual(
        rs.filter((r, i) => i !== 50 && r.status >= 300),
        [],
      )
    }
    assertV1Error(
      await v1(h, 'PUT', `/v1/instances/${VM}`, {
        name: 'vm\u0000',
        project_id: 'p',
        user_id: 'u',
      }),
      400,
      'invalid_input',
      /name must not contain control characters/,
    )
  })
})
