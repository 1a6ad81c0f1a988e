/**
 * `GET /v1/stream` (issue 10) through real HTTP: the message format, filters, the access matrix
 * (admins see everything with tracebacks, hosts and details; readers and members of a project only
 * their project's instances, without them), 400/403/503 answers in the /v1 format, resuming with
 * Last-Event-ID or `after`, heartbeats, and a slow consumer's overflow.
 */
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { buildHarness, PROJECT_A, PROJECT_B, TOKENS, type Harness } from '../helpers/build-app.js'
import type { HarnessOptions } from '../helpers/build-app.js'
import { SseClient } from '../helpers/sse-client.js'
import { ok, v1 } from './v1-helpers.js'

const VM_A = '11111111-2222-4333-8444-aaaaaaaaaaaa'
const VM_B = '11111111-2222-4333-8444-bbbbbbbbbbbb'

interface Streaming {
  h: Harness
  /** The stream URL with this query string. */
  url: (query?: string) => string
}

async function streaming(t: TestContext, options: HarnessOptions = {}): Promise<Streaming> {
  const h = await buildHarness(t, ':memory:', options)
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  const address = h.app.server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  ok(
    await v1(h, 'POST', '/v1/batch', [
      { op: 'instance_put', instance_uuid: VM_A, name: 'a', project_id: PROJECT_A, user_id: 'ua' },
      { op: 'instance_put', instance_uuid: VM_B, name: 'b', project_id: PROJECT_B, user_id: 'ub' },
    ]),
    200,
  )
  return { h, url: (q = '') => `http://127.0.0.1:${port}/v1/stream${q ? `?${q}` : ''}` }
}

/** Writes one operation per request (one transaction each, so one change each). */
async function write(h: Harness, ...ops: Record<string, unknown>[]): Promise<void> {
  for (const op of ops) {
    const body = ok(await v1(h, 'POST', '/v1/batch', [op], { token: TOKENS.admin }), 200)
    const [result] = body.results as { status: number }[]
    assert.ok(result && result.status < 300, JSON.stringify(body))
  }
}

/** A whole action on `vm`: start, a failed event on host-1, finish: six changes. */
async function lifecycle(h: Harness, vm: string, requestId: string, action = 'reboot') {
  const project = vm === VM_A ? PROJECT_A : PROJECT_B
  await write(
    h,
    {
      op: 'action_start',
      instance_uuid: vm,
      request_id: requestId,
      action,
      user_id: `u-${vm.slice(-1)}`,
      project_id: project,
    },
    {
      op: 'event_start',
      instance_uuid: vm,
      request_id: requestId,
      event: 'compute_x',
      host: 'host-1',
    },
    {
      op: 'event_finish',
      instance_uuid: vm,
      request_id: requestId,
      event: 'compute_x',
      result: 'Error',
      traceback: 'Traceback: boom',
      details: 'disk full',
    },
    { op: 'action_finish', instance_uuid: vm, request_id: requestId },
  )
}

/** Starts an `end` action (no user, no project) on each of VM_A and VM_B: a marker after the rest. */
async function endMarkers(h: Harness): Promise<void> {
  const end = (vm: string, requestId: string) => ({
    op: 'action_start',
    instance_uuid: vm,
    request_id: requestId,
    action: 'end',
    user_id: null,
    project_id: null,
  })
  await write(h, end(VM_A, 'end-a'), end(VM_B, 'end-b'))
}

const auth = (token: string, extra: Record<string, string> = {}) => ({
  'x-auth-token': token,
  ...extra,
})

test('messages: ids, kinds, views; the stream starts at the head and is served as SSE', async (t) => {
  const s = await streaming(t)
  await lifecycle(s.h, VM_A, 'req-before')
  const c = await SseClient.ready(s.url(), auth(TOKENS.admin))
  t.after(() => c.close())
  assert.equal(c.headers['content-type'], 'text/event-stream; charset=utf-8')
  assert.equal(c.headers['x-accel-buffering'], 'no')
  assert.equal(c.headers['cache-control'], 'no-cache, no-transform')
  assert.match(String(c.headers['x-openstack-request-id']), /^req-/)
  await lifecycle(s.h, VM_A, 'req-1')
  await c.until(() => c.messages.length >= 6, 'six messages')
  // Nothing from before the subscription; then the changes in order with increasing ids.
  assert.deepEqual(
    c.messages.map((m) => m.event),
    ['action', 'event', 'action', 'event', 'action', 'action'],
  )
  const ids = c.messages.map((m) => Number(m.id))
  assert.deepEqual(
    ids,
    ids.map((_, i) => (ids[0] as number) + i),
  )
  assert.equal(ids[0], 7, 'the six changes of req-before came first')
  const [action] = c.data('action')
  assert.deepEqual(Object.keys(action?.action as object).sort(), [
    'action',
    'created_at',
    'finish_time',
    'instance_uuid',
    'message',
    'project_id',
    'request_id',
    'start_time',
    'updated_at',
    'user_id',
    'written_by',
  ])
  assert.equal((action?.action as { request_id: string }).request_id, 'req-1')
  // As in GET /v1/actions: an admin sees who wrote it, as a keyed tag, never the raw id.
  assert.match(String((action?.action as { written_by: unknown }).written_by), /^w:[0-9a-f]{16}$/)
  const events = c.data('event')
  const finished = events[1] as {
    instance_uuid: string
    request_id: string
    action: string
    event: Record<string, unknown>
  }
  assert.equal(finished.instance_uuid, VM_A)
  assert.equal(finished.request_id, 'req-1')
  assert.equal(finished.action, 'reboot')
  assert.equal(finished.event.result, 'Error')
  assert.equal(finished.event.traceback, 'Traceback: boom')
  assert.equal(finished.event.host, 'host-1')
  assert.equal(finished.event.details, 'disk full')
  // The last action message carries the finished action with its "Error" message.
  const last = c.data('action').at(-1)?.action as { finish_time: string | null; message: string }
  assert.notEqual(last.finish_time, null)
  assert.equal(last.message, 'Error')
})

test('access: non-admins see only their project, without traceback, host or details', async (t) => {
  const s = await streaming(t)
  const clients = {
    admin: await SseClient.ready(s.url(), auth(TOKENS.admin)),
    adminA: await SseClient.ready(s.url(), auth(TOKENS.adminA)),
    memberA: await SseClient.ready(s.url(), auth(TOKENS.memberA)),
    readerA: await SseClient.ready(s.url(), auth(TOKENS.readerA)),
    memberB: await SseClient.ready(s.url(), auth(TOKENS.memberB)),
    readerB: await SseClient.ready(s.url(), auth(TOKENS.readerB)),
    // Asking for another project's instances finds nothing; it does not widen the scope.
    readerAasksB: await SseClient.ready(s.url(`owner_project=${PROJECT_B}`), auth(TOKENS.readerA)),
    readerAinstanceB: await SseClient.ready(s.url(`instance=${VM_B}`), auth(TOKENS.readerA)),
  }
  t.after(() => Object.values(clients).forEach((c) => c.close()))
  await lifecycle(s.h, VM_A, 'req-a')
  await lifecycle(s.h, VM_B, 'req-b')
  // A marker after everything: admins get 14 messages, each project's people 7.
  await endMarkers(s.h)
  for (const c of [clients.admin, clients.adminA])
    await c.until(() => c.messages.length >= 14, 'all messages')
  for (const c of [clients.memberA, clients.readerA, clients.memberB, clients.readerB])
    await c.until(() => c.messages.length >= 7, 'own messages')
  const instances = (c: SseClient) =>
    new Set(
      c
        .data()
        .map(
          (d) =>
            (d.action as { instance_uuid?: string } | undefined)?.instance_uuid ?? d.instance_uuid,
        ),
    )
  assert.deepEqual(instances(clients.admin), new Set([VM_A, VM_B]))
  assert.deepEqual(instances(clients.adminA), new Set([VM_A, VM_B]))
  assert.deepEqual(instances(clients.memberA), new Set([VM_A]))
  assert.deepEqual(instances(clients.readerA), new Set([VM_A]))
  assert.deepEqual(instances(clients.memberB), new Set([VM_B]))
  assert.deepEqual(instances(clients.readerB), new Set([VM_B]))
  for (const c of [clients.memberA, clients.readerA, clients.memberB, clients.readerB]) {
    assert.equal(c.messages.length, 7)
    for (const e of c.data('event')) {
      const event = e.event as Record<string, unknown>
      assert.deepEqual(
        ['traceback', 'host', 'details', 'written_by', 'finished_by'].filter((k) => k in event),
        [],
      )
    }
    for (const a of c.data('action')) assert.ok(!('written_by' in (a.action as object)))
  }
  for (const c of [clients.admin, clients.adminA])
    for (const e of c.data('event')) assert.ok('traceback' in (e.event as object))
  assert.equal(clients.readerAasksB.messages.length, 0)
  assert.equal(clients.readerAinstanceB.messages.length, 0)
})

test('filters: instance, project, owner_project, user, action, request_id, host, types', async (t) => {
  const s = await streaming(t)
  const open = (q: string) => SseClient.ready(s.url(q), auth(TOKENS.admin))
  const cases: [string, number][] = [
    [`instance=${VM_B}`, 7],
    [`project=${PROJECT_A}`, 6],
    [`owner_project=${PROJECT_A}`, 7],
    ['user=u-a', 6],
    ['action=migrate&action=end', 8],
    ['request_id=req-b', 6],
    ['host=host-1', 4],
    ['types=event', 4],
    ['types=action', 10],
    ['types=action,event', 14],
    [`instance=${VM_A}&types=event&host=host-1`, 2],
  ]
  const clients = await Promise.all(cases.map(([q]) => open(q)))
  t.after(() => clients.forEach((c) => c.close()))
  await lifecycle(s.h, VM_A, 'req-a')
  await lifecycle(s.h, VM_B, 'req-b', 'migrate')
  await endMarkers(s.h)
  // An unfiltered stream opened last tells when everything has been handed out.
  const all = await open('after=0')
  t.after(() => all.close())
  await all.until(() => all.messages.length >= 14, 'everything')
  await new Promise((r) => setTimeout(r, 200))
  cases.forEach(([q, n], i) => assert.equal(clients[i]?.messages.length, n, q))
})

test('bad parameters are 400 invalid_input naming them; host is admin only (403)', async (t) => {
  const s = await streaming(t)
  const cases: [string, Record<string, string>, number, RegExp][] = [
    ['since=2026-01-01T00:00:00Z', {}, 400, /since/],
    ['limit=5', {}, 400, /limit/],
    ['cursor=x', {}, 400, /cursor/],
    ['instance=a&instance=b', {}, 400, /instance/],
    ['types=actions', {}, 400, /types/],
    ['after=-1', {}, 400, /after/],
    ['after=abc', {}, 400, /after/],
    ['user=', {}, 400, /user/],
    ['', { 'last-event-id': 'x1' }, 400, /Last-Event-ID/],
  ]
  for (const [q, headers, status, message] of cases) {
    const c = await SseClient.open(s.url(q), auth(TOKENS.admin, headers))
    await c.closed()
    assert.equal(c.status, status, q)
    const body = JSON.parse(c.body) as { error: { code: string; message: string } }
    assert.equal(body.error.code, 'invalid_input')
    assert.match(body.error.message, message)
  }
  const host = await SseClient.open(s.url('host=h'), auth(TOKENS.readerA))
  await host.closed()
  assert.equal(host.status, 403)
  assert.equal((JSON.parse(host.body) as { error: { code: string } }).error.code, 'forbidden')
  for (const token of [TOKENS.serviceA, 'no-such-token']) {
    const c = await SseClient.open(s.url(), auth(token))
    await c.closed()
    assert.equal(c.status, token === TOKENS.serviceA ? 403 : 401)
  }
})

test('Last-Event-ID wins over after; after=0 replays everything; resuming gives exactly the rest', async (t) => {
  const s = await streaming(t)
  await lifecycle(s.h, VM_A, 'req-1')
  await lifecycle(s.h, VM_B, 'req-2')
  const all = await SseClient.ready(s.url('after=0'), auth(TOKENS.admin))
  t.after(() => all.close())
  await all.until(() => all.messages.length >= 12, 'replay')
  assert.deepEqual(
    all.messages.map((m) => m.id),
    Array.from({ length: 12 }, (_, i) => String(i + 1)),
  )
  const resumed = await SseClient.ready(
    s.url('after=0'),
    auth(TOKENS.admin, { 'last-event-id': '8' }),
  )
  t.after(() => resumed.close())
  await resumed.until(() => resumed.messages.length >= 4, 'the rest')
  await lifecycle(s.h, VM_A, 'req-3')
  await resumed.until(() => resumed.messages.length >= 10, 'the rest and live changes')
  assert.deepEqual(
    resumed.messages.map((m) => Number(m.id)),
    Array.from({ length: 10 }, (_, i) => i + 9),
  )
})

test('a heartbeat comment comes every ACTIONTRAIL_STREAM_HEARTBEAT_MS', async (t) => {
  const s = await streaming(t, { stream: { heartbeatMs: 100 } })
  const c = await SseClient.ready(s.url(), auth(TOKENS.readerA))
  t.after(() => c.close())
  await c.until(() => c.comments.filter((x) => x === 'heartbeat').length >= 3, 'three heartbeats')
})

test('more streams than the cap: 503 too_many_streams with Retry-After; a closed one frees its place', async (t) => {
  const s = await streaming(t, { stream: { maxSubscribers: 2 } })
  const a = await SseClient.ready(s.url(), auth(TOKENS.readerA))
  const b = await SseClient.ready(s.url(), auth(TOKENS.readerB))
  const refused = await SseClient.open(s.url(), auth(TOKENS.admin))
  await refused.closed()
  assert.equal(refused.status, 503)
  assert.equal(refused.headers['retry-after'], '1')
  assert.equal(
    (JSON.parse(refused.body) as { error: { code: string } }).error.code,
    'too_many_streams',
  )
  a.close()
  b.close()
  // The server notices the closed connections.
  for (let i = 0; ; i++) {
    const c = await SseClient.open(s.url(), auth(TOKENS.admin))
    if (c.status === 200) {
      c.close()
      break
    }
    await c.closed()
    assert.ok(i < 100, 'closed streams must free their places')
    await new Promise((r) => setTimeout(r, 20))
  }
})

test('a slow consumer gets overflow with a resume position, is closed, and loses nothing', async (t) => {
  const s = await streaming(t, { stream: { bufferBytes: 256 * 1024 } })
  const slow = await SseClient.ready(s.url(), auth(TOKENS.admin))
  const other = await SseClient.ready(s.url(), auth(TOKENS.admin))
  t.after(() => {
    slow.close()
    other.close()
  })
  slow.pause()
  // Enough to fill the socket's buffers on both sides of the loopback (several MB), and then the
  // 256 KiB buffer: events that failed with 20 KB tracebacks (admins see them).
  await write(s.h, {
    op: 'action_start',
    instance_uuid: VM_A,
    request_id: 'big',
    action: 'reboot',
    user_id: null,
    project_id: null,
  })
  const events = 400
  const ops = [] as Record<string, unknown>[]
  for (let i = 0; i < events; i++) {
    const base = { instance_uuid: VM_A, request_id: 'big', event: `e${i}` }
    ops.push({ op: 'event_start', ...base, host: null })
    ops.push({
      op: 'event_finish',
      ...base,
      result: 'Error',
      traceback: `${i} ${'x'.repeat(20_000)}`,
    })
  }
  for (let i = 0; i < ops.length; i += 100) {
    const body = ok(
      await v1(s.h, 'POST', '/v1/batch', ops.slice(i, i + 100), { token: TOKENS.admin }),
      200,
    )
    const statuses = new Set((body.results as { status: number }[]).map((r) => r.status))
    assert.ok(
      [...statuses].every((x) => x < 300),
      JSON.stringify(body).slice(0, 300),
    )
  }
  // Per batch of 50 events: one change per event, and one for the action.
  const n = 1 + (events / 50) * 51
  // The other consumer keeps getting everything.
  await other.until(() => other.messages.length >= n, 'every change on the reading stream')

  slow.resume()
  await slow.closed()
  const overflow = slow.messages.at(-1)
  assert.equal(overflow?.event, 'overflow')
  const resumeAfter = (JSON.parse(overflow.data) as { resume_after: string }).resume_after
  const received = slow.messages.filter((m) => m.event !== 'overflow').map((m) => Number(m.id))
  assert.ok(received.length < n, 'the slow consumer overflowed before the end')
  assert.equal(resumeAfter, String(received.at(-1) ?? 0))
  const resumed = await SseClient.ready(
    s.url(),
    auth(TOKENS.admin, { 'last-event-id': resumeAfter }),
  )
  t.after(() => resumed.close())
  await resumed.until(() => resumed.messages.length >= n - received.length, 'the rest')
  const all = [...received, ...resumed.messages.map((m) => Number(m.id))]
  assert.deepEqual(
    all,
    other.messages.map((m) => Number(m.id)),
  )
})

test('catching up a backlog larger than the buffer goes at the reader’s pace, without overflow', async (t) => {
  const s = await streaming(t, { stream: { bufferBytes: 64 * 1024 } })
  await write(s.h, {
    op: 'action_start',
    instance_uuid: VM_B,
    request_id: 'big',
    action: 'reboot',
    user_id: null,
    project_id: null,
  })
  const ops = [] as Record<string, unknown>[]
  for (let i = 0; i < 300; i++) {
    const base = { instance_uuid: VM_B, request_id: 'big', event: `e${i}` }
    ops.push({ op: 'event_start', ...base, host: null })
    ops.push({
      op: 'event_finish',
      ...base,
      result: 'Error',
      traceback: `${i} ${'y'.repeat(20_000)}`,
    })
  }
  for (let i = 0; i < ops.length; i += 100)
    ok(await v1(s.h, 'POST', '/v1/batch', ops.slice(i, i + 100), { token: TOKENS.admin }), 200)
  // 1 + 6 × 51 changes, about 6 MB for an admin: far more than the 64 KiB buffer.
  const c = await SseClient.ready(s.url('after=0'), auth(TOKENS.admin))
  t.after(() => c.close())
  c.pause()
  await new Promise((r) => setTimeout(r, 300))
  c.resume()
  await c.until(() => c.messages.length >= 307, 'the whole backlog')
  assert.deepEqual(
    c.messages.map((m) => Number(m.id)),
    Array.from({ length: 307 }, (_, i) => i + 1),
  )
  assert.ok(!c.messages.some((m) => m.event === 'overflow'))
})

/**
 * Writes a backlog of `batches` × 51 changes plus one on VM_A (one action, then batches of 50
 * events started and finished in one transaction each: one change per record and transaction),
 * with tracebacks of `traceback` bytes; returns the number of changes.
 */
async function backlog(h: Harness, batches: number, traceback: number): Promise<number> {
  await write(h, {
    op: 'action_start',
    instance_uuid: VM_A,
    request_id: 'backlog',
    action: 'reboot',
    user_id: null,
    project_id: null,
  })
  for (let b = 0; b < batches; b++) {
    const ops = [] as Record<string, unknown>[]
    for (let i = b * 50; i < (b + 1) * 50; i++) {
      const base = { instance_uuid: VM_A, request_id: 'backlog', event: `e${i}` }
      ops.push({ op: 'event_start', ...base, host: null })
      ops.push({
        op: 'event_finish',
        ...base,
        result: 'Error',
        traceback: `${i} ${'z'.repeat(traceback)}`,
      })
    }
    ok(await v1(h, 'POST', '/v1/batch', ops, { token: TOKENS.admin }), 200)
  }
  return 1 + batches * 51
}

/** Every position from `first` to `last`, once, in order. */
const positions = (first: number, last: number) =>
  Array.from({ length: last - first + 1 }, (_, i) => first + i)

// The smallest buffer config.ts allows (ACTIONTRAIL_STREAM_BUFFER_BYTES >= 4096): a few messages
// fill it, so the last write of a step usually stays under the socket's high-water mark.
const SMALLEST_BUFFER = 4096

test('a fast reader catches up hundreds of changes with the smallest buffer, each once in order', async (t) => {
  const s = await streaming(t, { stream: { bufferBytes: SMALLEST_BUFFER } })
  const n = await backlog(s.h, 6, 100)
  const c = await SseClient.ready(s.url('after=0'), auth(TOKENS.admin))
  t.after(() => c.close())
  await c.until(() => c.messages.length >= n, 'the whole backlog', 10_000)
  assert.deepEqual(
    c.messages.map((m) => Number(m.id)),
    positions(1, n),
  )
  assert.ok(!c.messages.some((m) => m.event === 'overflow'))
  // Still subscribed and live afterwards: a new change arrives, once.
  await write(s.h, {
    op: 'action_start',
    instance_uuid: VM_A,
    request_id: 'after-backlog',
    action: 'stop',
    user_id: null,
    project_id: null,
  })
  await c.until(() => c.messages.length >= n + 1, 'the live change after the backlog', 10_000)
  assert.deepEqual(
    c.messages.map((m) => Number(m.id)),
    positions(1, n + 1),
  )
})

test('catching up messages each larger than the smallest buffer delivers each once in order', async (t) => {
  const s = await streaming(t, { stream: { bufferBytes: SMALLEST_BUFFER } })
  // 20 KB tracebacks: each admin message alone exceeds the buffer and the socket's high-water
  // mark, so each is written only once the socket has sent everything before it.
  const n = await backlog(s.h, 2, 20_000)
  const c = await SseClient.ready(s.url('after=0'), auth(TOKENS.admin))
  t.after(() => c.close())
  await c.until(() => c.messages.length >= n, 'the whole backlog', 15_000)
  assert.deepEqual(
    c.messages.map((m) => Number(m.id)),
    positions(1, n),
  )
  assert.ok(!c.messages.some((m) => m.event === 'overflow'))
})

test('a slow but steady reader catches up a backlog many times the smallest buffer, without overflow', async (t) => {
  const s = await streaming(t, { stream: { bufferBytes: SMALLEST_BUFFER } })
  const n = await backlog(s.h, 4, 100)
  const c = await SseClient.ready(s.url('after=0'), auth(TOKENS.admin))
  t.after(() => c.close())
  // Reads in short bursts with pauses between them, until everything is in.
  let reading = true
  void (async () => {
    while (reading && c.messages.length < n && !c.ended) {
      c.pause()
      await new Promise((r) => setTimeout(r, 30))
      c.resume()
      await new Promise((r) => setTimeout(r, 5))
    }
  })()
  t.after(() => {
    reading = false
  })
  await c.until(() => c.messages.length >= n, 'the whole backlog', 15_000)
  reading = false
  c.resume()
  assert.deepEqual(
    c.messages.map((m) => Number(m.id)),
    positions(1, n),
  )
  assert.ok(!c.messages.some((m) => m.event === 'overflow'))
})

test('bulk live changes reach a reader with the smallest buffer, each once in order', async (t) => {
  const s = await streaming(t, { stream: { bufferBytes: SMALLEST_BUFFER } })
  const c = await SseClient.ready(s.url(), auth(TOKENS.admin))
  t.after(() => c.close())
  // Written after the subscription (instance_put records no change): positions 1 to n, live.
  const n = await backlog(s.h, 4, 10)
  await c.until(() => c.messages.length >= n, 'every live change', 15_000)
  assert.deepEqual(
    c.messages.map((m) => Number(m.id)),
    positions(1, n),
  )
  assert.ok(!c.messages.some((m) => m.event === 'overflow'))
})
