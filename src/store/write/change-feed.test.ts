/**
 * The hash chain's digests from values a write program holds (ChangeNote.stored): the latest
 * note of a record decides, a text the database would not store as is falls back to a read-back,
 * and records with held values are not read back.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventDigest } from '../../security/chain/canonical-record.js'
import { PendingChanges, recordDigests, storedValues } from './change-feed.js'
import type { ChangeNote, SqlStep } from './sql-step.js'

const row = (result: string | null) => ({
  id: 7,
  action_id: 3,
  event: 'compute_x',
  start_time: '2026-01-01T10:00:00.000000',
  finish_time: result ? '2026-01-01T10:00:01.000000' : null,
  result,
  traceback: null,
  host: 'h',
  details: null,
  created_at: '2026-01-01T10:00:00.000000',
  updated_at: result ? '2026-01-01T10:00:01.000000' : null,
  written_by: null,
  finished_by: null,
})

const note = (stored?: ChangeNote['stored']): ChangeNote => ({
  kind: 'event',
  actionId: 3,
  eventId: 7,
  instanceUuid: 'vm',
  at: '2026-01-01T10:00:00.000000',
  ...(stored ? { stored } : {}),
})

test("a record noted twice keeps its first place and its last note's stored values", () => {
  const pending = new PendingChanges()
  pending.add(note(row(null)))
  pending.add({ ...note(), kind: 'action', eventId: null })
  pending.add(note(row('Success')))
  const [event, action] = pending.drain()
  assert.equal(event?.kind, 'event')
  assert.equal(action?.kind, 'action')
  assert.deepEqual(event?.stored, row('Success'))
})

test("a later note without stored values drops the earlier note's (the row is read back)", () => {
  const pending = new PendingChanges()
  pending.add(note(row(null)))
  pending.add(note())
  assert.equal(pending.drain()[0]?.stored, undefined)
})

test('values with an unpaired surrogate are not taken as stored (drivers store U+FFFD)', () => {
  assert.equal(storedValues({ ...row(null), host: 'h\ud800' }), undefined)
  assert.deepEqual(storedValues({ ...row(null), host: 'h 𝄞' }), { ...row(null), host: 'h 𝄞' })
})

test('values with a time in no database form are not taken as stored (no throw at commit)', () => {
  assert.equal(storedValues({ ...row(null), start_time: '2026-01-01T10:00:00Z' }), undefined)
  // The forms databases give back are fine (PostgreSQL trims the fraction).
  const pg = { ...row(null), created_at: '2026-01-01 10:00:00.5' }
  assert.deepEqual(storedValues(pg), pg)
})

test('events with stored values are digested from them; only the others are read back', () => {
  const program = recordDigests([
    note(row('Success')),
    { kind: 'event', actionId: 3, eventId: 8, stored: undefined },
  ])
  const steps: SqlStep[] = []
  let step = program.next()
  while (!step.done) {
    steps.push(step.value)
    // The read-back of event 8: its stored row.
    step = program.next(
      step.value.mode === 'get' && step.value.sql.includes('instance_actions_events')
        ? [{ ...row(null), id: 8 }]
        : [],
    )
  }
  assert.equal(steps.length, 1, 'one read-back statement')
  const only = steps[0]!
  assert.ok(only.mode === 'get' && only.params.length === 1 && only.params[0] === 8)
  assert.deepEqual(step.value, [eventDigest(row('Success')), eventDigest({ ...row(null), id: 8 })])
})
