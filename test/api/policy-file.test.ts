/**
 * A policy file changes access through the real API (docs/identity.md, "Policy"): the same
 * requests, answered differently once an operator's file is loaded the way `serve` loads it.
 * The defaults' side of each case is asserted too, so a test passes only if the file made the
 * difference.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import type { AccessPolicy } from '../../src/auth/access-policy.js'
import { loadAccessPolicy } from '../../src/auth/policy-file.js'
import {
  buildHarness,
  headers,
  PROJECT_A,
  TOKENS,
  USER_A,
  type Harness,
} from '../helpers/build-app.js'
import { json, seedAction, seedServer, SERVER } from '../helpers/seed.js'

async function policyFrom(t: TestContext, text: string): Promise<AccessPolicy> {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-policy-http-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'policy.yaml')
  writeFileSync(file, text)
  return loadAccessPolicy(file)
}

async function seedFailedResize(h: Harness): Promise<void> {
  await seedServer(h)
  await seedAction(h, {
    action: 'resize',
    requestId: 'req-fail',
    events: [
      {
        event: 'compute_resize_instance',
        host: 'compute-7',
        result: 'Error',
        traceback: '  File "nova/compute/manager.py", line 10, in resize\n    raise Boom()\n',
        details: 'Instance failed to resize',
      },
    ],
  })
}

async function showEvent(h: Harness, token: string): Promise<Record<string, unknown>> {
  const res = await h.app.inject({
    method: 'GET',
    url: `/v2.1/servers/${SERVER}/os-instance-actions/req-fail`,
    headers: headers(token, '2.84'),
  })
  assert.equal(res.statusCode, 200, res.body)
  const action = json(res).instanceAction as { events: Record<string, unknown>[] }
  const [event] = action.events
  assert.ok(event)
  return event
}

describe('letting project readers see event internals', () => {
  const FILE = [
    '# Our support staff (readers) debug failed operations of their own projects.',
    '"os_compute_api:os-instance-actions:events": "rule:project_reader_or_admin"',
    '',
  ].join('\n')

  test('compute API: a reader sees traceback and host; details stay admin-only', async (t) => {
    const plain = await buildHarness(t)
    await seedFailedResize(plain)
    const before = await showEvent(plain, TOKENS.readerA)
    assert.equal('traceback' in before, false)
    assert.equal('host' in before, false)

    const h = await buildHarness(t, ':memory:', { policy: await policyFrom(t, FILE) })
    await seedFailedResize(h)
    const after = await showEvent(h, TOKENS.readerA)
    assert.match(String(after.traceback), /raise Boom/)
    assert.equal(after.host, 'compute-7')
    assert.equal('details' in after, false)
    // Another project's reader still gets the tenant's 404, whatever the policy says.
    const other = await h.app.inject({
      method: 'GET',
      url: `/v2.1/servers/${SERVER}/os-instance-actions/req-fail`,
      headers: headers(TOKENS.readerB, '2.84'),
    })
    assert.equal(other.statusCode, 404)
  })

  test('query API: the reader may now filter by host and sees hosts of embedded events', async (t) => {
    const h = await buildHarness(t, ':memory:', { policy: await policyFrom(t, FILE) })
    await seedFailedResize(h)
    const res = await h.app.inject({
      method: 'GET',
      url: '/v1/actions?host=compute-7&include=events',
      headers: headers(TOKENS.readerA),
    })
    assert.equal(res.statusCode, 200, res.body)
    const [row] = json(res).actions as { request_id: string; events: { host?: string }[] }[]
    assert.equal(row?.request_id, 'req-fail')
    assert.equal(row?.events[0]?.host, 'compute-7')
  })
})

describe('denying members the query API', () => {
  const FILE = [
    'auditor: "role:reader and not role:member"',
    '"actiontrail:actions:query": "rule:context_is_admin or (rule:auditor and project_id:%(project_id)s)"',
    '',
  ].join('\n')

  test('a member gets 403 in the /v1 error format; a reader and an admin still query', async (t) => {
    const plainHarness = await buildHarness(t)
    await seedFailedResize(plainHarness)
    const plain = await plainHarness.app.inject({
      method: 'GET',
      url: '/v1/actions',
      headers: headers(TOKENS.memberA),
    })
    assert.equal(plain.statusCode, 200)

    const h = await buildHarness(t, ':memory:', { policy: await policyFrom(t, FILE) })
    await seedFailedResize(h)
    const member = await h.app.inject({
      method: 'GET',
      url: '/v1/actions',
      headers: headers(TOKENS.memberA),
    })
    assert.equal(member.statusCode, 403)
    const body = json(member).error as { code: string; status: number }
    assert.equal(body.code, 'forbidden')
    assert.equal(body.status, 403)
    for (const token of [TOKENS.readerA, TOKENS.admin]) {
      const res = await h.app.inject({ method: 'GET', url: '/v1/actions', headers: headers(token) })
      assert.equal(res.statusCode, 200, res.body)
      assert.equal((json(res).actions as unknown[]).length, 1)
    }
  })
})

describe('the events query has its own rule', () => {
  test('denying actiontrail:events:query refuses /v1/events but leaves /v1/actions', async (t) => {
    const policy = await policyFrom(t, '"actiontrail:events:query": "rule:context_is_admin"\n')
    const h = await buildHarness(t, ':memory:', { policy })
    await seedFailedResize(h)
    const get = (url: string, token: string) =>
      h.app.inject({ method: 'GET', url, headers: headers(token) })
    const events = await get('/v1/events', TOKENS.readerA)
    assert.equal(events.statusCode, 403, events.body)
    assert.equal((json(events).error as { code: string }).code, 'forbidden')
    assert.equal((await get('/v1/actions', TOKENS.readerA)).statusCode, 200)
    const admin = await get('/v1/events', TOKENS.admin)
    assert.equal(admin.statusCode, 200, admin.body)
    assert.ok((json(admin).events as unknown[]).length > 0)
  })
})

describe('restricting writes to services', () => {
  test('an admin without the service role may no longer write; nothing is stored', async (t) => {
    const policy = await policyFrom(t, '"actiontrail:write": "rule:service_api"\n')
    const h = await buildHarness(t, ':memory:', { policy })
    const put = (token: string, uuid: string) =>
      h.app.inject({
        method: 'PUT',
        url: `/v1/instances/${uuid}`,
        headers: { ...headers(token), 'content-type': 'application/json' },
        payload: { name: 'vm', project_id: PROJECT_A, user_id: USER_A },
      })
    const denied = await put(TOKENS.admin, SERVER)
    assert.equal(denied.statusCode, 403)
    assert.equal(await h.service.getInstance(SERVER), undefined)
    const allowed = await put(TOKENS.serviceA, SERVER)
    assert.equal(allowed.statusCode, 201, allowed.body)
  })
})
