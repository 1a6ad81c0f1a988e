/**
 * `GET .../os-instance-actions/{request_id}` (docs/nova-behaviour.md §8, §9): what admins, members and readers see
 * at each microversion, hostId, event order, the 404s, and query parameters on show.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import {
  buildHarness,
  headers,
  PROJECT_A,
  PROJECT_B,
  TOKENS,
  USER_A,
  type Harness,
} from '../helpers/build-app.js'
import {
  assertFault,
  json,
  SAMPLE_HOST_ID,
  SAMPLE_PROJECT,
  seedAction,
  seedCreateStop,
  seedServer,
  SERVER,
  sha224,
  STOP_REQ,
  TIMES,
} from '../helpers/seed.js'

function showUrl(requestId: string, server = SERVER): string {
  return `/v2.1/servers/${server}/os-instance-actions/${encodeURIComponent(requestId)}`
}

async function show(
  h: Harness,
  requestId: string,
  token: string,
  version?: string,
  query = '',
): Promise<LightMyRequestResponse> {
  return h.app.inject({
    method: 'GET',
    url: `${showUrl(requestId)}${query}`,
    headers: headers(token, version),
  })
}

function action(res: LightMyRequestResponse): Record<string, unknown> {
  assert.equal(res.statusCode, 200, res.body)
  const body = json(res)
  assert.deepEqual(Object.keys(body), ['instanceAction'])
  return body.instanceAction as Record<string, unknown>
}

function events(res: LightMyRequestResponse): Record<string, unknown>[] {
  const a = action(res)
  assert.ok(Array.isArray(a.events), 'events present')
  return a.events as Record<string, unknown>[]
}

const BASE = [
  'action',
  'instance_uuid',
  'message',
  'project_id',
  'request_id',
  'start_time',
  'user_id',
]

/**
 * Expected action keys (sorted) and event keys (in the order of docs/nova-behaviour.md §8.2), or
 * null for no `events`.
 */
function expected(
  role: 'admin' | 'member' | 'reader',
  minor: number,
): { action: string[]; event: string[] | null } {
  const admin = role === 'admin'
  const actionKeys = [...BASE, ...(minor >= 58 ? ['updated_at'] : [])]
  if (!admin && minor < 51) return { action: actionKeys.sort(), event: null }
  const event = ['event', 'start_time', 'finish_time', 'result']
  if (admin) event.push('traceback')
  if (admin && minor >= 62) event.push('host')
  if (minor >= 62) event.push('hostId')
  if (admin && minor >= 84) event.push('details')
  return { action: [...actionKeys, 'events'].sort(), event }
}

const VERSIONS = [
  '2.1',
  '2.50',
  '2.51',
  '2.58',
  '2.61',
  '2.62',
  '2.83',
  '2.84',
  '2.101',
  '2.102',
  '2.104',
]
const ROLES = { admin: TOKENS.admin, member: TOKENS.memberA, reader: TOKENS.readerA } as const

describe('show: visibility matrix', () => {
  for (const [role, token] of Object.entries(ROLES) as [keyof typeof ROLES, string][]) {
    test(`${role} at ${VERSIONS.join(', ')}`, async (t) => {
      const h = await buildHarness(t)
      await seedCreateStop(h)
      for (const version of VERSIONS) {
        const minor = Number(version.split('.')[1])
        const want = expected(role, minor)
        const a = action(await show(h, STOP_REQ, token, version))
        assert.deepEqual(Object.keys(a).sort(), want.action, `${role} ${version} action keys`)
        if (want.event === null) {
          assert.equal('events' in a, false, `${role} ${version}: no events key`)
          continue
        }
        const evs = a.events as Record<string, unknown>[]
        assert.equal(evs.length, 1)
        const [ev] = evs
        assert.ok(ev)
        assert.deepEqual(Object.keys(ev), want.event, `${role} ${version} event keys, in order`)
        assert.equal(ev.event, 'compute_stop_instance')
        assert.equal(ev.start_time, TIMES.eventStart)
        assert.equal(ev.finish_time, TIMES.eventFinish)
        assert.equal(ev.result, 'Success')
        if ('traceback' in ev) assert.equal(ev.traceback, null)
        if ('details' in ev) assert.equal(ev.details, null)
        if ('host' in ev) assert.equal(ev.host, 'compute')
        if ('hostId' in ev) assert.equal(ev.hostId, sha224(`${PROJECT_A}compute`))
      }
    })
  }

  test('the action fields themselves', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    const a = action(await show(h, STOP_REQ, TOKENS.memberA, '2.58'))
    delete a.events
    assert.deepEqual(a, {
      action: 'stop',
      instance_uuid: SERVER,
      message: null,
      project_id: PROJECT_A,
      request_id: STOP_REQ,
      start_time: TIMES.stopStart,
      updated_at: TIMES.eventFinish,
      user_id: USER_A,
    })
  })

  test('admins see traceback, details and host raw as stored; members never do', async (t) => {
    const h = await buildHarness(t)
    await seedServer(h)
    await seedAction(h, {
      action: 'resize',
      requestId: 'req-fail',
      events: [
        {
          event: 'compute_resize_instance',
          host: 'compute-7',
          result: 'Error',
          traceback:
            '  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 10, in resize\n    raise Boom()\n',
          details: 'Instance failed to resize',
        },
      ],
    })
    const stored = await h.service.getAction(SERVER, 'req-fail')
    const storedEvent = stored?.events[0]
    assert.ok(storedEvent)
    assert.equal(typeof storedEvent.traceback, 'string')
    const [adminEvent] = events(await show(h, 'req-fail', TOKENS.admin, '2.84'))
    assert.ok(adminEvent)
    assert.equal(adminEvent.traceback, storedEvent.traceback)
    assert.equal(adminEvent.details, storedEvent.details)
    assert.equal(adminEvent.host, 'compute-7')
    assert.equal(adminEvent.result, 'Error')
    assert.equal(action(await show(h, 'req-fail', TOKENS.admin, '2.84')).message, 'Error')
    for (const token of [TOKENS.memberA, TOKENS.readerA]) {
      for (const version of ['2.51', '2.62', '2.84', '2.104']) {
        const [ev] = events(await show(h, 'req-fail', token, version))
        assert.ok(ev)
        for (const hidden of ['traceback', 'details', 'host'])
          assert.equal(hidden in ev, false, `${hidden} at ${version}`)
      }
    }
  })

  test('a running event has null finish_time and result', async (t) => {
    const h = await buildHarness(t)
    await seedServer(h)
    await seedAction(h, {
      action: 'reboot',
      requestId: 'req-run',
      events: [{ event: 'compute_reboot_instance' }],
    })
    const [ev] = events(await show(h, 'req-run', TOKENS.admin, '2.84'))
    assert.ok(ev)
    assert.equal(ev.finish_time, null)
    assert.equal(ev.result, null)
  })
})

describe('show: hostId', () => {
  test('§8.3 check value: sha224(project 6f70... + "compute")', async (t) => {
    assert.equal(sha224(`${SAMPLE_PROJECT}compute`), SAMPLE_HOST_ID)
    const h = await buildHarness(t)
    await seedCreateStop(h, { actionProjectId: SAMPLE_PROJECT })
    for (const token of [TOKENS.admin, TOKENS.memberA, TOKENS.readerA]) {
      const [ev] = events(await show(h, STOP_REQ, token, '2.62'))
      assert.equal(ev?.hostId, SAMPLE_HOST_ID)
    }
  })

  test('"" when the host is null; admins see host null', async (t) => {
    const h = await buildHarness(t)
    await seedServer(h)
    await seedAction(h, {
      action: 'stop',
      requestId: 'req-nohost',
      events: [{ event: 'compute_stop_instance', host: null, result: 'Success' }],
    })
    const [adminEvent] = events(await show(h, 'req-nohost', TOKENS.admin, '2.62'))
    assert.equal(adminEvent?.host, null)
    assert.equal(adminEvent?.hostId, '')
    const [memberEvent] = events(await show(h, 'req-nohost', TOKENS.memberA, '2.62'))
    assert.equal(memberEvent?.hostId, '')
  })

  test("hashes the action's (initiator's) project: an admin acting on another project's server", async (t) => {
    const h = await buildHarness(t)
    await seedServer(h)
    await seedAction(h, {
      action: 'migrate',
      requestId: 'req-admin',
      projectId: PROJECT_B,
      userId: 'admin',
      events: [{ event: 'compute_prep_resize', host: 'compute-2', result: 'Success' }],
    })
    const [ev] = events(await show(h, 'req-admin', TOKENS.memberA, '2.62'))
    assert.equal(ev?.hostId, sha224(`${PROJECT_B}compute-2`))
    assert.notEqual(ev?.hostId, sha224(`${PROJECT_A}compute-2`))
  })

  test("falls back to the instance's project when the action has none", async (t) => {
    const h = await buildHarness(t)
    await seedServer(h)
    await seedAction(h, {
      action: 'refresh',
      requestId: 'req-manage',
      projectId: null,
      userId: null,
      events: [{ event: 'compute_refresh', host: 'compute-3', result: 'Success' }],
    })
    const a = action(await show(h, 'req-manage', TOKENS.admin, '2.62'))
    assert.equal(a.project_id, null)
    assert.equal(a.user_id, null)
    assert.equal(
      (a.events as Record<string, unknown>[])[0]?.hostId,
      sha224(`${PROJECT_A}compute-3`),
    )
  })
})

describe('show: events order and not-found', () => {
  test('events newest first', async (t) => {
    const h = await buildHarness(t)
    await seedServer(h)
    await seedAction(h, {
      action: 'resize',
      requestId: 'req-multi',
      events: [
        { event: 'compute_prep_resize', result: 'Success', startTime: '2018-01-01T00:00:03' },
        { event: 'compute_resize_instance', result: 'Success', startTime: '2018-01-01T00:00:01' },
        { event: 'compute_finish_resize', startTime: '2018-01-01T00:00:02' },
      ],
    })
    for (const token of [TOKENS.admin, TOKENS.memberA]) {
      assert.deepEqual(
        events(await show(h, 'req-multi', token, '2.84')).map((e) => e.event),
        ['compute_finish_resize', 'compute_resize_instance', 'compute_prep_resize'],
      )
    }
  })

  test('an action without events shows an empty list (2.51+, or admin)', async (t) => {
    const h = await buildHarness(t)
    await seedServer(h)
    await seedAction(h, { action: 'lock', requestId: 'req-lock' })
    assert.deepEqual(events(await show(h, 'req-lock', TOKENS.memberA, '2.51')), [])
    assert.deepEqual(events(await show(h, 'req-lock', TOKENS.admin, '2.1')), [])
  })

  test('Action 999 not found', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    for (const token of [TOKENS.admin, TOKENS.memberA, TOKENS.readerA]) {
      assertFault(await show(h, '999', token), 404, 'Action 999 not found')
      assertFault(await show(h, '999', token, '2.104'), 404, 'Action 999 not found')
    }
  })

  test("the request id of another server's action is not found", async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    const other = await seedServer(h, {
      uuid: '33333333-4444-4555-8666-777777777777',
      name: 'vm-2',
    })
    await seedAction(h, { server: other, action: 'create', requestId: 'req-of-other' })
    assertFault(
      await show(h, 'req-of-other', TOKENS.memberA, '2.58'),
      404,
      'Action req-of-other not found',
    )
    assertFault(
      await show(h, 'req-of-other', TOKENS.admin, '2.58'),
      404,
      'Action req-of-other not found',
    )
  })

  test('an unknown server → instance 404 before the action lookup', async (t) => {
    const h = await buildHarness(t)
    const unknown = '0e44cc9c-e052-415d-afbf-469b0d384170'
    const res = await h.app.inject({
      method: 'GET',
      url: showUrl('999', unknown),
      headers: headers(TOKENS.admin),
    })
    assertFault(res, 404, `Instance ${unknown} could not be found.`)
  })
})

describe('show: query parameters', () => {
  test('ignored before 2.102', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    for (const version of ['2.1', '2.58', '2.66', '2.101']) {
      for (const q of ['?foo=1', '?limit=x&limit=y', '?marker=req-unknown']) {
        const a = action(await show(h, STOP_REQ, TOKENS.memberA, version, q))
        assert.equal(a.request_id, STOP_REQ, `${version} ${q}`)
      }
    }
  })

  test('2.102 rejects any query parameter', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    for (const version of ['2.102', '2.104']) {
      assertFault(
        await show(h, STOP_REQ, TOKENS.memberA, version, '?foo=1'),
        400,
        "Additional properties are not allowed ('foo' was unexpected)",
      )
      assertFault(
        await show(h, STOP_REQ, TOKENS.memberA, version, '?limit=1'),
        400,
        "Additional properties are not allowed ('limit' was unexpected)",
      )
      assertFault(
        await show(h, STOP_REQ, TOKENS.admin, version, '?b=1&a=2'),
        400,
        "Additional properties are not allowed ('a', 'b' were unexpected)",
      )
      assert.equal(action(await show(h, STOP_REQ, TOKENS.memberA, version)).request_id, STOP_REQ)
    }
  })
})
