import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AppError } from './errors.js'
import { parseDuration, parseStuckPolicy, stuckDeadlines } from './stuck-work.js'
import type { Timestamp } from './timestamp.js'

const refused = (f: () => unknown, mentions: string) =>
  assert.throws(
    f,
    (err) =>
      err instanceof AppError && err.code === 'invalid_input' && err.message.includes(mentions),
  )

test('durations in seconds, minutes, hours and days', () => {
  assert.equal(parseDuration('90s', 'x'), 90_000_000n)
  assert.equal(parseDuration('30m', 'x'), 1_800_000_000n)
  assert.equal(parseDuration('1h', 'x'), 3_600_000_000n)
  assert.equal(parseDuration('2d', 'x'), 172_800_000_000n)
})

test('the parser refuses what is not a duration, naming the setting', () => {
  for (const bad of [
    '',
    '1',
    'h',
    '1 h',
    '1.5h',
    '-1h',
    '0s',
    '1w',
    '1H',
    '1h30m',
    '99999d',
    'abc',
  ])
    refused(() => parseDuration(bad, 'stuck-after'), 'stuck-after')
})

test('per-action overrides: name=duration pairs, empty entries ignored; bad ones refused', () => {
  const policy = parseStuckPolicy('1h', 'live-migration=6h, resize=2h,')
  assert.equal(policy.defaultMicros, 3_600_000_000n)
  assert.deepEqual(
    [...policy.byAction],
    [
      ['live-migration', 21_600_000_000n],
      ['resize', 7_200_000_000n],
    ],
  )
  refused(() => parseStuckPolicy('1h', 'resize'), 'name=duration')
  refused(() => parseStuckPolicy('1h', '=2h'), 'name=duration')
  refused(() => parseStuckPolicy('1h', 'resize=2x'), "'resize'")
  refused(() => parseStuckPolicy('1h', 'resize=2h,resize=3h'), 'twice')
  refused(() => parseStuckPolicy('soon'), 'stuck-after')
})

test('deadlines are now minus each duration', () => {
  const now = '2026-01-01T12:00:00.000000' as Timestamp
  const d = stuckDeadlines(parseStuckPolicy('30m', 'resize=2h,live-migration=6h'), now)
  assert.equal(d.before, '2026-01-01T11:30:00.000000')
  assert.deepEqual(d.byAction, [
    ['live-migration', '2026-01-01T06:00:00.000000'],
    ['resize', '2026-01-01T10:00:00.000000'],
  ])
})
