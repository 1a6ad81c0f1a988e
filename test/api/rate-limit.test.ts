/**
 * Per-principal rate limits (issue 14 item 7) through HTTP: off by default; when on, each caller
 * (user and project, whatever its token) gets `burst` requests and then 429 with `Retry-After` in
 * its surface's format — `/v1`'s error body, Nova's `overLimit` fault with `retryAfter` — while
 * other callers, unauthenticated requests (401) and the public routes (health, readiness, metrics,
 * discovery) are untouched; a refused write stores nothing; the refusals are counted in /metrics.
 *
 * The rate is tiny (one token per 100 s), so no token comes back during a test: no timing matters.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildHarness, headers, TOKENS } from '../helpers/build-app.js'

const VM = '11111111-2222-4333-8444-555555555555'
const ACTIONS = `/v2.1/servers/${VM}/os-instance-actions`
const LIMIT = { rate: 0.01, burst: 3 }

test('off by default: a burst of requests is answered', async (t) => {
  const h = await buildHarness(t)
  for (let i = 0; i < 40; i++) {
    const res = await h.app.inject({ url: '/v1/actions', headers: headers(TOKENS.memberA) })
    assert.equal(res.statusCode, 200)
  }
})

test('over the limit: 429 in each surface’s format with Retry-After; per principal', async (t) => {
  const h = await buildHarness(t, ':memory:', { rateLimit: LIMIT })
  const get = (url: string, token: string) => h.app.inject({ url, headers: headers(token) })
  for (let i = 0; i < LIMIT.burst; i++)
    assert.equal((await get('/v1/actions', TOKENS.memberA)).statusCode, 200)

  const v1 = await get('/v1/actions', TOKENS.memberA)
  assert.equal(v1.statusCode, 429)
  assert.match(String(v1.headers['content-type']), /^application\/json/)
  const retryAfter = Number(v1.headers['retry-after'])
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 100, `${retryAfter}`)
  assert.deepEqual(v1.json(), {
    error: { status: 429, code: 'rate_limited', message: 'This request was rate-limited.' },
  })

  // The compute surface: Nova's overLimit fault, repeating Retry-After as a string.
  const compute = await get(ACTIONS, TOKENS.memberA)
  assert.equal(compute.statusCode, 429)
  assert.equal(compute.headers['content-type'], 'application/json; charset=UTF-8')
  const fault = compute.json<{ overLimit: { code: number; message: string; retryAfter: string } }>()
  assert.equal(fault.overLimit.code, 429)
  assert.equal(fault.overLimit.message, 'This request was rate-limited.')
  assert.equal(fault.overLimit.retryAfter, compute.headers['retry-after'])
  assert.ok(Number(fault.overLimit.retryAfter) >= 1)

  // Another token of the same user and project is the same principal: no fresh bucket.
  assert.equal((await get('/v1/actions', TOKENS.readerA)).statusCode, 429)
  // Another principal has its own bucket.
  assert.equal((await get('/v1/actions', TOKENS.memberB)).statusCode, 200)
  assert.equal((await get(ACTIONS, TOKENS.memberB)).statusCode, 404)

  // No valid token: refused by authentication (401), not counted against anyone.
  const anonymous = await h.app.inject({ url: '/v1/actions', headers: { 'x-auth-token': 'nope' } })
  assert.equal(anonymous.statusCode, 401)

  // Public routes are never limited, even for a limited caller's token.
  for (const url of ['/healthz', '/readyz', '/metrics', '/', '/v2.1', '/v1/openapi.json']) {
    for (let i = 0; i < 5; i++) assert.equal((await get(url, TOKENS.memberA)).statusCode, 200, url)
  }

  // Refusals are counted by surface; no label holds an id.
  const scrape = (await h.app.inject('/metrics')).body
  assert.match(scrape, /^actiontrail_rate_limited_total\{surface="v1"\} 2$/m)
  assert.match(scrape, /^actiontrail_rate_limited_total\{surface="compute"\} 1$/m)
})

test('a refused write stores nothing, whatever its body', async (t) => {
  const h = await buildHarness(t, ':memory:', { rateLimit: { rate: 0.01, burst: 1 } })
  const put = (uuid: string) =>
    h.app.inject({
      method: 'PUT',
      url: `/v1/instances/${uuid}`,
      headers: headers(TOKENS.serviceA),
      payload: { name: 'vm', project_id: 'p', user_id: 'u' },
    })
  assert.equal((await put(VM)).statusCode, 201)
  const other = '22222222-2222-4333-8444-555555555555'
  const refused = await put(other)
  assert.equal(refused.statusCode, 429)
  assert.equal(refused.json<{ error: { code: string } }>().error.code, 'rate_limited')
  // The store holds the first instance and not the refused one.
  assert.ok(await h.service.getInstance(VM))
  assert.equal(await h.service.getInstance(other), undefined)
})
