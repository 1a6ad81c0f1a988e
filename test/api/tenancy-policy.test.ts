/**
 * Authentication, tenant isolation and policy (docs/nova-behaviour.md §4.2, §4.3, §5): 401 without
 * a valid token, another project's server is 404 (never 403), admins see every project, readers
 * their own, and a token without a reader role gets 403 from the os-instance-actions and servers policies.
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
  USER_B,
  type Harness,
} from '../helpers/build-app.js'
import {
  assertFault,
  CREATE_REQ,
  json,
  seedCreateStop,
  seedServer,
  SERVER,
  STOP_REQ,
} from '../helpers/seed.js'

const LIST = `/v2.1/servers/${SERVER}/os-instance-actions`
const SHOW = `${LIST}/${STOP_REQ}`
const SERVER_URL = `/v2.1/servers/${SERVER}`
const UNAUTHORIZED = 'The request you have made requires authentication.'

async function get(
  h: Harness,
  url: string,
  hdrs: Record<string, string>,
): Promise<LightMyRequestResponse> {
  return h.app.inject({ method: 'GET', url, headers: hdrs })
}

function names(res: LightMyRequestResponse): string[] {
  assert.equal(res.statusCode, 200, res.body)
  return (json(res).servers as { name: string }[]).map((s) => s.name).sort()
}

describe('authentication', () => {
  const urls = [
    LIST,
    SHOW,
    SERVER_URL,
    '/v2.1/servers/detail',
    '/v2.1/servers',
    `/v2.1/${PROJECT_A}/servers/${SERVER}/os-instance-actions`,
  ]
  const cases: { name: string; hdrs: Record<string, string> }[] = [
    { name: 'no token', hdrs: {} },
    { name: 'a wrong token', hdrs: { 'x-auth-token': 'tok-forged' } },
    { name: 'an empty token', hdrs: { 'x-auth-token': '' } },
    { name: 'a token in the wrong header', hdrs: { authorization: `Bearer ${TOKENS.admin}` } },
  ]
  for (const c of cases) {
    test(`${c.name} → 401 {"unauthorized": {...}}`, async (t) => {
      const h = await buildHarness(t)
      await seedCreateStop(h)
      for (const url of urls) {
        const res = await get(h, url, c.hdrs)
        assertFault(res, 401, UNAUTHORIZED)
        assert.deepEqual(json(res), { unauthorized: { code: 401, message: UNAUTHORIZED } })
        assert.match(String(res.headers['www-authenticate']), /^Keystone uri=/)
      }
    })
  }

  test('unknown paths need a token too', async (t) => {
    const h = await buildHarness(t)
    assertFault(await get(h, '/v2.1/no-such-thing', {}), 401, UNAUTHORIZED)
  })
})

describe('tenant isolation', () => {
  test("another project's server is 404, not 403 (list, show, GET /servers/{id})", async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    const missing = `Instance ${SERVER} could not be found.`
    for (const version of [undefined, '2.21', '2.58', '2.104']) {
      for (const url of [LIST, SHOW, `${LIST}/req-unknown`, SERVER_URL]) {
        assertFault(await get(h, url, headers(TOKENS.memberB, version)), 404, missing)
      }
    }
  })

  test("the 404 for another project's server equals the one for an unknown server", async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    const unknown = '0e44cc9c-e052-415d-afbf-469b0d384170'
    const a = json(await get(h, LIST, headers(TOKENS.memberB)))
    const b = json(
      await get(h, `/v2.1/servers/${unknown}/os-instance-actions`, headers(TOKENS.memberB)),
    )
    assert.deepEqual(
      JSON.stringify(a).replace(SERVER, 'X'),
      JSON.stringify(b).replace(unknown, 'X'),
    )
  })

  test("another project's deleted server stays 404 at 2.21+", async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    await h.service.deleteInstance(SERVER)
    assertFault(
      await get(h, LIST, headers(TOKENS.memberB, '2.21')),
      404,
      `Instance ${SERVER} could not be found.`,
    )
    assert.equal((await get(h, LIST, headers(TOKENS.memberA, '2.21'))).statusCode, 200)
  })

  test('an admin sees every project', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    const list = await get(h, LIST, headers(TOKENS.admin, '2.58'))
    assert.equal(list.statusCode, 200)
    assert.deepEqual(
      (json(list).instanceActions as { request_id: string }[]).map((a) => a.request_id),
      [STOP_REQ, CREATE_REQ],
    )
    assert.equal((await get(h, SHOW, headers(TOKENS.admin))).statusCode, 200)
    const server = await get(h, SERVER_URL, headers(TOKENS.admin))
    assert.equal(server.statusCode, 200)
    assert.equal((json(server).server as { tenant_id: string }).tenant_id, PROJECT_A)
  })

  test("a reader and a member see their own project's server", async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    for (const token of [TOKENS.readerA, TOKENS.memberA]) {
      for (const url of [LIST, SHOW, SERVER_URL]) {
        assert.equal((await get(h, url, headers(token, '2.84'))).statusCode, 200, url)
      }
    }
  })
})

describe('policy', () => {
  test("the service role alone is not a reader: 403 on list and show of its own project's server", async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    for (const version of [undefined, '2.58', '2.104']) {
      assertFault(
        await get(h, LIST, headers(TOKENS.serviceA, version)),
        403,
        "Policy doesn't allow os_compute_api:os-instance-actions:list to be performed.",
      )
      assertFault(
        await get(h, SHOW, headers(TOKENS.serviceA, version)),
        403,
        "Policy doesn't allow os_compute_api:os-instance-actions:show to be performed.",
      )
    }
  })

  test('the policy check comes after the instance lookup and before the action lookup', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    // Unknown action on a visible server: still 403.
    assertFault(
      await get(h, `${LIST}/999`, headers(TOKENS.serviceA)),
      403,
      /os-instance-actions:show/,
    )
    // Another project's server: 404 first.
    await seedServer(h, {
      uuid: '33333333-4444-4555-8666-777777777777',
      projectId: PROJECT_B,
      userId: USER_B,
    })
    assertFault(
      await get(
        h,
        '/v2.1/servers/33333333-4444-4555-8666-777777777777/os-instance-actions',
        headers(TOKENS.serviceA),
      ),
      404,
      'Instance 33333333-4444-4555-8666-777777777777 could not be found.',
    )
  })

  test('the service role alone is not a reader: 403 on servers list, detail and show', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    const rules: [string, string][] = [
      ['/v2.1/servers', 'index'],
      ['/v2.1/servers/detail', 'detail'],
      [`/v2.1/${PROJECT_A}/servers/detail?name=x`, 'detail'],
      [SERVER_URL, 'show'],
    ]
    for (const [url, rule] of rules) {
      assertFault(
        await get(h, url, headers(TOKENS.serviceA)),
        403,
        `Policy doesn't allow os_compute_api:servers:${rule} to be performed.`,
      )
    }
    // Another project's server stays 404: the lookup comes before the policy.
    await seedServer(h, {
      uuid: '33333333-4444-4555-8666-777777777777',
      projectId: PROJECT_B,
      userId: USER_B,
    })
    assertFault(
      await get(h, '/v2.1/servers/33333333-4444-4555-8666-777777777777', headers(TOKENS.serviceA)),
      404,
    )
    // A reader of the project passes the same rules.
    for (const [url] of rules) {
      assert.equal((await get(h, url, headers(TOKENS.readerA))).statusCode, 200, url)
    }
  })

  test('query validation comes before the policy check', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    assertFault(await get(h, `${LIST}?limit=x`, headers(TOKENS.serviceA, '2.58')), 400)
  })
})

describe('GET /v2.1/servers/detail?name=', () => {
  async function seedServers(h: Harness): Promise<void> {
    await seedServer(h, { uuid: '00000000-0000-4000-8000-000000000001', name: 'web-1' })
    await seedServer(h, { uuid: '00000000-0000-4000-8000-000000000002', name: 'web-2' })
    await seedServer(h, { uuid: '00000000-0000-4000-8000-000000000003', name: 'db-1' })
    await seedServer(h, { uuid: '00000000-0000-4000-8000-000000000004', name: 'web-old' })
    await h.service.deleteInstance('00000000-0000-4000-8000-000000000004')
    await seedServer(h, {
      uuid: '00000000-0000-4000-8000-000000000005',
      name: 'web-b',
      projectId: PROJECT_B,
      userId: USER_B,
    })
  }

  test("lists only the caller's project, without deleted servers, by substring", async (t) => {
    const h = await buildHarness(t)
    await seedServers(h)
    for (const token of [TOKENS.memberA, TOKENS.readerA]) {
      assert.deepEqual(names(await get(h, '/v2.1/servers/detail?name=web', headers(token))), [
        'web-1',
        'web-2',
      ])
      assert.deepEqual(names(await get(h, '/v2.1/servers/detail?name=eb-', headers(token))), [
        'web-1',
        'web-2',
      ])
      assert.deepEqual(names(await get(h, '/v2.1/servers/detail', headers(token))), [
        'db-1',
        'web-1',
        'web-2',
      ])
      assert.deepEqual(names(await get(h, '/v2.1/servers/detail?name=nothing', headers(token))), [])
    }
    assert.deepEqual(
      names(await get(h, '/v2.1/servers/detail?name=web', headers(TOKENS.memberB))),
      ['web-b'],
    )
  })

  test('a member asking for all_tenants still sees only its own project', async (t) => {
    const h = await buildHarness(t)
    await seedServers(h)
    assert.deepEqual(
      names(await get(h, '/v2.1/servers/detail?all_tenants=1&name=web', headers(TOKENS.memberA))),
      ['web-1', 'web-2'],
    )
  })

  test('an admin sees its own project, or every project with all_tenants=1', async (t) => {
    const h = await buildHarness(t)
    await seedServers(h)
    assert.deepEqual(names(await get(h, '/v2.1/servers/detail?name=web', headers(TOKENS.admin))), [
      'web-b',
    ])
    assert.deepEqual(
      names(await get(h, '/v2.1/servers/detail?name=web&all_tenants=1', headers(TOKENS.admin))),
      ['web-1', 'web-2', 'web-b'],
    )
    assert.deepEqual(
      names(await get(h, '/v2.1/servers/detail?all_tenants=1', headers(TOKENS.admin))),
      ['db-1', 'web-1', 'web-2', 'web-b'],
    )
  })

  test('detail items carry id, name, tenant_id and links; /servers lists id, name and links', async (t) => {
    const h = await buildHarness(t)
    await seedServers(h)
    const detail = json(
      await get(h, '/v2.1/servers/detail?name=db', {
        ...headers(TOKENS.memberA),
        host: 'nova.example:8774',
      }),
    )
    const [server] = detail.servers as Record<string, unknown>[]
    assert.ok(server)
    assert.equal(server.id, '00000000-0000-4000-8000-000000000003')
    assert.equal(server.name, 'db-1')
    assert.equal(server.tenant_id, PROJECT_A)
    assert.deepEqual(
      (server.links as { rel: string }[]).map((l) => l.rel),
      ['self', 'bookmark'],
    )
    assert.equal(
      (server.links as { href: string }[])[0]?.href,
      'http://nova.example:8774/v2.1/servers/00000000-0000-4000-8000-000000000003',
    )
    const index = json(await get(h, '/v2.1/servers?name=db', headers(TOKENS.memberA)))
    assert.deepEqual(Object.keys((index.servers as Record<string, unknown>[])[0] ?? {}).sort(), [
      'id',
      'links',
      'name',
    ])
  })

  test('the name filter is plain text: LIKE wildcards match literally', async (t) => {
    const h = await buildHarness(t)
    await seedServers(h)
    assert.deepEqual(
      names(await get(h, '/v2.1/servers/detail?name=%25', headers(TOKENS.memberA))),
      [],
    )
    assert.deepEqual(
      names(await get(h, '/v2.1/servers/detail?name=_', headers(TOKENS.memberA))),
      [],
    )
  })
})
