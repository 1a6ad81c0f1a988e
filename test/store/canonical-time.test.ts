/** Times read back from each backend become canonical Timestamps in one place (rows.ts). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { canonicalTime, canonicalTimeOrNull } from '../../src/store/rows.js'

test('canonical text passes through; server text forms are padded to six fraction digits', () => {
  assert.equal(canonicalTime('2026-01-01T00:00:00.123456'), '2026-01-01T00:00:00.123456')
  assert.equal(canonicalTime('2026-01-01 00:00:00.1'), '2026-01-01T00:00:00.100000')
  assert.equal(canonicalTime('2026-01-01 00:00:00'), '2026-01-01T00:00:00.000000')
  assert.equal(canonicalTime('2026-01-01 23:59:59.999999'), '2026-01-01T23:59:59.999999')
  assert.equal(canonicalTime('0001-01-01 00:00:00'), '0001-01-01T00:00:00.000000')
  assert.equal(canonicalTime('2026-01-01T00:00:00.5'), '2026-01-01T00:00:00.500000')
})

test('a Date (milliseconds only) is read as UTC and padded', () => {
  assert.equal(
    canonicalTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678))),
    '2026-01-02T03:04:05.678000',
  )
})

test('null stays null; anything else is an error, never a wrong time', () => {
  assert.equal(canonicalTimeOrNull(null), null)
  assert.equal(canonicalTimeOrNull(undefined), null)
  assert.equal(canonicalTimeOrNull('2026-01-01 00:00:00'), '2026-01-01T00:00:00.000000')
  for (const bad of [
    '2026-01-01',
    '2026-01-01 00:00:00+02',
    '2026-01-01 00:00:00.1234567',
    12,
    new Date(NaN),
  ]) {
    assert.throws(() => canonicalTime(bad), /unexpected time value/)
  }
})
