/**
 * `GET /v1/events` (issue 10): events across instances with their action, newest first by
 * start_time or updated_at, every filter alone and combined, keyset pages to the end, stuck work
 * by the parent action's deadline (a fixed clock), access by project (no traceback, host or
 * details for non-admins; host filter refused), and 400s naming the parameter.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseStuckPolicy } from '../../src/domain/stuck-work.js'
import { buildHarness, PROJECT_A, PROJECT_B, TOKENS, type Harness } from '../helpers/build-app.js'
import {
  assertQueriesRefused,
  assertV1Error,
  SEARCH_BAD_QUERIES,
  ManualClock,
  ok,
  v1,
} from './v1-helpers.js'

const VM_A = '11111111-2222-4333-8444-aaaaaaaaaaaa'
const VM_B = '11111111-2222-4333-8444-bbbbbbbbbbbb'
const admin = { token: TOKENS.admin }

interface Found {
  id: number
  event: string
  start_time: string
  updated_at: string | null
  result: string | null
  instance_uuid: string
  request_id: string
  action: string
  host?: string | null
  traceback?: string | null
  details?: string | null
}

const events = (body: Record<string, unknown>): Found[] => body.events as Found[]
const label = (e: Found) => `${e.request_id}:${e.event}`

/**
 * Per instance, 6 actions one minute apart from 10:00 (VM_A) / 10:00:30 (VM_B): 'resize' for even
 * i, 'migrate' for odd; each with 'compute_prep' (finished, Success, host-i) and 'compute_run'
 * (host-i) that failed (i%3==0), never finished (i%3==1) or succeeded (i%3==2). Run events finish
 * at the clock's 11:00.
 */
async function seed(h: Harness): Promise<void> {
  for (const [vm, project, user, offset] of [
    [VM_A, PROJECT_A, 'user-a', '00'],
    [VM_B, PROJECT_B, 'user-b', '30'],
  ] as const) {
    const put = { name: `vm-${project.slice(0, 1)}`, project_id: project, user_id: user }
    ok(await v1(h, 'PUT', `/v1/instances/${vm}`, put, admin), 201)
    for (let i = 0; i < 6; i++) {
      const req = `req-${vm.slice(-1)}-${i}`
      const at = (second: string) => `2026-03-01T10:0${i}:${second}.000000`
      const action = {
        action: i % 2 === 0 ? 'resize' : 'migrate',
        request_id: req,
        user_id: user,
        project_id: project,
        start_time: at(offset),
      }
      ok(await v1(h, 'POST', `/v1/instances/${vm}/actions`, action, admin), 201)
      const base = `/v1/instances/${vm}/actions/${req}/events`
      const prep = { event: 'compute_prep', host: `host-${i}`, start_time: at(offset) }
      ok(await v1(h, 'POST', base, prep, admin), 201)
      const prepDone = { result: 'Success', finish_time: at(offset) }
      ok(await v1(h, 'POST', `${base}/compute_prep/finish`, prepDone, admin), 200)
      const runStart = {
        event: 'compute_run',
        host: `host-${i}`,
        start_time: at(`${offset.slice(0, 1)}5`),
      }
      ok(await v1(h, 'POST', base, runStart, admin), 201)
      if (i % 3 === 1) continue
      const failed = i % 3 === 0
      const done = failed
        ? { result: 'Error', traceback: 'Traceback: boom', details: 'disk full' }
        : { result: 'Success' }
      ok(await v1(h, 'POST', `${base}/compute_run/finish`, done, admin), 200)
    }
  }
}

test('GET /v1/events', async (t) => {
  const h = await buildHarness(t, ':memory:', {
    clock: new ManualClock('2026-03-01T11:00:00.000000'),
    // At 11:00: resize is stuck after 30m (before 10:30), migrate after 3530s (before 10:01:10).
    stuck: parseStuckPolicy('30m', 'migrate=3530s'),
  })
  await seed(h)
  const get = async (url: string, token: string = TOKENS.admin) =>
    ok(await v1(h, 'GET', url, undefined, { token }), 200)
  const labels = async (q: string, token: string = TOKENS.admin) =>
    events(await get(`/v1/events?limit=1000&${q}`, token)).map(label)

  await t.test('admins see every event with its action, newest first by start_time', async () => {
    const all = events(await get('/v1/events?limit=1000'))
    assert.equal(all.length, 24)
    const keys = all.map((e) => `${e.start_time}/${String(e.id).padStart(6, '0')}`)
    assert.deepEqual(keys, [...keys].sort().reverse())
    const first = all[0]
    assert.deepEqual(
      first && [first.request_id, first.event, first.action, first.instance_uuid, first.host],
      ['req-b-5', 'compute_run', 'migrate', VM_B, 'host-5'],
    )
  })

  await t.test('each filter alone and combined finds exactly the matching events', async () => {
    assert.equal((await labels(`instance=${VM_A}`)).length, 12)
    assert.ok((await labels(`instance=${VM_A}`)).every((l) => l.startsWith('req-a-')))
    assert.deepEqual(await labels(`event=compute_run&instance=${VM_A}&action=resize`), [
      'req-a-4:compute_run',
      'req-a-2:compute_run',
      'req-a-0:compute_run',
    ])
    assert.equal((await labels('event=compute_run&event=compute_prep')).length, 24)
    assert.equal((await labels('action=migrate&action=resize')).length, 24)
    assert.deepEqual(await labels('request_id=req-b-3'), [
      'req-b-3:compute_run',
      'req-b-3:compute_prep',
    ])
    assert.deepEqual(await labels(`result=error&project=${PROJECT_B}`), [
      'req-b-3:compute_run',
      'req-b-0:compute_run',
    ])
    assert.deepEqual(await labels('result=running&user=user-a'), [
      'req-a-4:compute_run',
      'req-a-1:compute_run',
    ])
    assert.equal((await labels('result=success')).length, 16)
    assert.deepEqual((await labels('host=host-2&event=compute_run')).sort(), [
      'req-a-2:compute_run',
      'req-b-2:compute_run',
    ])
    assert.equal((await labels(`owner_project=${PROJECT_A}`)).length, 12)
    assert.deepEqual(await labels('since=2026-03-01T10:05:00Z&until=2026-03-01T10:05:10Z'), [
      'req-a-5:compute_run',
      'req-a-5:compute_prep',
    ])
  })

  await t.test(
    'time_field=updated_at: finished by updated_at, unfinished by start_time',
    async () => {
      // Every finish was stamped at the clock's 11:00; unfinished events have updated_at null.
      const recent = events(
        await get('/v1/events?limit=1000&time_field=updated_at&since=2026-03-01T10:59:00Z'),
      )
      assert.equal(recent.length, 20)
      assert.ok(recent.every((e) => e.updated_at !== null && e.result !== null))
      assert.deepEqual(
        events(await get('/v1/events?since=2026-03-01T10:59:00Z&time_field=start_time')),
        [],
      )
      const all = events(await get('/v1/events?limit=1000&time_field=updated_at'))
      const order = all.map((e) => e.updated_at ?? e.start_time)
      assert.deepEqual(order, [...order].sort().reverse())
      const running = all.filter((e) => e.updated_at === null).map(label)
      assert.deepEqual(running, [
        'req-b-4:compute_run',
        'req-a-4:compute_run',
        'req-b-1:compute_run',
        'req-a-1:compute_run',
      ])
    },
  )

  await t.test('pages follow the cursor to the end: every event once, in order', async () => {
    for (const [q, token] of [
      ['', TOKENS.admin],
      ['time_field=updated_at', TOKENS.admin],
      ['event=compute_run', TOKENS.readerA],
    ] as const) {
      const all = (await labels(q, token)).join(',')
      const seen: string[] = []
      let url = `/v1/events?limit=5&${q}`
      for (;;) {
        const body = await get(url, token)
        seen.push(...events(body).map(label))
        if (body.next_cursor === null) break
        assert.equal(events(body).length, 5, 'only the last page is short')
        url = `/v1/events?limit=5&${q}&cursor=${encodeURIComponent(body.next_cursor as string)}`
      }
      assert.equal(seen.join(','), all, q)
    }
  })

  await t.test('state=stuck: unfinished events past their action name’s deadline', async () => {
    // Unfinished: the run events of i=1 (migrate: 10:01:05 on VM_A is before 10:01:10, 10:01:35
    // on VM_B is not) and i=4 (resize: 10:04:05 and 10:04:35, before 10:30).
    assert.deepEqual(await labels('state=stuck'), [
      'req-b-4:compute_run',
      'req-a-4:compute_run',
      'req-a-1:compute_run',
    ])
    assert.deepEqual(await labels('state=stuck&action=migrate'), ['req-a-1:compute_run'])
    assert.deepEqual(await labels('state=stuck', TOKENS.readerB), ['req-b-4:compute_run'])
    assert.deepEqual(await labels('state=stuck&result=success'), [])
  })

  await t.test('non-admins: their project only, no traceback, host or details', async () => {
    for (const [token, vm] of [
      [TOKENS.readerA, VM_A],
      [TOKENS.memberA, VM_A],
      [TOKENS.readerB, VM_B],
      [TOKENS.memberB, VM_B],
    ] as const) {
      const body = await get('/v1/events?limit=7', token)
      const page = events(body)
      assert.equal(page.length, 7, 'a full page')
      assert.ok(page.every((e) => e.instance_uuid === vm))
      assert.ok(page.every((e) => !('traceback' in e) && !('host' in e) && !('details' in e)))
      assert.doesNotMatch(
        JSON.stringify(await get('/v1/events?limit=1000', token)),
        /boom|host-|disk full/,
      )
      assert.deepEqual(
        events(await get(`/v1/events?instance=${vm === VM_A ? VM_B : VM_A}`, token)),
        [],
      )
      const other = vm === VM_A ? PROJECT_B : PROJECT_A
      assert.deepEqual(events(await get(`/v1/events?owner_project=${other}`, token)), [])
      const res = await v1(h, 'GET', '/v1/events?host=host-1', undefined, { token })
      assertV1Error(res, 403, 'forbidden', /host/)
    }
    const [failed] = events(await get('/v1/events?request_id=req-a-0&event=compute_run'))
    assert.deepEqual(failed && [failed.host, failed.traceback, failed.details], [
      'host-0',
      'Traceback: boom',
      'disk full',
    ])
    for (const token of [TOKENS.serviceA, TOKENS.serviceB]) {
      const res = await v1(h, 'GET', '/v1/events', undefined, { token })
      assertV1Error(res, 403, 'forbidden')
    }
  })

  await t.test('cursors are bound to the route, the filters and the project', async () => {
    const actions = await get('/v1/actions?limit=2')
    const fromActions = await v1(
      h,
      'GET',
      `/v1/events?limit=2&cursor=${actions.next_cursor as string}`,
      undefined,
      admin,
    )
    assertV1Error(fromActions, 400, 'invalid_input', /cursor/)
    const page = await get('/v1/events?limit=2&event=compute_run')
    const other = await v1(
      h,
      'GET',
      `/v1/events?limit=2&event=compute_prep&cursor=${page.next_cursor as string}`,
      undefined,
      admin,
    )
    assertV1Error(other, 400, 'invalid_input', /cursor/)
    const mine = await get('/v1/events?limit=2', TOKENS.readerA)
    const theirs = await v1(
      h,
      'GET',
      `/v1/events?limit=2&cursor=${mine.next_cursor as string}`,
      undefined,
      {
        token: TOKENS.readerB,
      },
    )
    assertV1Error(theirs, 400, 'invalid_input', /cursor/)
  })

  await t.test('bad parameters are 400 naming the parameter', async () => {
    // Beyond those both search routes refuse alike (SEARCH_BAD_QUERIES):
    const cases: [string, RegExp][] = [
      ['include=events', /'include'/],
      ['request_id=a&request_id=b', /'request_id'/],
      ['time_field=created_at', /time_field/],
      ['state=stale', /state/],
      ['event=', /'event'/],
      ['cursor=garbage', /cursor/],
    ]
    await assertQueriesRefused(h, '/v1/events', [...SEARCH_BAD_QUERIES, ...cases])
  })
})
