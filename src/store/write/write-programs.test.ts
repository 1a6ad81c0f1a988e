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
const nulls = (row: Row): Row => Object.fromEntries(Object.keys(row).map((k) => [k, null]))
const flags = (s: SqlStep) =>
  s.mode === 'get'
    ? {
        get: s.sql.split(' FROM ')[1]?.split(' ')[0],
        readsActions: s.readsActions,
        locked: s.lockAction !== undefined,
      }
    : s.mode === 'run'
      ? {
          run: s.sql.split(' ')[0],
          returnsId: s.returnsId,
          ...(s.createsAction ? { createsAction: true } : {}),
        }
      : s.mode === 'touch'
        ? { touch: s.actionId }
        : s.mode === 'change'
          ? { change: s.change.kind }
          : { advance: s.count }

test('an action start reads instance and action in one read after touches, then inserts an action it holds', () => {
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
    // The instance exists, without an action of that request id (the action's columns NULL).
    (s) => (s.mode === 'run' ? inserted : { instance_project_id: 'p', ...nulls(ACTION_ROW) }),
  )
  assert.deepEqual(seen.map(flags), [
    { get: 'instances', readsActions: true, locked: false },
    { run: 'INSERT', returnsId: true, createsAction: true },
    { change: 'action' },
  ])
})

test('an action start of an existing request id answers from the row it read', () => {
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
    () => ({ instance_project_id: 'p', ...ACTION_ROW }),
  )
  assert.deepEqual(seen.map(flags), [{ get: 'instances', readsActions: true, locked: false }])
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

test('an event start whose INSERT … SELECT finds no parent action writes nothing more and fails', () => {
  // The parent's fields are copied by INSERT … SELECT (migration 0008): no parent row, no row.
  const op: StoreWrite = {
    op: 'event_start',
    values: {
      instanceUuid: UUID,
      requestId: 'req-1',
      event: 'e',
      host: null,
      startTime: at,
      createdAt: at,
    },
  }
  const program = writeProgram(op, new BoundedActionIdCache())
  let step = program.next()
  const answer = (s: SqlStep): StepResult =>
    s.mode === 'run'
      ? { changes: 0, insertId: 0 }
      : s.mode === 'get' && s.readsActions
        ? ACTION_ROW
        : undefined
  assert.throws(
    () => {
      while (!step.done) step = program.next(answer(step.value))
    },
    { code: 'action_not_found' },
  )
})

test('a new action merge reads instance and action in one read; its request key only serializes writers', () => {
  const seen = steps(
    {
      op: 'action_merge',
      values: {
        instanceUuid: UUID,
        action: 'reboot',
        requestId: 'req-1',
        userId: 'u',
        projectId: 'p',
        startTime: at,
        finishTime: null,
        replaces: [],
        createdAt: at,
      },
    },
    (s) => (s.mode === 'run' ? inserted : { instance_project_id: 'p', ...nulls(ACTION_ROW) }),
  )
  assert.deepEqual(seen.map(flags), [
    { get: 'instances', readsActions: true, locked: false },
    { run: 'INSERT', returnsId: false },
    { run: 'DELETE', returnsId: false },
    { run: 'INSERT', returnsId: true },
    { change: 'action' },
  ])
  // SQLite's executor skips these two (its write transaction already excludes other writers).
  assert.deepEqual(
    seen.map((s) => s.mode === 'run' && s.serializesOnly === true),
    [false, true, true, false, false],
  )
})

test("an event merge reads its event and its action's time in one locked read after touches", () => {
  const cache = new BoundedActionIdCache()
  cache.set(UUID, 'req-1', 7)
  const seen: SqlStep[] = []
  const program = writeProgram(
    {
      op: 'event_merge',
      values: {
        instanceUuid: UUID,
        requestId: 'req-1',
        event: 'compute_reboot_instance',
        host: 'cmp-1',
        startTime: at,
        finishTime: null,
        result: null,
        traceback: null,
        details: null,
        createdAt: at,
      },
    },
    cache,
  )
  // The action exists, without that event (the event's columns NULL); no request fault is kept.
  const answer = (s: SqlStep): StepResult =>
    s.mode === 'run'
      ? inserted
      : s.mode === 'get' && s.sql.includes('JOIN')
        ? { action_updated_at: at, action_message: null, id: null, action_id: null }
        : undefined
  for (let step = program.next(); !step.done;) {
    seen.push(step.value)
    step = program.next(answer(step.value))
  }
  assert.deepEqual(seen.map(flags), [
    { get: 'instance_actions', readsActions: true, locked: true },
    { get: 'nova_request_faults', readsActions: false, locked: false },
    { run: 'INSERT', returnsId: true },
    { change: 'event' },
    { change: 'action' },
  ])
})
