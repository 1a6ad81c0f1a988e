/** `GET /healthz` and `GET /readyz`: public; 200 while the store answers, 503 (without detail) when it does not. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildHarness } from '../helpers/build-app.js'

test('answers 200 without a token while the store answers', async (t) => {
  const h = await buildHarness(t)
  const res = await h.app.inject('/healthz')
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { status: 'ok' })
})

test('answers 503 once the store is gone, and says nothing more', async (t) => {
  const h = await buildHarness(t)
  await h.store.close()
  const res = await h.app.inject('/healthz')
  assert.equal(res.statusCode, 503)
  assert.deepEqual(res.json(), { status: 'unavailable' })
})

test('/readyz answers 200 without a token while the store answers', async (t) => {
  const h = await buildHarness(t)
  const res = await h.app.inject('/readyz')
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { status: 'ok' })
})

test('/readyz answers 503 once the store is gone, and says nothing more', async (t) => {
  const h = await buildHarness(t)
  await h.store.close()
  const res = await h.app.inject('/readyz')
  assert.equal(res.statusCode, 503)
  assert.deepEqual(res.json(), { status: 'unavailable' })
})
