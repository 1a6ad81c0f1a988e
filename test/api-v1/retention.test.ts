/**
 * Retention through the HTTP API (issue 13): after an archive run, the Nova-compatible API answers
 * 404 for the archived instance (as Nova after `archive_deleted_rows`) and keeps answering for the
 * rest; the archived history is read with `archived=true` on GET /v1/actions and /v1/events, by
 * admins only (403 for the others), with the filters the shadow tables' indexes serve (400 for the
 * others); the stream (GET /v1/stream) is unaffected by the run, live and when replayed.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { timestampIn } from '../../src/store/retention-store.js'
import {
  buildHarness,
  headers,
  PROJECT_A,
  PROJECT_B,
  TOKENS,
  type Harness,
} from '../helpers/build-app.js'
import { SseClient } from '../helpers/sse-client.js'
import { assertV1Error, ok, v1 } from './v1-helpers.js'

const VM_A = '11111111-2222-4333-8444-aaaaaaaaaaaa'
const VM_B = '11111111-2222-4333-8444-bbbbbbbbbbbb'
const admin = { token: TOKENS.admin }

/** VM_A (project A) with 3 actions of one failed event each, VM_B (project B) with 2; VM_A deleted. */
async function seed(h: Harness): Promise<void> {
  const ops: Record<string, unknown>[] = [
    { op: 'instance_put', instance_uuid: VM_A, name: 'a', project_id: PROJECT_A, user_id: 'ua' },
    { op: 'instance_put', instance_uuid: VM_B, name: 'b', project_id: PROJECT_B, user_id: 'ub' },
  ]
  for (const [vm, n] of [
    [VM_A, 3],
    [VM_B, 2],
  ] as const) {
    for (let i = 0; i < n; i++) {
      const request_id = `req-${vm.slice(-1)}-${i}`
      const project_id = vm === VM_A ? PROJECT_A : PROJECT_B
      ops.push(
        {
          op: 'action_start',
          instance_uuid: vm,
          request_id,
          action: 'reboot',
          user_id: 'u',
          project_id,
        },
        { op: 'event_start', instance_uuid: vm, request_id, event: 'compute_reboot', host: 'h1' },
        {
          op: 'event_finish',
          instance_uuid: vm,
          request_id,
          event: 'compute_reboot',
          result: 'Error',
          traceback: 'Traceback: boom',
        },
        { op: 'action_finish', instance_uuid: vm, request_id },
      )
    }
  }
  ops.push({ op: 'instance_delete', instance_uuid: VM_A })
  const body = ok(await v1(h, 'POST', '/v1/batch', ops, admin), 200)
  for (const r of body.results as { status: number }[]) assert.ok(r.status < 300, JSON.stringify(r))
}

/** Archives everything deleted until now (a cut-off in the future). */
async function archive(h: Harness) {
  return h.retention.archive({ before: timestampIn(86_400_000), batchActions: 2 })
}

type Message = Record<string, unknown> & { action?: unknown }
/** The request id and instance of a stream message (`{action}` or `{instance_uuid, request_id, event}`). */
const about = (d: Message): { request_id?: string; instance_uuid?: string } =>
  (typeof d.action === 'object' && d.action !== null ? d.action : d) as {
    request_id?: string
    instance_uuid?: string
  }

const nova = (h: Harness, path: string, token: string = TOKENS.admin) =>
  h.app.inject({ method: 'GET', url: `/v2.1/servers/${path}`, headers: headers(token, '2.84') })

test('the Nova-compatible API answers 404 for an archived instance and as before for the rest', async (t) => {
  const h = await buildHarness(t)
  await seed(h)
  // Deleted but not archived: still readable from 2.21 on, as in Nova.
  assert.equal((await nova(h, `${VM_A}/os-instance-actions`)).statusCode, 200)
  assert.equal((await nova(h, `${VM_A}/os-instance-actions/req-a-0`)).statusCode, 200)
  assert.deepEqual(await archive(h), { instances: 1, actions: 3, events: 3 })
  for (const path of [`${VM_A}/os-instance-actions`, `${VM_A}/os-instance-actions/req-a-0`]) {
    const res = await nova(h, path)
    assert.equal(res.statusCode, 404, path)
    assert.ok('itemNotFound' in (JSON.parse(res.body) as object), res.body)
  }
  const b = await nova(h, `${VM_B}/os-instance-actions`)
  assert.equal(b.statusCode, 200)
  assert.equal((JSON.parse(b.body) as { instanceActions: unknown[] }).instanceActions.length, 2)
})

test('archived=true: admins read the archived history with its events; the live query no longer has it', async (t) => {
  const h = await buildHarness(t)
  await seed(h)
  await archive(h)
  const live = ok(await v1(h, 'GET', '/v1/actions', undefined, admin), 200)
  assert.deepEqual(
    (live.actions as { instance_uuid: string }[]).map((a) => a.instance_uuid),
    [VM_B, VM_B],
  )
  const page = ok(
    await v1(h, 'GET', '/v1/actions?archived=true&include=events&limit=2', undefined, admin),
    200,
  )
  const actions = page.actions as {
    request_id: string
    events: { result: string; traceback: string }[]
  }[]
  assert.deepEqual(
    actions.map((a) => a.request_id),
    ['req-a-2', 'req-a-1'],
  )
  assert.deepEqual(
    actions[0]?.events.map((e) => [e.result, e.traceback]),
    [['Error', 'Traceback: boom']],
  )
  const next = ok(
    await v1(
      h,
      'GET',
      `/v1/actions?archived=true&include=events&limit=2&cursor=${encodeURIComponent(String(page.next_cursor))}`,
      undefined,
      admin,
    ),
    200,
  )
  assert.deepEqual(
    (next.actions as { request_id: string }[]).map((a) => a.request_id),
    ['req-a-0'],
  )
  assert.equal(next.next_cursor, null)
  // The supported filters.
  for (const query of [
    `instance=${VM_A}`,
    `owner_project=${PROJECT_A}`,
    'request_id=req-a-1',
    'since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z',
  ]) {
    const body = ok(await v1(h, 'GET', `/v1/actions?archived=true&${query}`, undefined, admin), 200)
    assert.ok((body.actions as unknown[]).length >= 1, query)
  }
  const none = ok(
    await v1(h, 'GET', `/v1/actions?archived=true&instance=${VM_B}`, undefined, admin),
    200,
  )
  assert.deepEqual(none.actions, [])
  const events = ok(
    await v1(h, 'GET', `/v1/events?archived=true&owner_project=${PROJECT_A}`, undefined, admin),
    200,
  )
  assert.deepEqual(
    (events.events as { request_id: string; event: string }[]).map((e) => [e.request_id, e.event]),
    [
      ['req-a-2', 'compute_reboot'],
      ['req-a-1', 'compute_reboot'],
      ['req-a-0', 'compute_reboot'],
    ],
  )
  // archived=false is the live history.
  const explicit = ok(await v1(h, 'GET', '/v1/actions?archived=false', undefined, admin), 200)
  assert.equal((explicit.actions as unknown[]).length, 2)
})

test('archived=true: 403 for every non-admin, 400 for an unsupported filter or value', async (t) => {
  const h = await buildHarness(t)
  await seed(h)
  await archive(h)
  for (const token of [TOKENS.readerA, TOKENS.memberA, TOKENS.memberB, TOKENS.readerB]) {
    for (const route of ['actions', 'events']) {
      const res = await v1(h, 'GET', `/v1/${route}?archived=true`, undefined, { token })
      assertV1Error(res, 403, 'forbidden', /archived history requires the admin role/)
    }
  }
  for (const [query, message] of [
    ['archived=true&action=reboot', /'action' is not supported with archived=true/],
    ['archived=true&result=error', /'result' is not supported with archived=true/],
    ['archived=true&host=h1', /'host' is not supported with archived=true/],
    ['archived=true&time_field=updated_at', /'time_field' is not supported/],
    ['archived=true&state=stuck', /'state' is not supported/],
    ['archived=yes', /Invalid archived: 'yes'/],
    ['archived=true&archived=true', /may be given only once/],
  ] as const) {
    assertV1Error(
      await v1(h, 'GET', `/v1/actions?${query}`, undefined, admin),
      400,
      'invalid_input',
      message,
    )
  }
  assertV1Error(
    await v1(h, 'GET', '/v1/events?archived=true&event=compute_reboot', undefined, admin),
    400,
    'invalid_input',
    /'event' is not supported with archived=true/,
  )
  assertV1Error(
    await v1(h, 'GET', '/v1/export?archived=true', undefined, admin),
    400,
    'invalid_input',
    /archived/,
  )
})

test('the stream is unaffected by an archive run, live and replayed', async (t) => {
  const h = await buildHarness(t)
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  const address = h.app.server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const url = (q: string) => `http://127.0.0.1:${port}/v1/stream${q ? `?${q}` : ''}`
  const auth = { 'x-auth-token': TOKENS.admin }
  await seed(h)
  const live = await SseClient.ready(url(''), auth)
  t.after(() => live.close())
  await archive(h)
  // A marker written after the run: the first thing the live stream shows.
  ok(
    await v1(
      h,
      'POST',
      '/v1/batch',
      [
        {
          op: 'action_start',
          instance_uuid: VM_B,
          request_id: 'marker',
          action: 'end',
          user_id: null,
          project_id: null,
        },
      ],
      admin,
    ),
    200,
  )
  await live.until(() => live.messages.length >= 1, 'the marker')
  assert.deepEqual(
    live.data().map((d) => about(d).request_id),
    ['marker'],
  )
  // Replayed from the start: VM_B's history and the marker; neither the archived actions (gone)
  // nor the archive's own notes show.
  const replay = await SseClient.ready(url('after=0'), auth)
  t.after(() => replay.close())
  await replay.until(
    () => replay.data().some((d) => about(d).request_id === 'marker'),
    'the marker replayed',
  )
  const seen = replay.data().map(about)
  assert.ok(seen.length > 1)
  assert.ok(
    seen.every((d) => d.instance_uuid === VM_B),
    JSON.stringify(seen.slice(0, 3)),
  )
  assert.equal(seen.filter((d) => d.request_id === 'marker').length, 1)
  assert.ok(!replay.messages.some((m) => m.event !== 'action' && m.event !== 'event'))
})
