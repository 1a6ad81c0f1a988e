import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ValidationCache } from './validation-cache.js'

test('entries expire at their deadline and never outnumber the bound (least recently used go)', () => {
  const cache = new ValidationCache<string>(2)
  cache.set('a', 'A', 1000, 0)
  cache.set('b', 'B', 1000, 0)
  assert.equal(cache.get('a', 10), 'A') // a is now the most recently used
  cache.set('c', 'C', 1000, 0)
  assert.equal(cache.size, 2)
  assert.equal(cache.get('b', 10), undefined)
  assert.equal(cache.get('a', 10), 'A')
  assert.equal(cache.get('c', 999), 'C')
  assert.equal(cache.get('c', 1000), undefined)
  cache.set('d', 'D', 5, 5) // already expired: not kept
  assert.equal(cache.get('d', 5), undefined)
  const off = new ValidationCache<string>(0)
  off.set('a', 'A', 1000, 0)
  assert.equal(off.get('a', 1), undefined)
})
