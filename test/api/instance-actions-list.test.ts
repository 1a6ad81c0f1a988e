/**
 * `GET /v2.1[/{project_id}]/servers/{id}/os-instance-actions` (docs/nova-behaviour.md §6, §7): ordering, keys per
 * microversion, pagination and its next links, time filters, the project-id URL form and deleted
 * servers.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import type { Timestamp } from '../../src/domain/timestamp.js'
import {
  buildHarness,
  headers,
  PROJECT_A,
  PROJECT_B,
  TOKENS,
  USER_A,
  type Harness,
} from '../helpers/build-app.js'
import { assertFault, HOST, json, seedAction, seedServer, SERVER } from '../helpers/seed.js'

const BASE_KEYS = [
  'action',
  'instance_uuid',
  'message',
  'project_id',
  'request_id',
  'start_time',
  'user_id',
]
const KEYS_258 = [...BASE_KEYS, 'updated_at'].sort()

function listUrl(server = SERVER, query = '', project?: string): string {
  return `/v2.1${project ? `/${project}` : ''}/servers/${server}/os-instance-actions${query ? `?${query}` : ''}`
}

async function get(
  h: Harness,
  url: string,
  version?: string,
  token: string = TOKENS.memberA,
): Promise<LightMyRequestResponse> {
  return h.app.inject({ method: 'GET', url, headers: { ...headers(token, version), host: HOST } })
}

interface ListBody {
  instanceActions: Record<string, unknown>[]
  links?: { href: string; rel: string }[]
}

function body(res: LightMyRequestResponse): ListBody {
  assert.equal(res.statusCode, 200, res.body)
  return json(res) as unknown as ListBody
}

function ids(b: ListBody): unknown[] {
  return b.instanceActions.map((a) => a.request_id)
}

/** The path and query of a next href, to follow it with inject. */
function follow(href: string): string {
  const prefix = `http://${HOST}`
  assert.ok(href.startsWith(prefix), href)
  return href.slice(prefix.length)
}

/** Three actions req-1..req-3, created in that order, updated_at = start_time = ...:0N. */
async function seedThree(h: Harness): Promise<void> {
  await seedServer(h)
  for (const n of [1, 2, 3]) {
    await seedAction(h, {
      action: `action-${n}`,
      requestId: `req-${n}`,
      startTime: `2018-01-01T00:00:0${n}.000000`,
    })
  }
}

describe('list: ordering and keys', () => {
  test('newest first by created_at, not by start_time', async (t) => {
    const h = await buildHarness(t)
    await seedServer(h)
    await seedAction(h, {
      action: 'create',
      requestId: 'req-late-start',
      startTime: '2030-01-01T00:00:00',
    })
    await seedAction(h, {
      action: 'reboot',
      requestId: 'req-early-start',
      startTime: '2010-01-01T00:00:00',
    })
    await seedAction(h, {
      action: 'stop',
      requestId: 'req-mid-start',
      startTime: '2020-01-01T00:00:00',
    })
    for (const v of [undefined, '2.58']) {
      assert.deepEqual(ids(body(await get(h, listUrl(), v))), [
        'req-mid-start',
        'req-early-start',
        'req-late-start',
      ])
    }
  })

  test('created_at ties are broken by id, descending', async (t) => {
    const h = await buildHarness(t)
    await seedServer(h)
    const at = '2018-01-01T00:00:00.000000' as Timestamp
    for (const n of [1, 2, 3]) {
      await h.store.startAction({
        instanceUuid: SERVER,
        action: 'reboot',
        requestId: `req-tie-${n}`,
        userId: USER_A,
        projectId: PROJECT_A,
        startTime: `2018-01-01T00:00:0${4 - n}.000000` as Timestamp,
        createdAt: at,
      })
    }
    assert.deepEqual(ids(body(await get(h, listUrl()))), ['req-tie-3', 'req-tie-2', 'req-tie-1'])
    const page = body(await get(h, listUrl(SERVER, 'limit=1&marker=req-tie-2'), '2.58'))
    assert.deepEqual(ids(page), ['req-tie-1'])
  })

  for (const [version, keys] of [
    ['2.1', BASE_KEYS],
    ['2.21', BASE_KEYS],
    ['2.57', BASE_KEYS],
    ['2.58', KEYS_258],
    ['2.66', KEYS_258],
    ['2.104', KEYS_258],
  ] as const) {
    test(`item keys at ${version}`, async (t) => {
      const h = await buildHarness(t)
      await seedServer(h)
      await seedAction(h, {
        action: 'stop',
        requestId: 'req-stop',
        startTime: '2018-04-25T01:26:29.074293',
        events: [
          {
            event: 'compute_stop_instance',
            result: 'Success',
            finishTime: '2018-04-25T01:26:29.585618',
          },
        ],
      })
      const b = body(await get(h, listUrl(), version))
      assert.deepEqual(Object.keys(b), ['instanceActions'])
      const [item] = b.instanceActions
      assert.ok(item)
      assert.deepEqual(Object.keys(item).sort(), [...keys].sort())
      assert.deepEqual(
        { ...item },
        {
          action: 'stop',
          instance_uuid: SERVER,
          message: null,
          project_id: PROJECT_A,
          request_id: 'req-stop',
          start_time: '2018-04-25T01:26:29.074293',
          user_id: USER_A,
          ...(keys.length === 8 ? { updated_at: '2018-04-25T01:26:29.585618' } : {}),
        },
      )
    })
  }

  test('message is "Error" once an event failed', async (t) => {
    const h = await buildHarness(t)
    await seedServer(h)
    await seedAction(h, {
      action: 'resize',
      requestId: 'req-r',
      events: [{ event: 'compute_resize', result: 'Error' }],
    })
    assert.equal(body(await get(h, listUrl())).instanceActions[0]?.message, 'Error')
  })

  test('a server without actions gives an empty list without links', async (t) => {
    const h = await buildHarness(t)
    await seedServer(h)
    for (const v of [undefined, '2.58', '2.104']) {
      assert.deepEqual(json(await get(h, listUrl(), v)), { instanceActions: [] })
    }
  })

  test("an unknown server is 404 with Nova's message", async (t) => {
    const h = await buildHarness(t)
    const unknown = '0e44cc9c-e052-415d-afbf-469b0d384170'
    assertFault(await get(h, listUrl(unknown)), 404, `Instance ${unknown} could not be found.`)
  })
})

describe('list before 2.58', () => {
  test('limit, marker, changes-since and unknown parameters are ignored', async (t) => {
    const h = await buildHarness(t)
    await seedThree(h)
    for (const v of [undefined, '2.21', '2.57']) {
      for (const q of [
        'limit=1',
        'marker=req-unknown',
        'changes-since=wrong_time',
        'foo=bar&foo=baz',
        'limit=x&limit=y',
        'changes-before=2000-01-01',
      ]) {
        const b = body(await get(h, listUrl(SERVER, q), v))
        assert.deepEqual(ids(b), ['req-3', 'req-2', 'req-1'], `${v} ${q}`)
        assert.equal('links' in b, false)
      }
    }
  })
})

describe('list pagination (2.58+)', () => {
  test('limit gives a full page with a next link; following it gives the rest without links', async (t) => {
    const h = await buildHarness(t)
    await seedThree(h)
    const first = body(await get(h, listUrl(SERVER, 'limit=2'), '2.58'))
    assert.deepEqual(ids(first), ['req-3', 'req-2'])
    assert.deepEqual(first.links, [
      {
        href: `http://${HOST}/v2.1/servers/${SERVER}/os-instance-actions?limit=2&marker=req-2`,
        rel: 'next',
      },
    ])
    const second = body(await get(h, follow(first.links?.[0]?.href ?? ''), '2.58'))
    assert.deepEqual(ids(second), ['req-1'])
    assert.equal('links' in second, false)
  })

  test('a full last page still has a link, which leads to an empty list without links', async (t) => {
    const h = await buildHarness(t)
    await seedThree(h)
    const page = body(await get(h, listUrl(SERVER, 'limit=3'), '2.58'))
    assert.equal(page.instanceActions.length, 3)
    assert.deepEqual(page.links, [
      {
        href: `http://${HOST}/v2.1/servers/${SERVER}/os-instance-actions?limit=3&marker=req-1`,
        rel: 'next',
      },
    ])
    const next = await get(h, follow(page.links?.[0]?.href ?? ''), '2.58')
    assert.deepEqual(json(next), { instanceActions: [] })
  })

  test('a short page has no links key at all', async (t) => {
    const h = await buildHarness(t)
    await seedThree(h)
    for (const q of ['limit=4', 'limit=1000', '', 'marker=req-2', 'limit=2&marker=req-2']) {
      const b = body(await get(h, listUrl(SERVER, q), '2.58'))
      assert.equal('links' in b, false, q)
      assert.deepEqual(Object.keys(b), ['instanceActions'])
    }
  })

  test('marker starts after the given action', async (t) => {
    const h = await buildHarness(t)
    await seedThree(h)
    assert.deepEqual(ids(body(await get(h, listUrl(SERVER, 'marker=req-3'), '2.58'))), [
      'req-2',
      'req-1',
    ])
    assert.deepEqual(ids(body(await get(h, listUrl(SERVER, 'marker=req-1'), '2.58'))), [])
  })

  test('limit=0 returns an empty list without links and without resolving the marker', async (t) => {
    const h = await buildHarness(t)
    await seedThree(h)
    assert.deepEqual(json(await get(h, listUrl(SERVER, 'limit=0'), '2.58')), {
      instanceActions: [],
    })
    assert.deepEqual(json(await get(h, listUrl(SERVER, 'limit=0&marker=req-unknown'), '2.58')), {
      instanceActions: [],
    })
  })

  test('limit accepts leading zeros', async (t) => {
    const h = await buildHarness(t)
    await seedThree(h)
    const b = body(await get(h, listUrl(SERVER, 'limit=002'), '2.58'))
    assert.deepEqual(ids(b), ['req-3', 'req-2'])
    assert.equal(
      b.links?.[0]?.href,
      `http://${HOST}/v2.1/servers/${SERVER}/os-instance-actions?limit=002&marker=req-2`,
    )
  })

  test('a marker of another server is unknown here', async (t) => {
    const h = await buildHarness(t)
    await seedThree(h)
    const other = await seedServer(h, { uuid: '33333333-4444-4555-8666-777777777777' })
    await seedAction(h, { server: other, action: 'create', requestId: 'req-other' })
    assertFault(
      await get(h, listUrl(SERVER, 'marker=req-other'), '2.58'),
      400,
      'Marker None could not be found.',
    )
  })

  test('max_limit caps pages at 1000; before 2.58 the list is unbounded', async (t) => {
    const h = await buildHarness(t)
    await seedServer(h)
    const total = 1005
    for (let n = 1; n <= total; n++) {
      await seedAction(h, {
        action: 'reboot',
        requestId: `req-${String(n).padStart(4, '0')}`,
        startTime: '2018-01-01T00:00:00',
      })
    }
    const all = body(await get(h, listUrl()))
    assert.equal(all.instanceActions.length, total)
    assert.equal('links' in all, false)

    // No limit from 2.58: max_limit applies and the full page gets a link.
    const noLimit = body(await get(h, listUrl(), '2.58'))
    assert.equal(noLimit.instanceActions.length, 1000)
    assert.deepEqual(noLimit.links, [
      {
        href: `http://${HOST}/v2.1/servers/${SERVER}/os-instance-actions?marker=req-0006`,
        rel: 'next',
      },
    ])

    const capped = body(await get(h, listUrl(SERVER, 'limit=5000'), '2.58'))
    assert.equal(capped.instanceActions.length, 1000)
    assert.equal(capped.instanceActions[999]?.request_id, 'req-0006')
    const href = capped.links?.[0]?.href ?? ''
    assert.equal(
      href,
      `http://${HOST}/v2.1/servers/${SERVER}/os-instance-actions?limit=5000&marker=req-0006`,
    )
    const rest = body(await get(h, follow(href), '2.58'))
    assert.deepEqual(ids(rest), ['req-0005', 'req-0004', 'req-0003', 'req-0002', 'req-0001'])
    assert.equal('links' in rest, false)
  })
})

describe('next href format', () => {
  test('all query parameters sorted by name, quote_plus encoded, marker last', async (t) => {
    const h = await buildHarness(t)
    await seedThree(h)
    const res = await get(
      h,
      listUrl(
        SERVER,
        'limit=1&changes-before=2019-01-01T00:00:00&changes-since=2018-01-01T00:00:00Z',
      ),
      '2.66',
    )
    assert.deepEqual(body(res).links, [
      {
        href:
          `http://${HOST}/v2.1/servers/${SERVER}/os-instance-actions` +
          '?changes-before=2019-01-01T00%3A00%3A00&changes-since=2018-01-01T00%3A00%3A00Z&limit=1&marker=req-3',
        rel: 'next',
      },
    ])
  })

  test('an existing marker is replaced by the last item, not repeated', async (t) => {
    const h = await buildHarness(t)
    await seedThree(h)
    const b = body(await get(h, listUrl(SERVER, 'marker=req-3&limit=1'), '2.58'))
    assert.deepEqual(ids(b), ['req-2'])
    assert.equal(
      b.links?.[0]?.href,
      `http://${HOST}/v2.1/servers/${SERVER}/os-instance-actions?limit=1&marker=req-2`,
    )
  })

  test('+ as %2B, : as %3A and a space as +; the link round-trips', async (t) => {
    const h = await buildHarness(t)
    await seedServer(h)
    await seedAction(h, {
      action: 'create',
      requestId: 'req:a +b/c',
      startTime: '2018-01-01T00:00:01',
    })
    await seedAction(h, { action: 'stop', requestId: 'req-last', startTime: '2018-01-01T00:00:02' })
    // A space-separated date and an offset whose + is sent as %2B.
    const first = body(
      await get(
        h,
        listUrl(SERVER, 'changes-since=2018-01-01+01:00:00%2B01:00&limit=1&marker=req-last'),
        '2.58',
      ),
    )
    assert.deepEqual(ids(first), ['req:a +b/c'])
    const href = first.links?.[0]?.href ?? ''
    assert.equal(
      href,
      `http://${HOST}/v2.1/servers/${SERVER}/os-instance-actions` +
        '?changes-since=2018-01-01+01%3A00%3A00%2B01%3A00&limit=1&marker=req%3Aa+%2Bb%2Fc',
    )
    assert.deepEqual(json(await get(h, follow(href), '2.58')), { instanceActions: [] })
  })

  test('the server id appears as given in the URL', async (t) => {
    const h = await buildHarness(t)
    await seedThree(h)
    const upper = SERVER.toUpperCase()
    const b = body(await get(h, listUrl(upper, 'limit=1'), '2.58'))
    assert.deepEqual(ids(b), ['req-3'])
    assert.equal(
      b.links?.[0]?.href,
      `http://${HOST}/v2.1/servers/${upper}/os-instance-actions?limit=1&marker=req-3`,
    )
  })
})

describe('time filters', () => {
  async function seedTimes(h: Harness): Promise<void> {
    await seedThree(h)
    // Started long ago, but updated last by its event: changes-* look at updated_at.
    await seedAction(h, {
      action: 'migrate',
      requestId: 'req-old-start',
      startTime: '2017-01-01T00:00:00',
      events: [
        {
          event: 'compute_migrate',
          startTime: '2017-01-01T00:00:01',
          result: 'Success',
          finishTime: '2018-01-01T00:00:05',
        },
      ],
    })
  }

  const cases: { version: string; query: string; expect: string[] }[] = [
    {
      version: '2.58',
      query: 'changes-since=2018-01-01T00:00:02',
      expect: ['req-old-start', 'req-3', 'req-2'],
    },
    {
      version: '2.58',
      query: 'changes-since=2018-01-01T00:00:02.000001',
      expect: ['req-old-start', 'req-3'],
    },
    { version: '2.58', query: 'changes-since=2018-01-01T00:00:04', expect: ['req-old-start'] },
    {
      version: '2.58',
      query: 'changes-since=2018-01-01T01:00:02%2B01:00',
      expect: ['req-old-start', 'req-3', 'req-2'],
    },
    {
      version: '2.58',
      query: 'changes-since=2017-12-31T23:00:03-01:00',
      expect: ['req-old-start', 'req-3'],
    },
    {
      version: '2.58',
      query: 'changes-since=2018',
      expect: ['req-old-start', 'req-3', 'req-2', 'req-1'],
    },
    { version: '2.58', query: 'changes-since=20180101T000003', expect: ['req-old-start', 'req-3'] },
    { version: '2.66', query: 'changes-before=2018-01-01T00:00:02', expect: ['req-2', 'req-1'] },
    {
      version: '2.66',
      query: 'changes-before=2018-01-01T00:00:05',
      expect: ['req-old-start', 'req-3', 'req-2', 'req-1'],
    },
    {
      version: '2.66',
      query: 'changes-since=2018-01-01T00:00:02&changes-before=2018-01-01T00:00:02',
      expect: ['req-2'],
    },
    {
      version: '2.66',
      query: 'changes-since=2018-01-01T00:00:02&changes-before=2018-01-01T00:00:03',
      expect: ['req-3', 'req-2'],
    },
    {
      version: '2.66',
      query: 'changes-since=2018-01-01T00:00:02&limit=1&marker=req-3',
      expect: ['req-2'],
    },
  ]
  for (const c of cases) {
    test(`${c.version} ${decodeURIComponent(c.query)}`, async (t) => {
      const h = await buildHarness(t)
      await seedTimes(h)
      assert.deepEqual(ids(body(await get(h, listUrl(SERVER, c.query), c.version))), c.expect)
    })
  }

  test('an unencoded + in the offset decodes to a space and no longer parses', async (t) => {
    const h = await buildHarness(t)
    await seedTimes(h)
    assertFault(
      await get(h, listUrl(SERVER, 'changes-since=2018-01-01T01:00:02+01:00'), '2.58'),
      400,
      'Invalid input for query parameters changes-since. Value: 2018-01-01T01:00:02 01:00. ' +
        "'2018-01-01T01:00:02 01:00' is not a 'date-time'",
    )
  })

  test('changes-before < changes-since → 400', async (t) => {
    const h = await buildHarness(t)
    await seedTimes(h)
    assertFault(
      await get(
        h,
        listUrl(SERVER, 'changes-since=2018-01-01T00:00:03&changes-before=2018-01-01T00:00:02'),
        '2.66',
      ),
      400,
      'The value of changes-since must be less than or equal to changes-before.',
    )
  })
})

describe('project-prefixed URLs', () => {
  test('/v2.1/{project_id}/servers/... works and gives prefixed links', async (t) => {
    const h = await buildHarness(t)
    await seedThree(h)
    const b = body(await get(h, listUrl(SERVER, 'limit=1', PROJECT_A), '2.58'))
    assert.deepEqual(ids(b), ['req-3'])
    assert.deepEqual(b.links, [
      {
        href: `http://${HOST}/v2.1/${PROJECT_A}/servers/${SERVER}/os-instance-actions?limit=1&marker=req-3`,
        rel: 'next',
      },
    ])
    const next = body(await get(h, follow(b.links?.[0]?.href ?? ''), '2.58'))
    assert.deepEqual(ids(next), ['req-2'])
    assert.match(next.links?.[0]?.href ?? '', new RegExp(`/v2.1/${PROJECT_A}/servers/`))
    // Show works under the prefix too.
    const show = await get(h, `${listUrl(SERVER, '', PROJECT_A)}/req-2`)
    assert.equal(show.statusCode, 200)
  })

  test("a project id that is not the token's → 400 Malformed request URL", async (t) => {
    const h = await buildHarness(t)
    await seedThree(h)
    const message =
      `Malformed request URL: URL's project_id '${PROJECT_B}' doesn't match ` +
      `Context's project_id '${PROJECT_A}'`
    assertFault(await get(h, listUrl(SERVER, '', PROJECT_B)), 400, message)
    assertFault(await get(h, `${listUrl(SERVER, '', PROJECT_B)}/req-1`), 400, message)
    // Checked before query validation and before the instance lookup.
    assertFault(await get(h, listUrl('not-a-uuid', 'limit=x', PROJECT_B), '2.58'), 400, message)
    // Admins are held to it as well.
    assertFault(
      await get(h, listUrl(SERVER, '', PROJECT_A), undefined, TOKENS.admin),
      400,
      `Malformed request URL: URL's project_id '${PROJECT_A}' doesn't match Context's project_id '${PROJECT_B}'`,
    )
  })
})

describe('deleted servers', () => {
  test('404 up to 2.20, readable from 2.21', async (t) => {
    const h = await buildHarness(t)
    await seedThree(h)
    await seedAction(h, {
      action: 'delete',
      requestId: 'req-delete',
      startTime: '2018-01-01T00:00:09',
    })
    await h.service.deleteInstance(SERVER)
    const missing = `Instance ${SERVER} could not be found.`
    for (const v of [undefined, '2.20']) {
      assertFault(await get(h, listUrl(), v), 404, missing)
      assertFault(await get(h, `${listUrl()}/req-1`, v), 404, missing)
    }
    for (const v of ['2.21', '2.58', '2.104']) {
      assert.deepEqual(ids(body(await get(h, listUrl(), v))), [
        'req-delete',
        'req-3',
        'req-2',
        'req-1',
      ])
      const show = await get(h, `${listUrl()}/req-delete`, v)
      assert.equal(show.statusCode, 200)
    }
  })
})
