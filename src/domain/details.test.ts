import assert from 'node:assert/strict'
import { test } from 'node:test'
import { failureDetails, PublicError, truncateUtf8 } from './details.js'
import { AppError } from './errors.js'

class ConnectionRefused extends Error {}

test('details: strings and public errors give their message, anything else its class name', () => {
  assert.equal(failureDetails('Quota exceeded'), 'Quota exceeded')
  assert.equal(
    failureDetails(new PublicError('No valid host was found.')),
    'No valid host was found.',
  )
  assert.equal(failureDetails(new AppError('conflict', 'Instance is locked')), 'Instance is locked')
  assert.equal(
    failureDetails(new ConnectionRefused('ECONNREFUSED 10.0.0.5:5432 password=x')),
    'ConnectionRefused',
  )
  assert.equal(failureDetails(new TypeError('secret stuff')), 'TypeError')
  assert.equal(failureDetails(42), 'Error')
})

test('truncateUtf8 cuts at 255 bytes without splitting characters', () => {
  assert.equal(truncateUtf8('abc', 255), 'abc')
  const euro = '€'.repeat(100) // 3 bytes each
  const cut = truncateUtf8(euro, 255)
  assert.equal(Buffer.byteLength(cut), 255)
  const emoji = '😀'.repeat(70) // 4 bytes each, surrogate pairs
  const cut2 = truncateUtf8(emoji, 255)
  assert.equal(Buffer.byteLength(cut2), 252)
  assert.ok(!Buffer.from(cut2).toString().includes('\ufffd'))
  assert.equal(Buffer.byteLength(failureDetails(new PublicError('x'.repeat(1000)))), 255)
})
