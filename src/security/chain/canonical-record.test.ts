import assert from 'node:assert/strict'
import { test } from 'node:test'
import { actionDigest, canonicalEvent, eventDigest, retentionDigest } from './canonical-record.js'
import { GENESIS_LINK, nextLink } from './chain-link.js'

// One event as each backend's driver hands it back: SQLite's canonical text and numbers,
// PostgreSQL's bigint as text and timestamp text without trailing fraction zeros, MariaDB's
// datetime(6) text with a space.
const sqlite = {
  id: 7,
  action_id: 3,
  event: 'compute_reboot_instance',
  start_time: '2026-01-01T10:00:00.100000',
  finish_time: '2026-01-01T10:00:02.000000',
  result: 'Error',
  traceback: 'Traceback\n  "ünïcode"',
  host: 'h1',
  details: null,
  created_at: '2026-01-01T10:00:00.100000',
  updated_at: '2026-01-01T10:00:02.000000',
  written_by: 'w1',
  finished_by: null,
}
const postgres = {
  ...sqlite,
  id: '7',
  action_id: '3',
  start_time: '2026-01-01 10:00:00.1',
  finish_time: '2026-01-01 10:00:02',
  created_at: '2026-01-01 10:00:00.1',
  updated_at: '2026-01-01 10:00:02',
}
const mysql = {
  ...sqlite,
  start_time: '2026-01-01 10:00:00.100000',
  finish_time: '2026-01-01 10:00:02.000000',
  created_at: '2026-01-01 10:00:00.100000',
  updated_at: '2026-01-01 10:00:02.000000',
}

test('the same event read from SQLite, PostgreSQL and MariaDB has the same digest', () => {
  assert.equal(eventDigest(postgres), eventDigest(sqlite))
  assert.equal(eventDigest(mysql), eventDigest(sqlite))
  assert.match(eventDigest(sqlite), /^[0-9a-f]{64}$/)
  // The documented encoding: kind first, then the columns in their fixed order.
  assert.equal(
    canonicalEvent(sqlite),
    JSON.stringify([
      'event',
      7,
      3,
      'compute_reboot_instance',
      '2026-01-01T10:00:00.100000',
      '2026-01-01T10:00:02.000000',
      'Error',
      'Traceback\n  "ünïcode"',
      'h1',
      null,
      '2026-01-01T10:00:00.100000',
      '2026-01-01T10:00:02.000000',
      'w1',
      null,
    ]),
  )
})

test('any covered column changes the digest; copied columns do not', () => {
  const base = eventDigest(sqlite)
  assert.notEqual(eventDigest({ ...sqlite, result: 'Success' }), base)
  assert.notEqual(eventDigest({ ...sqlite, details: '' }), base, 'empty text is not NULL')
  assert.notEqual(eventDigest({ ...sqlite, action_id: 4 }), base)
  assert.equal(eventDigest({ ...sqlite, owner_project_id: 'moved', action_name: 'renamed' }), base)
  const action = {
    id: 3,
    instance_uuid: 'u',
    action: 'reboot',
    request_id: 'req-1',
    user_id: null,
    project_id: 'p',
    start_time: '2026-01-01T10:00:00.000000',
    finish_time: null,
    message: null,
    created_at: '2026-01-01T10:00:00.000000',
    updated_at: null,
    written_by: null,
  }
  assert.notEqual(actionDigest({ ...action, message: 'Error' }), actionDigest(action))
  assert.notEqual(actionDigest(action), eventDigest(sqlite))
  assert.notEqual(retentionDigest('archive', 3), retentionDigest('purge', 3))
})

test('a link depends on the previous link and on every field of its entry', () => {
  const entry = { position: 1, kind: 'event', actionId: 3, eventId: 7, digest: eventDigest(sqlite) }
  const first = nextLink(null, entry)
  assert.equal(nextLink(GENESIS_LINK, entry), first)
  assert.notEqual(nextLink(first, entry), first)
  for (const changed of [
    { ...entry, position: 2 },
    { ...entry, kind: 'action' },
    { ...entry, actionId: 4 },
    { ...entry, eventId: null },
    { ...entry, digest: GENESIS_LINK },
  ])
    assert.notEqual(nextLink(null, changed), first)
})
