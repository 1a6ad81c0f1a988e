import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BucketMap } from './bucket-map.js'
import { retryAfterSeconds, TokenBucket } from './token-bucket.js'

test('a new bucket lets a whole burst through, then refuses until a token has refilled', () => {
  const bucket = new TokenBucket({ rate: 2, burst: 3 }, 0)
  for (let i = 0; i < 3; i++) assert.deepEqual(bucket.take(0), { ok: true })
  // Empty: one token takes 1/rate = 500 ms to come back.
  assert.deepEqual(bucket.take(0), { ok: false, retryAfterMs: 500 })
  assert.deepEqual(bucket.take(200), { ok: false, retryAfterMs: 300 })
  assert.deepEqual(bucket.take(500), { ok: true })
  assert.equal(bucket.take(500).ok, false)
})

test('refill is continuous and capped at the burst; a fractional rate works', () => {
  const bucket = new TokenBucket({ rate: 0.5, burst: 2 }, 0)
  assert.ok(bucket.take(0).ok)
  assert.ok(bucket.take(0).ok)
  // 0.5 token per second: a token every two seconds.
  assert.deepEqual(bucket.take(0), { ok: false, retryAfterMs: 2000 })
  assert.ok(bucket.take(2000).ok)
  // An hour idle refills to the burst, not to 1800 tokens.
  assert.ok(bucket.isFull(3_602_000))
  assert.ok(bucket.take(3_602_000).ok)
  assert.ok(bucket.take(3_602_000).ok)
  assert.equal(bucket.take(3_602_000).ok, false)
})

test('a clock that steps back neither adds nor removes tokens', () => {
  const bucket = new TokenBucket({ rate: 1, burst: 1 }, 10_000)
  assert.ok(bucket.take(10_000).ok)
  assert.deepEqual(bucket.take(5_000), { ok: false, retryAfterMs: 1000 })
  assert.ok(bucket.take(11_000).ok)
})

test('Retry-After is whole seconds, rounded up, at least 1', () => {
  assert.equal(retryAfterSeconds(0), 1)
  assert.equal(retryAfterSeconds(1), 1)
  assert.equal(retryAfterSeconds(1000), 1)
  assert.equal(retryAfterSeconds(1001), 2)
  assert.equal(retryAfterSeconds(2000), 2)
})

test('the bucket map keeps one bucket per key and limits each key on its own', () => {
  const map = new BucketMap({ rate: 1, burst: 1 }, 10)
  assert.ok(map.take('a', 0).ok)
  assert.equal(map.take('a', 0).ok, false)
  assert.ok(map.take('b', 0).ok)
  assert.equal(map.size, 2)
})

test('the bucket map never holds more than its cap, and forgets refilled buckets as it is used', () => {
  const map = new BucketMap({ rate: 1, burst: 2 }, 100)
  for (let i = 0; i < 1000; i++) map.take(`key-${i}`, 0)
  assert.equal(map.size, 100)
  // The most recent key kept its (half-empty) bucket; an evicted one starts full again.
  assert.ok(map.take('key-999', 0).ok)
  assert.equal(map.take('key-999', 0).ok, false)
  // Ten seconds later every bucket has refilled: each use forgets some, so the map drains.
  for (let i = 0; i < 60; i++) map.take('busy', 10_000 + i)
  assert.ok(map.size < 2, `size ${map.size}`)
})

test('a bucket in use is not forgotten while it is short of tokens', () => {
  const map = new BucketMap({ rate: 1, burst: 1 }, 100)
  assert.ok(map.take('a', 0).ok)
  for (let i = 0; i < 50; i++) map.take(`other-${i}`, 100)
  // `a` is the coldest bucket but not full at 100 ms: still refused.
  assert.equal(map.take('a', 100).ok, false)
})
