/**
 * The offline writer's digest records take their values by position: these pin the positions to
 * the column lists, so that a column added to or moved in an import row cannot put another
 * column's value under a digest column's name (the chain would then not verify).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  ACTION_DIGEST_COLUMNS,
  EVENT_DIGEST_COLUMNS,
} from '../../security/chain/canonical-record.js'
import {
  ACTION_ROW,
  actionDigestRecord,
  EVENT_ROW,
  eventDigestRecord,
} from './offline-digest-record.js'

/** A row whose every value names its column, and the digest columns taken from it by name. */
function byName(columns: readonly string[], digestColumns: readonly string[]) {
  const row = columns.map((c) => `value of ${c}`)
  const expected = Object.fromEntries(digestColumns.map((c) => [c, `value of ${c}`]))
  return { row, expected }
}

test('an action row’s digest record is its digest columns, by name', () => {
  const { row, expected } = byName(ACTION_ROW, ACTION_DIGEST_COLUMNS)
  assert.deepEqual(actionDigestRecord(row), expected)
})

test('an event row’s digest record is its digest columns, by name', () => {
  const { row, expected } = byName(EVENT_ROW, EVENT_DIGEST_COLUMNS)
  assert.deepEqual(eventDigestRecord(row), expected)
})
