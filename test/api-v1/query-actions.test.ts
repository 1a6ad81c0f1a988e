/**
 * `GET /v1/actions` (issue 10): filters across instances, newest first, keyset pages with a signed
 * cursor, access by project (filtered in the query: pages stay full), no traceback/host for
 * non-admins, and 400s naming the parameter.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildHarness, PROJECT_A, PROJECT_B, TOKENS, type Harness } from '../helpers/build-app.js'
import { parseStuckPolicy } from '../../src/domain/stuck-work.js'
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

interface Row {
  instance_uuid: string
  action: string
  request_id: string
  start_time: string
  updated_at: string
  project_id: string | null
  user_id: string | null
  events?: Record<string, unknown>[]
}

function rows(body: Record<string, unknown>): Row[] {
  return body.actions as Row[]
}

/**
 * 12 actions per instance, one a minute from 10:00 (VM_A) / 10:00:30 (VM_B), initiated by the
 * instance's own project and user; every third a 'migrate' whose event ran on host-N and failed.
 */
async function seed(h: Harness): Promise<void> {
  for (const [vm, project, user, offset] of [
    [VM_A, PROJECT_A, 'user-a', '00'],
    [VM_B, PROJECT_B, 'user-b', '30'],
  ] as const) {
    ok(
      await v1(
        h,
        'PUT',
        `/v1/instances/${vm}`,
        { name: `vm-${project.slice(0, 1)}`, project_id: project, user_id: user },
        admin,
      ),
      201,
    )
    for (let i = 0; i < 12; i++) {
      const req = `req-${vm.slice(-1)}-${String(i).padStart(2, '0')}`
      const start = `2026-03-01T10:${String(i).padStart(2, '0')}:${offset}.000000`
      const migrate = i % 3 === 0
      ok(
        await v1(
          h,
          'POST',
          `/v1/instances/${vm}/actions`,
          {
            action: migrate ? 'migrate' : 'reboot',
            request_id: req,
            user_id: user,
            project_id: project,
            start_time: start,
          },
          admin,
        ),
        201,
      )
      if (migrate) {
        const base = `/v1/instances/${vm}/actions/${req}/events`
        ok(await v1(h, 'POST', base, { event: 'compute_migrate', host: `host-${i}` }, admin), 201)
        ok(
          await v1(
            h,
            'POST',
            `${base}/compute_migrate/finish`,
            { result: 'Error', traceback: 'Traceback: boom' },
            admin,
          ),
          200,
        )
      } else if (i % 3 === 1) {
        ok(await v1(h, 'POST', `/v1/instances/${vm}/actions/${req}/finish`, {}, admin), 200)
      }
    }
  }
}

// One harness for the suite: the subtests only read (a fresh database costs seconds on servers).
test('GET /v1/actions', async (t) => {
  // A clock standing at 11:00 (the actions start 10:00-10:11): stuck deadlines are fixed, and
  // finishes without a time are stamped 11:00 (their updated_at).
  const h = await buildHarness(t, ':memory:', {
    clock: new ManualClock('2026-03-01T11:00:00.000000'),
    stuck: parseStuckPolicy('30m', 'migrate=55m,resize=1m'),
  })
  await seed(h)

  const get = async (url: string, token: string = TOKENS.admin) =>
    ok(await v1(h, 'GET', url, undefined, { token }), 200)

  await t.test('admins see every project, newest first by start_time', async () => {
    const all = rows(await get('/v1/actions?limit=1000'))
    assert.equal(all.length, 24)
    const times = all.map((r) => r.start_time)
    assert.deepEqual(times, [...times].sort().reverse())
    assert.equal(all[0]?.request_id, 'req-b-11')
  })

  await t.test('each filter narrows the answer to exactly the matching actions', async () => {
    const ids = async (q: string) =>
      rows(await get(`/v1/actions?limit=1000&${q}`)).map((r) => r.request_id)
    assert.equal((await ids(`instance=${VM_A}`)).length, 12)
    assert.ok((await ids(`instance=${VM_A}`)).every((r) => r.startsWith('req-a-')))
    assert.ok((await ids(`project=${PROJECT_B}`)).every((r) => r.startsWith('req-b-')))
    assert.equal((await ids(`owner_project=${PROJECT_B}`)).length, 12)
    assert.equal((await ids('user=user-a')).length, 12)
    assert.deepEqual(await ids('request_id=req-a-05'), ['req-a-05'])
    assert.deepEqual(await ids('action=migrate&instance=' + VM_A), [
      'req-a-09',
      'req-a-06',
      'req-a-03',
      'req-a-00',
    ])
    assert.equal((await ids('action=migrate&action=reboot')).length, 24)
    assert.deepEqual(await ids('result=error&user=user-b'), [
      'req-b-09',
      'req-b-06',
      'req-b-03',
      'req-b-00',
    ])
    assert.deepEqual(await ids(`result=success&instance=${VM_A}`), [
      'req-a-10',
      'req-a-07',
      'req-a-04',
      'req-a-01',
    ])
    // Running: never finished (the failed migrations are unfinished too).
    assert.equal((await ids(`result=running&instance=${VM_A}`)).length, 8)
    assert.deepEqual((await ids('host=host-6')).sort(), ['req-a-06', 'req-b-06'])
    assert.deepEqual(await ids('since=2026-03-01T10:10:00Z&until=2026-03-01T10:11:00Z'), [
      'req-a-11',
      'req-b-10',
      'req-a-10',
    ])
    assert.deepEqual(await ids('since=2026-03-01T11:11:00%2B01:00&project=' + PROJECT_A), [
      'req-a-11',
    ])
  })

  await t.test('pages follow the cursor to the end: every action once, in order', async () => {
    const all = rows(await get('/v1/actions?limit=1000')).map((r) => r.request_id)
    const seen: string[] = []
    let url = '/v1/actions?limit=5'
    for (;;) {
      const body = await get(url)
      const page = rows(body)
      assert.ok(page.length <= 5)
      seen.push(...page.map((r) => r.request_id))
      if (body.next_cursor === null) break
      assert.equal(page.length, 5, 'only the last page is short')
      url = `/v1/actions?limit=5&cursor=${encodeURIComponent(body.next_cursor as string)}`
    }
    assert.deepEqual(seen, all)
  })

  await t.test(
    'a forged, altered, stale-format or other-query cursor is 400, never a page',
    async () => {
      const body = await get('/v1/actions?limit=2&action=reboot')
      const cursor = body.next_cursor as string
      const [format, payload, mac] = cursor.split('.') as [string, string, string]
      const forgedPayload = Buffer.from(JSON.stringify(['2030-01-01T00:00:00.000000', 1])).toString(
        'base64url',
      )
      for (const bad of [
        `${format}.${forgedPayload}.${mac}`,
        `${format}.${payload}.${mac.slice(0, -2)}AA`,
        `c0.${payload}.${mac}`,
        'garbage',
      ]) {
        const res = await v1(
          h,
          'GET',
          `/v1/actions?limit=2&action=reboot&cursor=${bad}`,
          undefined,
          admin,
        )
        assertV1Error(res, 400, 'invalid_input', /cursor/)
      }
      // The same cursor with other filters would be a wrong page: refused.
      const other = await v1(
        h,
        'GET',
        `/v1/actions?limit=2&action=migrate&cursor=${cursor}`,
        undefined,
        admin,
      )
      assertV1Error(other, 400, 'invalid_input', /cursor/)
      // A member's cursor is bound to their project.
      const mine = await get('/v1/actions?limit=2', TOKENS.readerA)
      const theirs = await v1(
        h,
        'GET',
        `/v1/actions?limit=2&cursor=${mine.next_cursor as string}`,
        undefined,
        { token: TOKENS.readerB },
      )
      assertV1Error(theirs, 400, 'invalid_input', /cursor/)
    },
  )

  await t.test(
    "readers and members see only their own project's instances, in full pages",
    async () => {
      for (const [token, vm] of [
        [TOKENS.readerA, VM_A],
        [TOKENS.memberA, VM_A],
        [TOKENS.readerB, VM_B],
        [TOKENS.memberB, VM_B],
      ] as const) {
        const page = rows(await get('/v1/actions?limit=7', token))
        assert.equal(page.length, 7, 'a full page')
        assert.ok(page.every((r) => r.instance_uuid === vm))
        assert.deepEqual(
          rows(await get(`/v1/actions?instance=${vm === VM_A ? VM_B : VM_A}`, token)),
          [],
        )
      }
      const other = await get(`/v1/actions?owner_project=${PROJECT_B}`, TOKENS.readerA)
      assert.deepEqual(rows(other), [])
    },
  )

  await t.test(
    'only admins may filter by host (hosts are hidden from the others): 403',
    async () => {
      for (const token of [TOKENS.readerA, TOKENS.memberB]) {
        const res = await v1(h, 'GET', '/v1/actions?host=host-3', undefined, { token })
        assertV1Error(res, 403, 'forbidden', /host/)
      }
    },
  )

  await t.test('the service role alone may not query (403)', async () => {
    for (const token of [TOKENS.serviceA, TOKENS.serviceB]) {
      const res = await v1(h, 'GET', '/v1/actions', undefined, { token })
      assertV1Error(res, 403, 'forbidden')
    }
  })

  await t.test('include=events embeds events; traceback and host only for admins', async () => {
    const url = `/v1/actions?request_id=req-a-03&include=events`
    const [asAdmin] = rows(await get(url))
    const [event] = asAdmin?.events ?? []
    assert.equal(event?.host, 'host-3')
    assert.match(String(event?.traceback), /boom/)
    const [asReader] = rows(await get(url, TOKENS.readerA))
    const [seen] = asReader?.events ?? []
    assert.equal(seen?.event, 'compute_migrate')
    assert.equal(seen?.result, 'Error')
    assert.ok(!('host' in (seen ?? {})) && !('traceback' in (seen ?? {})))
    assert.doesNotMatch(JSON.stringify(asReader), /host-3|boom/)
    assert.equal(rows(await get('/v1/actions?request_id=req-a-03'))[0]?.events, undefined)
  })

  await t.test(
    'repeated action: cursor pages hold every match exactly once, in order',
    async () => {
      const all = rows(await get('/v1/actions?limit=1000')).map((r) => r.request_id)
      // A name given twice matches its actions once; a name nothing has matches nothing.
      for (const [names, size] of [
        ['action=migrate&action=reboot', 5],
        ['action=reboot&action=migrate&action=migrate&action=absent', 3],
        ['action=migrate&action=absent', 1],
      ] as const) {
        const expected = rows(await get('/v1/actions?limit=1000')).filter((r) =>
          names.includes(`action=${r.action}`),
        )
        for (const order of ['', '&time_field=updated_at']) {
          const seen: string[] = []
          let url = `/v1/actions?limit=${size}&${names}${order}`
          for (;;) {
            const body = await get(url)
            seen.push(...rows(body).map((r) => r.request_id))
            if (body.next_cursor === null) break
            const cursor = encodeURIComponent(body.next_cursor as string)
            url = `/v1/actions?limit=${size}&${names}${order}&cursor=${cursor}`
          }
          const once = rows(await get(`/v1/actions?limit=1000&${names}${order}`))
          assert.deepEqual(
            seen,
            once.map((r) => r.request_id),
            `${names}${order}`,
          )
          assert.deepEqual(
            [...seen].sort(),
            expected.map((r) => r.request_id).sort(),
            `${names}${order}: every match once`,
          )
        }
      }
      assert.equal(all.length, 24)
    },
  )

  await t.test(
    'include=events: each action of a page gets its own events, newest first',
    async () => {
      const page = rows(await get(`/v1/actions?limit=6&instance=${VM_B}&include=events`))
      assert.deepEqual(
        page.map((r) => [
          r.request_id,
          (r.events ?? []).map((e) => `${String(e.event)}@${String(e.host)}`),
        ]),
        [
          ['req-b-11', []],
          ['req-b-10', []],
          ['req-b-09', ['compute_migrate@host-9']],
          ['req-b-08', []],
          ['req-b-07', []],
          ['req-b-06', ['compute_migrate@host-6']],
        ],
      )
    },
  )

  await t.test('time_field=updated_at orders, windows and pages by updated_at', async () => {
    const all = rows(await get('/v1/actions?limit=1000&time_field=updated_at'))
    assert.equal(all.length, 24)
    const times = all.map((r) => r.updated_at)
    assert.deepEqual(times, [...times].sort().reverse())
    // The last write touched req-b-10 (finished at 11:00); start_time order would put req-b-11 first.
    assert.equal(all[0]?.request_id, 'req-b-10')
    // Finished and failed actions were updated at 11:00; the unfinished reboots at their start.
    const recent = rows(
      await get('/v1/actions?limit=1000&time_field=updated_at&since=2026-03-01T10:59:00Z'),
    )
    assert.equal(recent.length, 16)
    assert.ok(recent.every((r) => r.updated_at >= '2026-03-01T10:59'))
    assert.deepEqual(
      rows(await get('/v1/actions?since=2026-03-01T10:59:00Z&time_field=start_time')),
      [],
    )
    const seen: string[] = []
    let url = '/v1/actions?limit=5&time_field=updated_at'
    for (;;) {
      const body = await get(url)
      seen.push(...rows(body).map((r) => r.request_id))
      if (body.next_cursor === null) break
      url = `/v1/actions?limit=5&time_field=updated_at&cursor=${encodeURIComponent(body.next_cursor as string)}`
    }
    assert.deepEqual(
      seen,
      all.map((r) => r.request_id),
    )
    // A start_time cursor is not an updated_at cursor.
    const byStart = await get('/v1/actions?limit=2')
    const res = await v1(
      h,
      'GET',
      `/v1/actions?limit=2&time_field=updated_at&cursor=${byStart.next_cursor as string}`,
      undefined,
      admin,
    )
    assertV1Error(res, 400, 'invalid_input', /cursor/)
  })

  await t.test('state=stuck: unfinished past the deadline of the action name', async () => {
    // At 11:00 with 30m by default and migrate=55m: every unfinished reboot (10:02-10:11) is
    // stuck, and the failed, unfinished migrations of 10:00 and 10:03 but not 10:06 and 10:09.
    const ids = async (q: string, token: string = TOKENS.admin) =>
      rows(await get(`/v1/actions?limit=1000&state=stuck&${q}`, token)).map((r) => r.request_id)
    assert.deepEqual(await ids(`instance=${VM_A}`), [
      'req-a-11',
      'req-a-08',
      'req-a-05',
      'req-a-03',
      'req-a-02',
      'req-a-00',
    ])
    assert.deepEqual(await ids('action=migrate'), ['req-b-03', 'req-a-03', 'req-b-00', 'req-a-00'])
    assert.deepEqual(await ids('action=migrate&result=error&until=2026-03-01T10:01:00Z'), [
      'req-b-00',
      'req-a-00',
    ])
    assert.equal((await ids('')).length, 12)
    assert.deepEqual(await ids('result=success'), [])
    // Members see their own project's stuck work only.
    const mine = await ids('', TOKENS.memberB)
    assert.equal(mine.length, 6)
    assert.ok(mine.every((r) => r.startsWith('req-b-')))
    // Paged, with updated_at order: the same set.
    const paged: string[] = []
    let url = '/v1/actions?limit=5&state=stuck&time_field=updated_at'
    for (;;) {
      const body = await get(url)
      paged.push(...rows(body).map((r) => r.request_id))
      if (body.next_cursor === null) break
      const cursor = encodeURIComponent(body.next_cursor as string)
      url = `/v1/actions?limit=5&state=stuck&time_field=updated_at&cursor=${cursor}`
    }
    assert.deepEqual([...paged].sort(), (await ids('')).sort())
  })

  await t.test('bad parameters are 400 naming the parameter', async () => {
    // Beyond those both search routes refuse alike (SEARCH_BAD_QUERIES):
    const cases: [string, RegExp][] = [
      ['limit=1001', /limit/],
      ['limit=abc', /limit/],
      ['include=everything', /include/],
      ['user=', /'user'/],
      ['time_field=finish_time', /time_field/],
      ['time_field=start_time&time_field=updated_at', /'time_field'/],
      ['state=running', /state/],
      ['state=stuck&state=stuck', /'state'/],
      ['event=compute_migrate', /'event'/],
    ]
    await assertQueriesRefused(h, '/v1/actions', [...SEARCH_BAD_QUERIES, ...cases])
  })
})
