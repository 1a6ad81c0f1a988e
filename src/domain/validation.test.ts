import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isAppError } from './errors.js'
import {
  isUuid,
  isWellFormed,
  normalizeUuid,
  optionalText,
  requireName,
  requireUuid,
  stripNul,
} from './validation.js'

test('uuids: hyphenated or 32 hex, normalized to lower-case hyphenated', () => {
  assert.ok(isUuid('1F3B5D7E-0A2C-4E6F-8A1B-3C5D7E9F0A21'))
  assert.ok(isUuid('1f3b5d7e0a2c4e6f8a1b3c5d7e9f0a21'))
  assert.equal(
    normalizeUuid('1F3B5D7E0A2C4E6F8A1B3C5D7E9F0A21'),
    '1f3b5d7e-0a2c-4e6f-8a1b-3c5d7e9f0a21',
  )
  for (const bad of [
    '',
    'abc',
    '../../etc/passwd',
    '1f3b5d7e-0a2c-4e6f-8a1b-3c5d7e9f0a2',
    `${'a'.repeat(32)}\n`,
  ])
    assert.ok(!isUuid(bad), bad)
  assert.throws(
    () => requireUuid('uuid', 7),
    (e) => isAppError(e, 'invalid_input'),
  )
})

test('names: non-empty, printable, at most 255 characters', () => {
  assert.equal(requireName('action', 'live-migration'), 'live-migration')
  for (const bad of [
    '',
    'a'.repeat(256),
    'evil\u0000',
    'line\nbreak',
    'bidi\u202e',
    'zw\u200b',
    'del\u007f',
  ]) {
    assert.throws(
      () => requireName('action', bad),
      (e) => isAppError(e, 'invalid_input'),
      JSON.stringify(bad),
    )
  }
  assert.throws(
    () => requireName('action', 5),
    (e) => isAppError(e, 'invalid_input'),
  )
})

test('unpaired surrogates are refused in names and free text; pairs are fine', () => {
  for (const bad of ['\ud800', 'a\udc00', '\ude00\ud83d', 'x\udbff']) {
    assert.ok(!isWellFormed(bad))
    assert.throws(
      () => requireName('request_id', bad),
      (e) => isAppError(e, 'invalid_input'),
    )
    assert.throws(
      () => optionalText('details', bad),
      (e) => isAppError(e, 'invalid_input'),
    )
  }
  assert.ok(isWellFormed('req-\ud83d\ude00-\u00e9'))
  assert.equal(requireName('request_id', 'req-\ud83d\ude00'), 'req-\ud83d\ude00')
  assert.equal(optionalText('details', undefined), null)
  assert.equal(optionalText('details', 'boom'), 'boom')
})

test('stripNul removes every NUL and nothing else', () => {
  assert.equal(stripNul('\u0000a\u0000\u0000b\tc\n\u0000'), 'ab\tc\n')
  assert.equal(stripNul('plain'), 'plain')
})
