/**
 * ActionTrailClient against the real server: every write method (resolving with nothing once the
 * server has committed the write, read back through the service), batches (JSON and NDJSON),
 * the read API, the mapping of error answers to AppError codes, path encoding, and close().
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  ClientClosedError,
  ClientHttpError,
  resultError,
  type WireOp,
} from '../../src/client/index.js'
import { isAppError } from '../../src/domain/errors.js'
import { isCanonicalTimestamp, type Clock, type Timestamp } from '../../src/domain/timestamp.js'
import { ActionTrailClient } from '../../src/client/index.js'
import { PROJECT_A, TOKENS, USER_A } from '../helpers/build-app.js'
import { adminClient, CTX, seedVm, serviceClient, startActionTrail, VM } from './support.js'

const T0 = '2026-11-25T10:11:12.345678'
const T1 = '2026-11-25T10:11:13.000001'
const T2 = '2026-11-25T10:11:14.500000'

function fixedClock(...times: string[]): Clock {
  let i = 0
  return { now: () => (times[Math.min(i++, times.length - 1)] ?? T0) as Timestamp }
}

function httpError(status: number, code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof ClientHttpError, `a ClientHttpError, got ${String(err)}`)
    assert.equal(err.status, status)
    assert.equal(err.code, code)
    assert.ok(isAppError(err, err.code))
    assert.ok(err.message.length > 0)
    return true
  }
}

test('putInstance registers an instance and resolves with nothing; a second put updates its name', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  const client = serviceClient(baseUrl)
  assert.equal(
    await client.putInstance({ uuid: VM, name: 'vm-1', projectId: PROJECT_A, userId: USER_A }),
    undefined,
  )
  const created = await h.service.getInstance(VM)
  assert.equal(created?.name, 'vm-1')
  assert.equal(created?.projectId, PROJECT_A)
  assert.equal(created?.userId, USER_A)
  assert.equal(created?.deletedAt, null)
  assert.ok(isCanonicalTimestamp(created.createdAt))
  await client.putInstance({ uuid: VM, name: 'vm-renamed', projectId: PROJECT_A, userId: USER_A })
  const renamed = await h.service.getInstance(VM)
  assert.equal(renamed?.name, 'vm-renamed')
  assert.equal(renamed?.createdAt, created.createdAt)
})

test('deleteInstance marks the instance deleted; an unknown instance is 404 instance_not_found', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const client = serviceClient(baseUrl)
  assert.equal(await client.deleteInstance(VM), undefined)
  const deletedAt = (await h.service.getInstance(VM))?.deletedAt
  assert.ok(deletedAt && isCanonicalTimestamp(deletedAt))
  await assert.rejects(
    client.deleteInstance('00000000-0000-4000-8000-00000000dead'),
    httpError(404, 'instance_not_found'),
  )
})

test(
  'actionStart and actionFinish send explicit times and resolve with nothing; a repeat is the ' +
    'same action',
  async (t) => {
    const { h, baseUrl } = await startActionTrail(t)
    await seedVm(h)
    // The clock gives the start time (the context has none) and then the finish time.
    const client = serviceClient(baseUrl, { clock: fixedClock(T0, T1) })
    const input = {
      instanceUuid: VM,
      action: 'reboot',
      requestId: CTX.requestId,
      userId: USER_A,
      projectId: PROJECT_A,
    }
    assert.equal(await client.actionStart(input), undefined)
    const stored = async () => (await h.service.getAction(VM, CTX.requestId))?.action
    const started = await stored()
    assert.equal(started?.instanceUuid, VM)
    assert.equal(started?.action, 'reboot')
    assert.equal(started?.requestId, CTX.requestId)
    assert.equal(started?.userId, USER_A)
    assert.equal(started?.projectId, PROJECT_A)
    assert.equal(started?.startTime, T0)
    assert.equal(started?.finishTime, null)
    assert.equal(started?.message, null)

    await client.actionStart({ ...input, startTime: T0 })
    assert.equal((await stored())?.createdAt, started?.createdAt)

    assert.equal(
      await client.actionFinish({ instanceUuid: VM, requestId: CTX.requestId }),
      undefined,
    )
    assert.equal((await stored())?.finishTime, T1)
    // Exactly one action.
    assert.equal((await h.service.listActions(VM, {})).length, 1)
  },
)

test('another action under the same request id is 409 conflict; an unknown instance is 404', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const client = serviceClient(baseUrl)
  const input = {
    instanceUuid: VM,
    action: 'reboot',
    requestId: CTX.requestId,
    userId: USER_A,
    projectId: PROJECT_A,
  }
  await client.actionStart(input)
  await assert.rejects(
    client.actionStart({ ...input, action: 'resize' }),
    httpError(409, 'conflict'),
  )
  await assert.rejects(
    client.actionStart({ ...input, instanceUuid: '00000000-0000-4000-8000-00000000dead' }),
    httpError(404, 'instance_not_found'),
  )
  await assert.rejects(
    client.actionFinish({ instanceUuid: VM, requestId: 'req-none' }),
    httpError(404, 'action_not_found'),
  )
})

test('eventStart and eventFinish record events; the server sanitizes what a failure carries', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const client = serviceClient(baseUrl)
  await client.actionStart({
    instanceUuid: VM,
    action: 'resize',
    requestId: CTX.requestId,
    userId: USER_A,
    projectId: PROJECT_A,
    startTime: T0,
  })
  const input = {
    instanceUuid: VM,
    requestId: CTX.requestId,
    event: 'compute_prep_resize',
    host: 'compute-7',
    startTime: T1,
  }
  assert.equal(await client.eventStart(input), undefined)
  const storedEvent = async () => (await h.service.getAction(VM, CTX.requestId))?.events[0]
  const ev = await storedEvent()
  assert.equal(ev?.event, 'compute_prep_resize')
  assert.equal(ev?.host, 'compute-7')
  assert.equal(ev?.startTime, T1)
  assert.equal(ev?.finishTime, null)
  assert.equal(ev?.result, null)

  const finished = await client.eventFinish({
    instanceUuid: VM,
    requestId: CTX.requestId,
    event: 'compute_prep_resize',
    result: 'Error',
    finishTime: T2,
    details: 'NoValidHost',
    traceback: '    at connect (/srv/app/db.js:10:5) postgres://admin:hunter2@db/prod',
  })
  assert.equal(finished, undefined)
  const done = await storedEvent()
  assert.equal(done?.result, 'Error')
  assert.equal(done?.finishTime, T2)
  assert.equal(done?.details, 'NoValidHost')
  assert.ok(
    done?.traceback?.includes('db.js') && !done.traceback.includes('hunter2'),
    'the stored traceback is sanitized',
  )
  assert.equal((await h.service.getAction(VM, CTX.requestId))?.action.message, 'Error')
})

test(
  'a finish without a start is 404 event_not_found; a start without an action is 404 ' +
    'action_not_found',
  async (t) => {
    const { h, baseUrl } = await startActionTrail(t)
    await seedVm(h)
    const client = serviceClient(baseUrl)
    await assert.rejects(
      client.eventStart({
        instanceUuid: VM,
        requestId: CTX.requestId,
        event: 'compute_stop_instance',
      }),
      httpError(404, 'action_not_found'),
    )
    await client.actionStart({
      instanceUuid: VM,
      action: 'stop',
      requestId: CTX.requestId,
      userId: USER_A,
      projectId: PROJECT_A,
    })
    await assert.rejects(
      client.eventFinish({
        instanceUuid: VM,
        requestId: CTX.requestId,
        event: 'compute_stop_instance',
        result: 'Success',
      }),
      httpError(404, 'event_not_found'),
    )
  },
)

test('bad input is 400 invalid_input; a wrong token is 401; a reader may not write (403)', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const client = serviceClient(baseUrl)
  await assert.rejects(
    client.actionStart({
      instanceUuid: VM,
      action: 'reboot',
      requestId: CTX.requestId,
      userId: USER_A,
      projectId: PROJECT_A,
      startTime: 'yesterday',
    }),
    httpError(400, 'invalid_input'),
  )
  const stranger = new ActionTrailClient({ baseUrl, token: 'not-a-token', retries: 0 })
  await assert.rejects(
    stranger.putInstance({ uuid: VM, name: 'x', projectId: PROJECT_A, userId: USER_A }),
    httpError(401, 'unauthorized'),
  )
  const reader = new ActionTrailClient({ baseUrl, token: TOKENS.readerA, retries: 0 })
  await assert.rejects(
    reader.putInstance({ uuid: VM, name: 'x', projectId: PROJECT_A, userId: USER_A }),
    httpError(403, 'forbidden'),
  )
})

test('request ids and event names are sent as encoded path segments', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const client = serviceClient(baseUrl)
  const requestId = 'req-a/b?c#d e%zz é'
  const event = 'compute/../odd event?x=1#frag'
  await client.actionStart({
    instanceUuid: VM,
    action: 'reboot',
    requestId,
    userId: USER_A,
    projectId: PROJECT_A,
  })
  await client.eventStart({ instanceUuid: VM, requestId, event })
  await client.eventFinish({ instanceUuid: VM, requestId, event, result: 'Success' })
  await client.actionFinish({ instanceUuid: VM, requestId })
  const stored = await h.service.getAction(VM, requestId)
  assert.ok(stored?.action.finishTime)
  assert.equal(stored.events[0]?.event, event)
  assert.equal(stored.events[0]?.result, 'Success')
  const { instanceAction } = await adminClient(baseUrl).getAction(VM, requestId)
  assert.equal(instanceAction.request_id, requestId)
})

test('batch applies operations in order and reports each one (JSON array and NDJSON)', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  for (const ndjson of [false, true]) {
    const client = serviceClient(baseUrl, { ndjson })
    const uuid = ndjson
      ? '7b2e1d4f-63c5-4d9e-8f80-1b2c3d4e5f60'
      : '8c3f2e5a-74d6-4eaf-9a91-2c3d4e5f6071'
    const requestId = `req-batch-${String(ndjson)}`
    const ops: WireOp[] = [
      {
        op: 'instance_put',
        instance_uuid: uuid,
        name: 'vm-b',
        project_id: PROJECT_A,
        user_id: USER_A,
      },
      {
        op: 'action_start',
        instance_uuid: uuid,
        action: 'reboot',
        request_id: requestId,
        user_id: USER_A,
        project_id: PROJECT_A,
      },
      {
        op: 'event_start',
        instance_uuid: uuid,
        request_id: requestId,
        event: 'compute_reboot_instance',
        host: 'c-1',
      },
      {
        op: 'event_finish',
        instance_uuid: uuid,
        request_id: requestId,
        event: 'compute_missing',
        result: 'Success',
      },
      {
        op: 'action_start',
        instance_uuid: uuid,
        action: 'resize',
        request_id: requestId,
        user_id: USER_A,
        project_id: PROJECT_A,
      },
      {
        op: 'event_finish',
        instance_uuid: uuid,
        request_id: requestId,
        event: 'compute_reboot_instance',
        result: 'Success',
      },
      { op: 'action_finish', instance_uuid: uuid, request_id: requestId },
    ]
    const results = await client.batch(ops)
    assert.deepEqual(
      results.map((r) => r.status),
      [201, 201, 201, 404, 409, 200, 200],
    )
    assert.equal(resultError(results[0]!), undefined)
    assert.equal(resultError(results[3]!)?.code, 'event_not_found')
    assert.equal(resultError(results[3]!)?.status, 404)
    assert.equal(resultError(results[4]!)?.code, 'conflict')
    const stored = await h.service.getAction(uuid, requestId)
    assert.equal(stored?.action.action, 'reboot')
    assert.ok(stored?.action.finishTime)
    assert.equal(stored?.events[0]?.result, 'Success')
  }
})

test('listActions and getAction return the read API bodies at the requested microversion', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const writer = serviceClient(baseUrl)
  for (const [i, action] of ['create', 'stop', 'start'].entries()) {
    await writer.actionStart({
      instanceUuid: VM,
      action,
      requestId: `req-${i}`,
      userId: USER_A,
      projectId: PROJECT_A,
      startTime: `2026-11-25T10:0${i}:00.000000`,
    })
  }
  await writer.eventStart({
    instanceUuid: VM,
    requestId: 'req-2',
    event: 'compute_start_instance',
    host: 'c-9',
    startTime: T0,
  })
  await writer.eventFinish({
    instanceUuid: VM,
    requestId: 'req-2',
    event: 'compute_start_instance',
    result: 'Error',
    details: 'Boom',
    traceback: '    at x (y.js:1:1)',
  })

  const reader = adminClient(baseUrl)
  const page = await reader.listActions(VM, { limit: 2 })
  assert.deepEqual(
    page.instanceActions.map((a) => a.request_id),
    ['req-2', 'req-1'],
  )
  assert.ok('updated_at' in page.instanceActions[0]!, 'updated_at from 2.58 (default 2.84)')
  assert.equal(page.links?.[0]?.rel, 'next')
  const next = await reader.listActions(VM, { limit: 2, marker: 'req-1' })
  assert.deepEqual(
    next.instanceActions.map((a) => a.request_id),
    ['req-0'],
  )
  const old = await reader.listActions(VM, { version: '2.1' })
  assert.equal(old.instanceActions.length, 3)
  assert.ok(!('updated_at' in old.instanceActions[0]!))
  const since = await reader.listActions(VM, {
    changesSince: '2026-11-25T10:01:00Z',
    changesBefore: '2026-11-25T10:01:30Z',
  })
  assert.deepEqual(
    since.instanceActions.map((a) => a.request_id),
    ['req-1'],
  )

  const { instanceAction } = await reader.getAction(VM, 'req-2')
  assert.equal(instanceAction.action, 'start')
  assert.equal(instanceAction.message, 'Error')
  const [ev] = instanceAction.events ?? []
  assert.equal(ev?.event, 'compute_start_instance')
  assert.equal(ev?.result, 'Error')
  assert.equal(ev?.host, 'c-9')
  assert.equal(ev?.details, 'Boom')
  assert.equal(typeof ev?.hostId, 'string')
  const { instanceAction: older } = await reader.getAction(VM, 'req-2', '2.50')
  assert.ok(!('details' in (older.events?.[0] ?? {})))
})

test('read API faults map to AppErrors with the HTTP status', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const reader = adminClient(baseUrl)
  await assert.rejects(
    reader.listActions('00000000-0000-4000-8000-00000000dead'),
    httpError(404, 'not_found'),
  )
  await assert.rejects(reader.getAction(VM, 'req-none'), httpError(404, 'not_found'))
  await assert.rejects(reader.listActions(VM, { limit: -1 }), httpError(400, 'invalid_input'))
  await assert.rejects(reader.listActions(VM, { version: '3.0' }), httpError(406, 'not_acceptable'))
})

test('close() waits for requests under way and refuses later calls', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const client = serviceClient(baseUrl)
  const pending = client.actionStart({
    instanceUuid: VM,
    action: 'stop',
    requestId: CTX.requestId,
    userId: USER_A,
    projectId: PROJECT_A,
  })
  await client.close()
  // The write under way was sent and committed before close() resolved.
  assert.equal((await h.service.getAction(VM, CTX.requestId))?.action.action, 'stop')
  assert.equal(await pending, undefined)
  await assert.rejects(
    client.listActions(VM),
    (err) => err instanceof ClientClosedError && isAppError(err, 'internal'),
  )
  await assert.rejects(
    client.actionFinish({ instanceUuid: VM, requestId: CTX.requestId }),
    ClientClosedError,
  )
  await assert.rejects(
    client.batch([{ op: 'instance_delete', instance_uuid: VM }]),
    ClientClosedError,
  )
  await client.close()
})
