/**
 * Version discovery (docs/nova-behaviour.md §10.4): `/`, `/v2.1`, `/v2.1/` and `/v2` are public, not microversioned,
 * and build their `self` links from the request's Host; every response carries a request id.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { buildHarness, headers, TOKENS } from '../helpers/build-app.js'
import { shapeDiff } from '../helpers/json-shape.js'
import { assertFault, assertRequestId, HOST, json, seedServer, SERVER } from '../helpers/seed.js'

const SAMPLES = new URL('../fixtures/nova-api-samples/versions/', import.meta.url)

function sample(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, SAMPLES), 'utf8'))
}

/** The sample with its `http://openstack.example.com` links pointing at `base` instead. */
function sampleAt(name: string, base: string): unknown {
  return JSON.parse(
    readFileSync(new URL(name, SAMPLES), 'utf8').replaceAll('http://openstack.example.com', base),
  )
}

describe('version discovery', () => {
  test('GET / lists v2.0 and v2.1 without a token, links from the Host header', async (t) => {
    const h = await buildHarness(t)
    const res = await h.app.inject({ method: 'GET', url: '/', headers: { host: HOST } })
    assert.equal(res.statusCode, 200)
    assert.match(String(res.headers['content-type']), /^application\/json/)
    const body = json(res)
    assert.deepEqual(shapeDiff(body, sample('versions-get-resp.json')), [])
    assert.deepEqual(body, sampleAt('versions-get-resp.json', `http://${HOST}`))
    assertRequestId(res)
  })

  for (const url of ['/v2.1', '/v2.1/']) {
    test(`GET ${url} describes v2.1 (max 2.104, min 2.1) without a token`, async (t) => {
      const h = await buildHarness(t)
      const res = await h.app.inject({ method: 'GET', url, headers: { host: HOST } })
      assert.equal(res.statusCode, 200)
      const body = json(res)
      assert.deepEqual(shapeDiff(body, sample('v21-version-get-resp.json')), [])
      assert.deepEqual(body, sampleAt('v21-version-get-resp.json', `http://${HOST}`))
      const version = body.version as { links: { rel: string; href: string }[] }
      assert.equal(version.links.find((l) => l.rel === 'self')?.href, `http://${HOST}/v2.1/`)
      assertRequestId(res)
    })
  }

  test('GET /v2/ describes the deprecated v2.0', async (t) => {
    const h = await buildHarness(t)
    const res = await h.app.inject({ method: 'GET', url: '/v2/', headers: { host: HOST } })
    assert.equal(res.statusCode, 200)
    const body = json(res)
    assert.deepEqual(shapeDiff(body, sample('v2-version-get-resp.json')), [])
    assert.deepEqual(body, sampleAt('v2-version-get-resp.json', `http://${HOST}`))
  })

  test('the self href follows whatever Host the client used', async (t) => {
    const h = await buildHarness(t)
    const res = await h.app.inject({
      method: 'GET',
      url: '/v2.1/',
      headers: { host: '10.0.0.5:9999' },
    })
    const version = json(res).version as { links: { rel: string; href: string }[] }
    assert.equal(version.links[0]?.href, 'http://10.0.0.5:9999/v2.1/')
  })

  test('discovery is not microversioned: a bad version header is ignored there', async (t) => {
    const h = await buildHarness(t)
    for (const url of ['/', '/v2.1', '/v2.1/']) {
      const res = await h.app.inject({
        method: 'GET',
        url,
        headers: { 'openstack-api-version': 'compute abc' },
      })
      assert.equal(res.statusCode, 200, url)
    }
  })

  test('a token is accepted but not needed', async (t) => {
    const h = await buildHarness(t)
    const res = await h.app.inject({
      method: 'GET',
      url: '/v2.1/',
      headers: headers('not-a-token'),
    })
    assert.equal(res.statusCode, 200)
  })
})

describe('request ids', () => {
  test('every response carries x-openstack-request-id = x-compute-request-id = req-<uuid4>', async (t) => {
    const h = await buildHarness(t)
    await seedServer(h)
    const cases: { url: string; hdrs: Record<string, string>; status: number }[] = [
      { url: '/', hdrs: {}, status: 200 },
      { url: '/v2.1/', hdrs: {}, status: 200 },
      {
        url: `/v2.1/servers/${SERVER}/os-instance-actions`,
        hdrs: headers(TOKENS.memberA),
        status: 200,
      },
      { url: `/v2.1/servers/${SERVER}/os-instance-actions`, hdrs: {}, status: 401 },
      {
        url: `/v2.1/servers/${SERVER}/os-instance-actions`,
        hdrs: headers('wrong-token'),
        status: 401,
      },
      { url: '/v2.1/no-such-thing', hdrs: headers(TOKENS.memberA), status: 404 },
      {
        url: `/v2.1/servers/${SERVER}/os-instance-actions/req-x`,
        hdrs: headers(TOKENS.memberA),
        status: 404,
      },
      {
        url: `/v2.1/servers/${SERVER}/os-instance-actions`,
        hdrs: headers(TOKENS.memberA, '2.01'),
        status: 400,
      },
      {
        url: `/v2.1/servers/${SERVER}/os-instance-actions?limit=x`,
        hdrs: headers(TOKENS.memberA, '2.58'),
        status: 400,
      },
      {
        url: `/v2.1/servers/${SERVER}/os-instance-actions`,
        hdrs: headers(TOKENS.serviceA),
        status: 403,
      },
      {
        url: `/v2.1/servers/${SERVER}/os-instance-actions`,
        hdrs: headers(TOKENS.memberA, '2.200'),
        status: 406,
      },
    ]
    const seen = new Set<string>()
    for (const c of cases) {
      const res = await h.app.inject({ method: 'GET', url: c.url, headers: c.hdrs })
      assert.equal(res.statusCode, c.status, `${c.url}: ${res.body}`)
      const id = assertRequestId(res)
      assert.ok(!seen.has(id), 'a fresh id per request')
      seen.add(id)
      if (c.status >= 400) assertFault(res, c.status)
    }
  })

  test('a client-sent request id header is not echoed back', async (t) => {
    const h = await buildHarness(t)
    const res = await h.app.inject({
      method: 'GET',
      url: '/',
      headers: { 'x-openstack-request-id': 'req-mine' },
    })
    assert.notEqual(assertRequestId(res), 'req-mine')
  })
})
