import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  fromEpochMicros,
  parseTimestamp,
  systemClock,
  toEpochMicros,
  type Timestamp,
} from './timestamp.js'

test('parses Python iso8601 forms to canonical UTC with microseconds', () => {
  const cases: [string, string | undefined][] = [
    ['2018-04-25T01:26:29.585618', '2018-04-25T01:26:29.585618'],
    ['2018-04-25T01:26:29Z', '2018-04-25T01:26:29.000000'],
    ['2018-04-25 01:26:29', '2018-04-25T01:26:29.000000'],
    ['2018-04-25T03:26:29+02:00', '2018-04-25T01:26:29.000000'],
    ['2018-04-24T23:26:29-0200', '2018-04-25T01:26:29.000000'],
    ['2018-04-25T01:26:29,5', '2018-04-25T01:26:29.500000'],
    ['2018-04-25T01:26:29.1234567', '2018-04-25T01:26:29.123456'],
    ['20180425T012629', '2018-04-25T01:26:29.000000'],
    ['2018-04-25', '2018-04-25T00:00:00.000000'],
    ['2018', '2018-01-01T00:00:00.000000'],
    ['2018-04-25T01:26', '2018-04-25T01:26:00.000000'],
    ['2020-02-29T00:00:00', '2020-02-29T00:00:00.000000'],
    ['', undefined],
    ['wrong_time', undefined],
    ['2018-02-30T00:00:00', undefined],
    ['2019-02-29', undefined],
    ['2018-13-01', undefined],
    ['2018-04-25T24:00:00', undefined],
    ['2018-04-25T01:26:29 02:00', undefined],
    ['2018-04-25T01:26:29+25:00', undefined],
  ]
  for (const [input, expected] of cases) assert.equal(parseTimestamp(input), expected, input)
})

test('epoch micros round-trip without losing microseconds', () => {
  const ts = '2026-11-25T10:11:12.345678' as Timestamp
  assert.equal(fromEpochMicros(toEpochMicros(ts)), ts)
  assert.equal(toEpochMicros('1970-01-01T00:00:00.000001' as Timestamp), 1n)
})

test('the system clock is strictly increasing and canonical', () => {
  const clock = systemClock()
  let last = clock.now()
  for (let i = 0; i < 1000; i++) {
    const now = clock.now()
    assert.ok(now > last)
    assert.match(now, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/)
    last = now
  }
})
