/**
 * Microversion negotiation (docs/nova-behaviour.md §10.1): which header wins, `latest`, the 400 / 406 errors with
 * their exact messages, and the version headers echoed on every negotiated response.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import { buildHarness, TOKENS, type Harness } from '../helpers/build-app.js'
import {
  assertFault,
  assertRequestId,
  json,
  seedCreateStop,
  SERVER,
  UNKNOWN_SERVER,
} from '../helpers/seed.js'

const LIST = `/v2.1/servers/${SERVER}/os-instance-actions`

async function list(
  h: Harness,
  extra: Record<string, string | string[]>,
): Promise<LightMyRequestResponse> {
  return h.app.inject({
    method: 'GET',
    url: LIST,
    headers: { 'x-auth-token': TOKENS.memberA, ...extra },
  })
}

/** The response was negotiated at `version`: both headers echo it and Vary names both. */
function assertVersion(res: LightMyRequestResponse, version: string): void {
  assert.equal(res.headers['openstack-api-version'], `compute ${version}`)
  assert.equal(res.headers['x-openstack-nova-api-version'], version)
  const vary = String(res.headers.vary)
  assert.match(vary, /(^|,\s*)OpenStack-API-Version(\s*,|$)/)
  assert.match(vary, /(^|,\s*)X-OpenStack-Nova-API-Version(\s*,|$)/)
}

function assertNoVersion(res: LightMyRequestResponse): void {
  assert.equal(res.headers['openstack-api-version'], undefined)
  assert.equal(res.headers['x-openstack-nova-api-version'], undefined)
}

function invalidFormat(v: string): string {
  return `API Version String ${v} is of invalid format. Must be of format MajorNum.MinorNum.`
}

function notSupported(v: string): string {
  return `Version ${v} is not supported by the API. Minimum is 2.1 and maximum is 2.104.`
}

/** 2.58 and later add updated_at to each list item: a behavioural check of the version used. */
function hasUpdatedAt(res: LightMyRequestResponse): boolean {
  const items = json(res).instanceActions as Record<string, unknown>[]
  assert.ok(items.length > 0)
  return items.every((i) => 'updated_at' in i)
}

describe('microversion negotiation', () => {
  test('no header → 2.1', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    const res = await list(h, {})
    assert.equal(res.statusCode, 200)
    assertVersion(res, '2.1')
    assert.equal(hasUpdatedAt(res), false)
  })

  const accepted: { name: string; hdrs: Record<string, string | string[]>; version: string }[] = [
    { name: 'standard header', hdrs: { 'OpenStack-API-Version': 'compute 2.58' }, version: '2.58' },
    { name: 'legacy header', hdrs: { 'X-OpenStack-Nova-API-Version': '2.58' }, version: '2.58' },
    {
      name: 'standard wins over legacy',
      hdrs: { 'OpenStack-API-Version': 'compute 2.60', 'X-OpenStack-Nova-API-Version': '2.57' },
      version: '2.60',
    },
    {
      name: 'legacy used when the standard header names no compute entry',
      hdrs: { 'OpenStack-API-Version': 'placement 1.30', 'X-OpenStack-Nova-API-Version': '2.59' },
      version: '2.59',
    },
    {
      name: 'last compute entry wins',
      hdrs: { 'OpenStack-API-Version': 'compute 2.50, compute 2.61' },
      version: '2.61',
    },
    {
      name: 'other services are skipped',
      hdrs: { 'OpenStack-API-Version': 'compute 2.62, placement 1.10, identity 3.0' },
      version: '2.62',
    },
    {
      name: 'repeated header lines fold, last wins',
      hdrs: { 'OpenStack-API-Version': ['compute 2.20', 'compute 2.63'] },
      version: '2.63',
    },
    {
      name: 'service name is case-insensitive',
      hdrs: { 'OpenStack-API-Version': 'COMPUTE 2.64' },
      version: '2.64',
    },
    {
      name: 'mixed-case service name',
      hdrs: { 'OpenStack-API-Version': 'Compute 2.65' },
      version: '2.65',
    },
    {
      name: 'legacy folded: last value wins',
      hdrs: { 'X-OpenStack-Nova-API-Version': '2.20, 2.66' },
      version: '2.66',
    },
    {
      name: 'latest → 2.104',
      hdrs: { 'OpenStack-API-Version': 'compute latest' },
      version: '2.104',
    },
    {
      name: 'legacy latest → 2.104',
      hdrs: { 'X-OpenStack-Nova-API-Version': 'latest' },
      version: '2.104',
    },
    { name: 'minimum 2.1', hdrs: { 'OpenStack-API-Version': 'compute 2.1' }, version: '2.1' },
    { name: 'maximum 2.104', hdrs: { 'OpenStack-API-Version': 'compute 2.104' }, version: '2.104' },
  ]
  for (const c of accepted) {
    test(`${c.name} → ${c.version}`, async (t) => {
      const h = await buildHarness(t)
      await seedCreateStop(h)
      const res = await list(h, c.hdrs)
      assert.equal(res.statusCode, 200, res.body)
      assertVersion(res, c.version)
      assert.equal(hasUpdatedAt(res), Number(c.version.split('.')[1]) >= 58)
    })
  }

  for (const v of ['2.01', 'abc', 'LATEST', 'Latest', '2', '2.1.1', '02.1', '2.x', '-2.1']) {
    test(`"${v}" → 400 invalid format, no version headers`, async (t) => {
      const h = await buildHarness(t)
      await seedCreateStop(h)
      const res = await list(h, { 'OpenStack-API-Version': `compute ${v}` })
      assertFault(res, 400, invalidFormat(v))
      assertNoVersion(res)
    })
  }

  test('a malformed legacy header is a 400 too', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    const res = await list(h, { 'X-OpenStack-Nova-API-Version': '2.01' })
    assertFault(res, 400, invalidFormat('2.01'))
    assertNoVersion(res)
  })

  for (const v of ['2.0', '2.200', '2.105', '3.0', '1.1']) {
    test(`"${v}" → 406 computeFault, the rejected version echoed`, async (t) => {
      const h = await buildHarness(t)
      await seedCreateStop(h)
      const res = await list(h, { 'OpenStack-API-Version': `compute ${v}` })
      assertFault(res, 406, notSupported(v))
      assert.deepEqual(Object.keys(json(res)), ['computeFault'])
      assertVersion(res, v)
    })
  }

  test('406 through the legacy header echoes it too', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    const res = await list(h, { 'X-OpenStack-Nova-API-Version': '2.200' })
    assertFault(res, 406, notSupported('2.200'))
    assertVersion(res, '2.200')
  })

  test('authentication comes first: no token with a bad version → 401', async (t) => {
    const h = await buildHarness(t)
    const res = await h.app.inject({
      method: 'GET',
      url: LIST,
      headers: { 'OpenStack-API-Version': 'compute abc' },
    })
    assertFault(res, 401)
  })

  test('error responses after negotiation carry the version headers', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    const cases: { url: string; token: string; status: number }[] = [
      {
        url: `/v2.1/servers/${UNKNOWN_SERVER}/os-instance-actions`,
        token: TOKENS.memberA,
        status: 404,
      },
      { url: `${LIST}/req-unknown`, token: TOKENS.memberA, status: 404 },
      { url: `${LIST}?limit=x`, token: TOKENS.memberA, status: 400 },
      { url: LIST, token: TOKENS.serviceA, status: 403 },
      { url: '/v2.1/no-such-route', token: TOKENS.memberA, status: 404 },
    ]
    for (const c of cases) {
      const res = await h.app.inject({
        method: 'GET',
        url: c.url,
        headers: { 'x-auth-token': c.token, 'OpenStack-API-Version': 'compute 2.66' },
      })
      assertFault(res, c.status)
      assertVersion(res, '2.66')
      assertRequestId(res)
    }
  })

  test('show is negotiated the same way', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    const res = await h.app.inject({
      method: 'GET',
      url: `${LIST}/req-14122cb1-4256-4a16-a4f9-6faf494afaa7`,
      headers: { 'x-auth-token': TOKENS.memberA, 'X-OpenStack-Nova-API-Version': '2.84' },
    })
    assert.equal(res.statusCode, 200)
    assertVersion(res, '2.84')
  })
})

describe('an oversized version header is not echoed back whole', () => {
  // 10 KB: under Node's 16 KiB header limit, so it reaches negotiation.
  const invalid = `x${'9'.repeat(10_000)}`
  const outOfRange = `2.${'1'.repeat(10_000)}`

  function assertShort(text: string, start: string): void {
    assert.ok(text.startsWith(start), text.slice(0, 100))
    assert.ok(text.length < 200, `${text.length} characters echoed`)
  }

  for (const header of ['OpenStack-API-Version', 'X-OpenStack-Nova-API-Version']) {
    const value = (v: string) => (header === 'OpenStack-API-Version' ? `compute ${v}` : v)

    test(`${header}: a 10 KB malformed version → 400 with a capped message`, async (t) => {
      const h = await buildHarness(t)
      await seedCreateStop(h)
      const res = await list(h, { [header]: value(invalid) })
      const message = assertFault(res, 400)
      assertShort(message, `API Version String ${invalid.slice(0, 32)}`)
      assert.ok(message.endsWith('is of invalid format. Must be of format MajorNum.MinorNum.'))
      assert.ok(res.body.length < 400, `${res.body.length} bytes of body`)
      assertNoVersion(res)
    })

    test(`${header}: a 10 KB out-of-range version → 406 with capped message and headers`, async (t) => {
      const h = await buildHarness(t)
      await seedCreateStop(h)
      const res = await list(h, { [header]: value(outOfRange) })
      const message = assertFault(res, 406)
      assertShort(message, `Version ${outOfRange.slice(0, 32)}`)
      assert.ok(message.endsWith('Minimum is 2.1 and maximum is 2.104.'))
      assert.ok(res.body.length < 400, `${res.body.length} bytes of body`)
      assertShort(
        String(res.headers['openstack-api-version']),
        `compute ${outOfRange.slice(0, 32)}`,
      )
      assertShort(String(res.headers['x-openstack-nova-api-version']), outOfRange.slice(0, 32))
    })
  }
})
