/**
 * Overload (issue 14): once the event loop has lagged past ACTIONTRAIL_MAX_EVENT_LOOP_DELAY_MS,
 * requests get 503 `overloaded` with Retry-After in their surface's format at once, `/readyz` says
 * 503 so a load balancer looks elsewhere, and `/healthz` stays 200 (the process is alive). The lag
 * here is real: the test blocks the event loop the app runs on.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildHarness, TOKENS } from '../helpers/build-app.js'

function block(ms: number): void {
  const end = Date.now() + ms
  while (Date.now() < end) {
    // Busy: the event loop is held, as by a request that computes for too long.
  }
}

test('a lagging event loop: 503 overloaded with Retry-After, /readyz 503, /healthz 200', async (t) => {
  const h = await buildHarness(t, ':memory:', {
    overload: { maxEventLoopDelayMs: 100, maxRssBytes: 0 },
  })
  const get = (url: string) =>
    h.app.inject({ method: 'GET', url, headers: { 'x-auth-token': TOKENS.admin } })
  assert.equal((await get('/v1/actions')).statusCode, 200)
  // The plugin samples the mean event-loop delay once a second: keep the loop lagging for longer
  // than that, in steps with a turn between them (so the sampler runs), then ask.
  const until = Date.now() + 2500
  while (Date.now() < until) {
    block(200)
    await sleep(1)
  }
  const v1 = await get('/v1/actions')
  assert.equal(v1.statusCode, 503)
  assert.equal(v1.headers['retry-after'], '1')
  assert.equal(v1.json<{ error: { code: string } }>().error.code, 'overloaded')
  const compute = await get(
    '/v2.1/servers/00000000-0000-4000-8000-000000000001/os-instance-actions',
  )
  assert.equal(compute.statusCode, 503)
  // Nova's fault body for a 503 (its message is Nova's generic one), with Retry-After.
  assert.ok('serviceUnavailable' in compute.json<Record<string, unknown>>(), compute.body)
  assert.equal(compute.headers['retry-after'], '1')
  assert.equal((await get('/readyz')).statusCode, 503)
  assert.equal((await get('/healthz')).statusCode, 200)
  // Once the loop is quiet again, requests are served.
  await sleep(2200)
  assert.equal((await get('/v1/actions')).statusCode, 200)
})
