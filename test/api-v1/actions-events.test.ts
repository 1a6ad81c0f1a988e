/**
 * Actions and events through /v1: start and finish, every status of the contract (201, 200 on a
 * retry, 404 with Nova's messages, 409 on a reused request id, 400 on bad input and bad times),
 * details truncation, and the traceback a client sends stored sanitized (read back through the
 * Nova-compatible API as an admin at 2.84).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { buildHarness, headers, TOKENS } from '../helpers/build-app.js'
import { json } from '../helpers/seed.js'
import { assertV1Error, ok, putVm, startAction, UNKNOWN_VM, v1, VM } from './v1-helpers.js'

const ACTIONS = `/v1/instances/${VM}/actions`

function eventsUrl(requestId: string): string {
  return `${ACTIONS}/${requestId}/events`
}

describe('POST /v1/instances/{uuid}/actions', () => {
  test('starts (201) with the full view; a retry with the same action answers 200 with the same record', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    const body = {
      action: 'reboot',
      request_id: 'req-1',
      user_id: 'user-a',
      project_id: 'project-a',
      start_time: '2026-01-02T03:04:05.123456Z',
    }
    const created = ok(await v1(h, 'POST', ACTIONS, body), 201)
    const action = created.action as Record<string, unknown>
    assert.deepEqual(Object.keys(created), ['action'])
    assert.deepEqual(Object.keys(action), [
      'instance_uuid',
      'action',
      'request_id',
      'user_id',
      'project_id',
      'start_time',
      'finish_time',
      'message',
      'created_at',
      'updated_at',
    ])
    assert.equal(action.instance_uuid, VM)
    assert.equal(action.action, 'reboot')
    assert.equal(action.request_id, 'req-1')
    assert.equal(action.user_id, 'user-a')
    assert.equal(action.project_id, 'project-a')
    assert.equal(action.start_time, '2026-01-02T03:04:05.123456')
    assert.equal(action.finish_time, null)
    assert.equal(action.message, null)

    const retry = ok(await v1(h, 'POST', ACTIONS, body), 200)
    assert.deepEqual(retry, created)
    assert.equal((await h.service.listActions(VM, {})).length, 1, 'no duplicate')
  })

  test('null user and project (periodic task) are accepted', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    const res = ok(
      await v1(h, 'POST', ACTIONS, {
        action: 'heal',
        request_id: 'req-p',
        user_id: null,
        project_id: null,
      }),
      201,
    )
    const action = res.action as Record<string, unknown>
    assert.equal(action.user_id, null)
    assert.equal(action.project_id, null)
  })

  test('the same request id with another action → 409 conflict', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    await startAction(h, 'req-1', 'reboot')
    const res = await v1(h, 'POST', ACTIONS, {
      action: 'stop',
      request_id: 'req-1',
      user_id: 'u',
      project_id: 'p',
    })
    assertV1Error(res, 409, 'conflict', /req-1/)
  })

  test('unknown instance → 404 instance_not_found', async (t) => {
    const h = await buildHarness(t)
    const res = await v1(h, 'POST', `/v1/instances/${UNKNOWN_VM}/actions`, {
      action: 'reboot',
      request_id: 'r',
      user_id: 'u',
      project_id: 'p',
    })
    assertV1Error(res, 404, 'instance_not_found', `Instance ${UNKNOWN_VM} could not be found.`)
  })

  const invalid: { name: string; body: Record<string, unknown>; message: string }[] = [
    {
      name: 'missing action',
      body: { request_id: 'r', user_id: 'u', project_id: 'p' },
      message: "body must have required property 'action'",
    },
    {
      name: 'missing user_id',
      body: { action: 'a', request_id: 'r', project_id: 'p' },
      message: "body must have required property 'user_id'",
    },
    {
      name: 'numeric request_id',
      body: { action: 'a', request_id: 7, user_id: 'u', project_id: 'p' },
      message: 'body/request_id must be string',
    },
    {
      name: 'unknown field',
      body: { action: 'a', request_id: 'r', user_id: 'u', project_id: 'p', host: 'h' },
      message: 'body must NOT have additional properties',
    },
    {
      name: 'request_id over 255',
      body: { action: 'a', request_id: 'r'.repeat(256), user_id: 'u', project_id: 'p' },
      message: 'body/request_id must NOT have more than 255 characters',
    },
    {
      name: 'numeric start_time',
      body: { action: 'a', request_id: 'r', user_id: 'u', project_id: 'p', start_time: 1 },
      message: 'body/start_time must be string',
    },
    {
      name: 'unparseable start_time',
      body: {
        action: 'a',
        request_id: 'r',
        user_id: 'u',
        project_id: 'p',
        start_time: 'yesterday',
      },
      message: 'start_time is not a valid ISO 8601 date-time',
    },
    {
      name: 'impossible date',
      body: {
        action: 'a',
        request_id: 'r',
        user_id: 'u',
        project_id: 'p',
        start_time: '2026-02-30T00:00:00',
      },
      message: 'start_time is not a valid ISO 8601 date-time',
    },
  ]
  for (const c of invalid) {
    test(`${c.name} → 400 invalid_input`, async (t) => {
      const h = await buildHarness(t)
      await putVm(h)
      assertV1Error(await v1(h, 'POST', ACTIONS, c.body), 400, 'invalid_input', c.message)
      assert.equal((await h.service.listActions(VM, {})).length, 0)
    })
  }
})

describe('POST /v1/instances/{uuid}/actions/{request_id}/finish', () => {
  test('finishes with no body, an empty JSON body or {}; a repeat keeps the first finish time', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    for (const rid of ['req-a', 'req-b', 'req-c']) await startAction(h, rid)
    const noBody = ok(await v1(h, 'POST', `${ACTIONS}/req-a/finish`), 200)
    assert.match((noBody.action as Record<string, unknown>).finish_time as string, /^\d{4}-/)
    const emptyJson = await v1(h, 'POST', `${ACTIONS}/req-b/finish`, '', {
      headers: { 'content-type': 'application/json' },
    })
    ok(emptyJson, 200)
    const explicit = ok(
      await v1(h, 'POST', `${ACTIONS}/req-c/finish`, { finish_time: '2030-01-01T00:00:00+02:00' }),
      200,
    )
    const action = explicit.action as Record<string, unknown>
    assert.equal(action.finish_time, '2029-12-31T22:00:00.000000')
    assert.equal(action.updated_at, '2029-12-31T22:00:00.000000')
    const repeat = ok(
      await v1(h, 'POST', `${ACTIONS}/req-c/finish`, { finish_time: '2031-01-01T00:00:00' }),
      200,
    )
    assert.deepEqual(repeat, explicit)
  })

  test("unknown action → 404 with Nova's message", async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    assertV1Error(
      await v1(h, 'POST', `${ACTIONS}/req-none/finish`, {}),
      404,
      'action_not_found',
      `Action for request_id req-none on instance ${VM} not found`,
    )
  })

  test('bad finish_time → 400; unknown field → 400', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    await startAction(h, 'req-1')
    assertV1Error(
      await v1(h, 'POST', `${ACTIONS}/req-1/finish`, { finish_time: '2026-13-01' }),
      400,
      'invalid_input',
      'finish_time is not a valid ISO 8601 date-time',
    )
    assertV1Error(
      await v1(h, 'POST', `${ACTIONS}/req-1/finish`, { result: 'Success' }),
      400,
      'invalid_input',
      'body must NOT have additional properties',
    )
    assert.equal((await h.service.getAction(VM, 'req-1'))?.action.finishTime, null)
  })
})

describe('POST …/actions/{request_id}/events', () => {
  test('starts (201); the same event and start_time again → 200 with the same event', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    await startAction(h, 'req-1')
    const body = {
      event: 'compute_reboot_instance',
      host: 'compute-1',
      start_time: '2026-01-02T03:04:06.5Z',
    }
    const created = ok(await v1(h, 'POST', eventsUrl('req-1'), body), 201)
    const event = created.event as Record<string, unknown>
    assert.deepEqual(Object.keys(created), ['event'])
    assert.deepEqual(Object.keys(event), [
      'event',
      'start_time',
      'finish_time',
      'result',
      'traceback',
      'host',
      'details',
      'created_at',
      'updated_at',
    ])
    assert.equal(event.event, 'compute_reboot_instance')
    assert.equal(event.host, 'compute-1')
    assert.equal(event.start_time, '2026-01-02T03:04:06.500000')
    assert.equal(event.result, null)
    const retry = ok(await v1(h, 'POST', eventsUrl('req-1'), body), 200)
    assert.deepEqual(retry, created)
    assert.equal((await h.service.getAction(VM, 'req-1'))?.events.length, 1)
  })

  test('without start_time every start is a new event (201 each)', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    await startAction(h, 'req-1')
    ok(await v1(h, 'POST', eventsUrl('req-1'), { event: 'e' }), 201)
    ok(await v1(h, 'POST', eventsUrl('req-1'), { event: 'e' }), 201)
    assert.equal((await h.service.getAction(VM, 'req-1'))?.events.length, 2)
  })

  test("unknown action → 404 with Nova's message; missing event → 400", async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    assertV1Error(
      await v1(h, 'POST', eventsUrl('req-x'), { event: 'e' }),
      404,
      'action_not_found',
      `Action for request_id req-x on instance ${VM} not found`,
    )
    await startAction(h, 'req-1')
    assertV1Error(
      await v1(h, 'POST', eventsUrl('req-1'), { host: 'h' }),
      400,
      'invalid_input',
      "body must have required property 'event'",
    )
  })
})

describe('POST …/events/{event}/finish', () => {
  test('finishes with Success (200); details and traceback are dropped on success', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    await startAction(h, 'req-1')
    ok(await v1(h, 'POST', eventsUrl('req-1'), { event: 'e1', host: 'c1' }), 201)
    const res = ok(
      await v1(h, 'POST', `${eventsUrl('req-1')}/e1/finish`, {
        result: 'Success',
        finish_time: '2026-05-05T05:05:05',
        details: 'd',
        traceback: 't',
      }),
      200,
    )
    const event = res.event as Record<string, unknown>
    assert.equal(event.result, 'Success')
    assert.equal(event.finish_time, '2026-05-05T05:05:05.000000')
    assert.equal(event.details, null)
    assert.equal(event.traceback, null)
    assert.equal((await h.service.getAction(VM, 'req-1'))?.action.message, null)
  })

  test("an event never started → 404 with Nova's message; unknown action → 404", async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    await startAction(h, 'req-1')
    const id = (await h.service.getAction(VM, 'req-1'))?.action.id
    assertV1Error(
      await v1(h, 'POST', `${eventsUrl('req-1')}/never/finish`, { result: 'Error' }),
      404,
      'event_not_found',
      `Event never not found for action id ${id}`,
    )
    assertV1Error(
      await v1(h, 'POST', `${eventsUrl('req-2')}/e/finish`, { result: 'Error' }),
      404,
      'action_not_found',
      `Action for request_id req-2 on instance ${VM} not found`,
    )
  })

  test('result must be Success or Error; it is required', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    await startAction(h, 'req-1')
    ok(await v1(h, 'POST', eventsUrl('req-1'), { event: 'e1' }), 201)
    assertV1Error(
      await v1(h, 'POST', `${eventsUrl('req-1')}/e1/finish`, { result: 'success' }),
      400,
      'invalid_input',
      'body/result must be equal to one of the allowed values',
    )
    assertV1Error(
      await v1(h, 'POST', `${eventsUrl('req-1')}/e1/finish`, {}),
      400,
      'invalid_input',
      "body must have required property 'result'",
    )
    assertV1Error(
      await v1(h, 'POST', `${eventsUrl('req-1')}/e1/finish`, {
        result: 'Error',
        details: 'x'.repeat(64 * 1024 + 1),
      }),
      400,
      'invalid_input',
      'body/details must NOT have more than 65536 characters',
    )
  })

  test('details are cut to 255 UTF-8 bytes on a character boundary; the action gets message Error', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    await startAction(h, 'req-1')
    ok(await v1(h, 'POST', eventsUrl('req-1'), { event: 'e1' }), 201)
    const details = 'é'.repeat(200)
    const res = ok(
      await v1(h, 'POST', `${eventsUrl('req-1')}/e1/finish`, { result: 'Error', details }),
      200,
    )
    const stored = (res.event as Record<string, unknown>).details as string
    assert.ok(Buffer.byteLength(stored, 'utf8') <= 255)
    assert.equal(stored, 'é'.repeat(127))
    assert.equal((await h.service.getAction(VM, 'req-1'))?.action.message, 'Error')
  })

  test('a traceback with a secret is stored sanitized (read back as admin at 2.84)', async (t) => {
    const h = await buildHarness(t)
    ok(
      await v1(h, 'PUT', `/v1/instances/${VM}`, {
        name: 'vm-1',
        project_id: 'aaaaaaaaaaaa4aaa8aaaaaaaaaaaaaaa',
        user_id: 'u',
      }),
      201,
    )
    await startAction(h, 'req-1')
    ok(
      await v1(h, 'POST', eventsUrl('req-1'), { event: 'compute_reboot_instance', host: 'c1' }),
      201,
    )
    const traceback = [
      'Traceback (most recent call last):',
      '  File "/opt/stack/nova/nova/compute/manager.py", line 10, in reboot',
      "    connect(password='hunter2-secret', url='https://admin:s3cr3tpw@db.example/x')",
      'ValueError: boom',
    ].join('\n')
    const finished = ok(
      await v1(h, 'POST', `${eventsUrl('req-1')}/compute_reboot_instance/finish`, {
        result: 'Error',
        traceback,
        details: 'token=abcdef0123456789abcdef',
      }),
      200,
    )
    const written = finished.event as Record<string, unknown>
    assert.doesNotMatch(written.traceback as string, /hunter2|s3cr3tpw/)

    const res = await h.app.inject({
      method: 'GET',
      url: `/v2.1/servers/${VM}/os-instance-actions/req-1`,
      headers: headers(TOKENS.admin, '2.84'),
    })
    assert.equal(res.statusCode, 200, res.body)
    const events = (json(res).instanceAction as { events: Record<string, unknown>[] }).events
    assert.equal(events.length, 1)
    const stored = events[0] as Record<string, unknown>
    assert.equal(typeof stored.traceback, 'string')
    assert.doesNotMatch(stored.traceback as string, /hunter2|s3cr3tpw/, 'secrets masked')
    assert.doesNotMatch(stored.traceback as string, /\/opt\/stack/, 'absolute path made relative')
    assert.match(stored.traceback as string, /manager\.py/, 'the frame is kept')
    assert.equal(stored.traceback, written.traceback, 'what the write answered is what was stored')
    assert.doesNotMatch(stored.details as string, /abcdef0123456789abcdef/, 'details masked too')
  })
})
