/**
 * What the programs declare about their statements (sql-step.ts): the runners act on these flags,
 * never on the SQL text, so each statement that needs one must carry it.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Timestamp } from '../../domain/timestamp.js'
import type { StoreWrite } from '../action-store.js'
import { BoundedActionIdCache } from './action-id-cache.js'
import type { Row, RunResult, SqlStep, StepResult } from './sql-step.js'
import { writeProgram } from './write-programs.js'

const UUID = '11111111-2222-4333-8444-555555555555'
const at = '2026-01-01T00:00:00.000000' as Timestamp
const ACTION_ROW: Row = {
  id: 7,
  instance_uuid: UUID,
  action: 'reboot',
  request_id: 'req-1',
  user_id: 'u',
  project_id: 'p',
  start_time: at,
  finish_time: null,
  message: null,
  created_at: at,
  updated_at: at,
}

/** Runs one write's program, answering each step with `answer`; returns the steps it yielded. */
function steps(op: StoreWrite, answer: (step: SqlStep) => StepResult): SqlStep[] {
  const seen: SqlStep[] = []
  const program = writeProgram(op, new BoundedActionIdCache())
  for (let step = program.next(); !step.done;) {
    seen.push(step.value)
    step = program.next(answer(step.value))
  }
  return seen
}

const inserted: RunResult = { changes: 1, insertId: 9 }
const flags = (s: SqlStep) =>
  s.mode === 'get'
    ? {
        get: s.sql.split(' FROM ')[1]?.split(' ')[0],
        readsActions: s.readsActions,
        locked: s.lockAction !== undefined,
      }
    : s.mode === 'run'
      ? { run: s.sql.split(' ')[0], returnsId: s.returnsId }
      : s.mode === 'touch'
        ? { touch: s.actionId }
        : s.mode === 'change'
          ? { change: s.change.kind }
          : s.mode === 'advance'
            ? { advance: s.count }
            : { all: s.sql.split(' FROM ')[1]?.split(' ')[0] }

test('an action start reads the action row after pending touches and reads back the new key', () => {
  const seen = steps(
    {
      op: 'action_start',
      values: {
        instanceUuid: UUID,
        action: 'reboot',
        requestId: 'req-1',
        userId: 'u',
        projectId: 'p',
        startTime: at,
        createdAt: at,
      },
    },
    (s) =>
      s.mode === 'run'
        ? inserted
        : s.mode === 'get' && !s.readsActions
          ? { uuid: UUID }
          : undefined,
  )
  assert.deepEqual(seen.map(flags), [
    { get: 'instances', readsActions: false, locked: false },
    { get: 'instance_actions', readsActions: true, locked: false },
    { run: 'INSERT', returnsId: true },
    { change: 'action' },
  ])
})

test('an event start locks its action, inserts with its key read back, and touches the action', () => {
  const seen = steps(
    {
      op: 'event_start',
      values: {
        instanceUuid: UUID,
        requestId: 'req-1',
        event: 'e',
        host: null,
        startTime: at,
        createdAt: at,
      },
    },
    (s) =>
      s.mode === 'run' ? inserted : s.mode === 'get' && s.readsActions ? ACTION_ROW : undefined,
  )
  assert.deepEqual(seen.map(flags), [
    { get: 'instance_actions', readsActions: true, locked: false },
    { get: 'instance_actions_events', readsActions: false, locked: true },
    { run: 'INSERT', returnsId: true },
    { touch: 7 },
    { change: 'event' },
    { change: 'action' },
  ])
})

test('an instance insert and an action finish report no key', () => {
  const put = steps(
    {
      op: 'instance_put',
      values: { uuid: UUID, name: 'vm', projectId: 'p', userId: 'u', now: at },
    },
    (s) => (s.mode === 'run' ? inserted : undefined),
  )
  assert.deepEqual(put.map(flags), [
    { get: 'instances', readsActions: false, locked: false },
    { run: 'INSERT', returnsId: false },
  ])
  const finish = steps(
    { op: 'action_finish', values: { instanceUuid: UUID, requestId: 'req-1', finishTime: at } },
    (s) => (s.mode === 'run' ? inserted : ACTION_ROW),
  )
  assert.deepEqual(finish.map(flags), [
    { get: 'instance_actions', readsActions: true, locked: false },
    { run: 'UPDATE', returnsId: false },
    { change: 'action' },
  ])
})
