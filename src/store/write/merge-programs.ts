/**
 * Merge writes, for writers that learn about an action piece by piece, out of order and perhaps
 * twice (the Nova follower: docs/nova-notifications.md). Unlike start/finish, a merge does not
 * care which piece comes first: each one moves a record's times outward (earlier start, later
 * finish, the earliest creation time a source knows), fills what is missing and never forgets a
 * failure, so applying the same pieces in any
 * order, any number of times, leaves the same record. Like every program, they raise their
 * AppErrors before their first write step.
 */
import type { Selectable } from 'kysely'
import { actionNotFound, instanceNotFound } from '../../domain/record-errors.js'
import {
  ACTION_ERROR_MESSAGE,
  type ActionEvent,
  type EventResult,
} from '../../domain/instance-action.js'
import type { Timestamp } from '../../domain/timestamp.js'
import type { ActionMerge, EventMerge, MessageReceipt } from '../action-store.js'
import { canonicalTimeOrNull, toEvent } from '../rows.js'
import type { EventsTable } from '../schema.js'
import {
  get,
  getLockedAction,
  insertReturningId,
  run,
  touch,
  updateChanged,
  type Row,
  type RunResult,
} from './sql-step.js'
import { requestKey, withRequestFault } from './pending-fault.js'
import {
  actionChange,
  eventChange,
  EVENT_COLUMNS,
  findInstanceAndAction,
  requireActionId,
  type ActionIdCache,
  type Out,
} from './write-programs.js'

// Canonical timestamps sort chronologically as text (domain/timestamp.ts).
function earlier(a: Timestamp, b: Timestamp | null): Timestamp {
  return b !== null && b < a ? b : a
}

function later(a: Timestamp | null, b: Timestamp | null): Timestamp | null {
  if (a === null) return b
  return b !== null && b > a ? b : a
}

/** Creates the action, or merges these values into it (see ActionMerge). */
export function* actionMerge(v: ActionMerge, cache: ActionIdCache): Out {
  // One statement for both (measured 2026-12-07, bench:follow's store alone on SQLite: a read by
  // primary key here cost 6 µs of the ~250 µs per notification, a statement being most of it).
  const found = yield* findInstanceAndAction(v.instanceUuid, v.requestId)
  if (!found) throw instanceNotFound(v.instanceUuid)
  const { ownerProjectId, action: existing } = found
  if (!existing) {
    // Serializes with a compute.exception of this request: either this transaction sees its fault
    // or the fault's sees this action (pending-fault.ts requestKey).
    yield* requestKey(v.requestId, v.createdAt)
    const createdAt = v.sourceCreatedAt ?? v.createdAt
    const updatedAt = later(v.startTime, v.finishTime) as Timestamp
    const inserted = (yield insertReturningId(
      'INSERT INTO instance_actions (instance_uuid, action, request_id, user_id, project_id, ' +
        'start_time, finish_time, message, created_at, updated_at, owner_project_id, written_by) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)',
      v.instanceUuid,
      v.action,
      v.requestId,
      v.userId,
      v.projectId,
      v.startTime,
      v.finishTime,
      createdAt,
      updatedAt,
      ownerProjectId,
      v.writer ?? null,
    )) as RunResult
    cache.set(v.instanceUuid, v.requestId, inserted.insertId)
    yield actionChange(inserted.insertId, v.instanceUuid, v.createdAt)
    const action = {
      id: inserted.insertId,
      instanceUuid: v.instanceUuid,
      action: v.action,
      requestId: v.requestId,
      userId: v.userId,
      projectId: v.projectId,
      startTime: v.startTime,
      finishTime: v.finishTime,
      message: null,
      createdAt,
      updatedAt,
      ...(v.writer ? { writtenBy: v.writer } : {}),
    }
    return { ok: true, created: true, record: { kind: 'action', action } }
  }
  const merged = {
    ...existing,
    action: v.replaces.includes(existing.action) ? v.action : existing.action,
    userId: existing.userId ?? v.userId,
    projectId: existing.projectId ?? v.projectId,
    startTime: earlier(existing.startTime, v.startTime),
    finishTime: later(existing.finishTime, v.finishTime),
    createdAt: v.sourceCreatedAt
      ? earlier(existing.createdAt, v.sourceCreatedAt)
      : existing.createdAt,
  }
  if (
    merged.action === existing.action &&
    merged.userId === existing.userId &&
    merged.projectId === existing.projectId &&
    merged.startTime === existing.startTime &&
    merged.finishTime === existing.finishTime &&
    merged.createdAt === existing.createdAt
  )
    return { ok: true, created: false, record: { kind: 'action', action: existing } }
  // updated_at only moves forward: the pieces arrive in no particular order. It is set by this
  // UPDATE rather than a touch: findAction above applied every pending touch of the action, and a
  // second UPDATE of the row would rewrite its updated_at indexes once more.
  const updatedAt = later(later(existing.updatedAt, merged.startTime), merged.finishTime)
  const update = updateChanged('instance_actions', existing.id, [
    ['action', merged.action, existing.action],
    ['user_id', merged.userId, existing.userId],
    ['project_id', merged.projectId, existing.projectId],
    ['start_time', merged.startTime, existing.startTime],
    ['finish_time', merged.finishTime, existing.finishTime],
    ['created_at', merged.createdAt, existing.createdAt],
    ['updated_at', updatedAt, existing.updatedAt],
  ])
  if (update) yield update
  // Events carry copies of their action's name, project and user (migration 0008): a merge that
  // renames the action (resize → migrate) or fills its initiator rewrites them.
  if (
    merged.action !== existing.action ||
    merged.userId !== existing.userId ||
    merged.projectId !== existing.projectId
  )
    yield run(
      'UPDATE instance_actions_events SET action_name = ?, project_id = ?, user_id = ? ' +
        'WHERE action_id = ?',
      merged.action,
      merged.projectId,
      merged.userId,
      existing.id,
    )
  yield actionChange(existing.id, v.instanceUuid, v.createdAt)
  return {
    ok: true,
    created: false,
    record: { kind: 'action', action: { ...merged, updatedAt: updatedAt ?? existing.updatedAt } },
  }
}

/** The event values after merging `v` into `e` (see EventMerge). */
function mergedEvent(e: ActionEvent, v: EventMerge): ActionEvent {
  const finishTime = later(e.finishTime, v.finishTime)
  const failedBefore = e.result === 'Error'
  const failsNow = v.result === 'Error'
  let result: EventResult | null = null
  if (failedBefore || failsNow) result = 'Error'
  else if (finishTime !== null) result = e.result ?? v.result ?? 'Success'
  return {
    ...e,
    startTime: earlier(e.startTime, v.startTime),
    finishTime,
    result,
    // The first failure's texts stay: a repeat, or a later failure, does not rewrite them.
    traceback: failedBefore ? e.traceback : failsNow ? v.traceback : null,
    details: failedBefore ? e.details : failsNow ? v.details : null,
    createdAt: v.sourceCreatedAt ? earlier(e.createdAt, v.sourceCreatedAt) : e.createdAt,
  }
}

/** The event columns that copy their action's (event column, action column). */
const PARENT_COPIES: readonly (readonly [string, string])[] = [
  ['instance_uuid', 'instance_uuid'],
  ['owner_project_id', 'owner_project_id'],
  ['action_name', 'action'],
  ['project_id', 'project_id'],
  ['user_id', 'user_id'],
]

// A stored time as a canonical Timestamp; undefined (so never equal: assigned again) for the
// empty default the column had before migration 0005 filled it.
function storedTime(value: unknown): Timestamp | null | undefined {
  return value === '' ? undefined : canonicalTimeOrNull(value)
}

/** Creates the event of (action, event, host), or merges these values into it (see EventMerge). */
export function* eventMerge(v: EventMerge, cache: ActionIdCache): Out {
  const actionId = yield* requireActionId(cache, v.instanceUuid, v.requestId)
  // The event (its columns and those an update compares before assigning them, updateChanged)
  // and the action's time and message, in one statement: the action row by its id, the event
  // joined. Built here, since EVENT_COLUMNS comes from a module that imports this one. Measured
  // 2026-12-07 (bench:follow's store alone on SQLite, loaded machine): the action's own read by
  // (instance, request id) took 13 µs of wall time per notification, of ~250 µs.
  const columns = `${EVENT_COLUMNS}, changed_at, written_by, finished_by`
    .split(', ')
    .map((column) => `e.${column}`)
    .join(', ')
  const row = (yield getLockedAction(
    actionId,
    'SELECT a.updated_at AS action_updated_at, a.message AS action_message, ' +
      `${columns} FROM instance_actions a LEFT JOIN instance_actions_events e ` +
      `ON e.action_id = a.id AND e.event = ? AND ${v.host === null ? 'e.host IS NULL' : 'e.host = ?'} ` +
      'WHERE a.id = ? ORDER BY e.id LIMIT 1',
    v.event,
    ...(v.host === null ? [] : [v.host]),
    actionId,
  )) as Row | undefined
  // Gone since its id was cached (another process purged it): nothing is written.
  if (!row) throw actionNotFound(v.requestId, v.instanceUuid)
  const stored =
    row.id === null || row.id === undefined
      ? null
      : toEvent(row as unknown as Selectable<EventsTable>)
  // A compute.exception of this request and host may have come first (request-fault-program.ts).
  const fold = yield* withRequestFault(v, stored)
  v = fold.v
  // Read with every earlier write of the transaction (getLockedAction applied the pending touches
  // first) and after the lock, so that the time compared is the committed one.
  const actionUpdatedAt = canonicalTimeOrNull(row.action_updated_at)
  const actionMessage = row.action_message as string | null
  const failed = v.result === 'Error'
  // A touch that would change nothing (the usual case: the action's own merge just moved its
  // updated_at to this very time) is not made: it would rewrite the action's updated_at indexes.
  const touchIfChanged = (latest: Timestamp, fails: boolean) =>
    latest === actionUpdatedAt && (!fails || actionMessage === ACTION_ERROR_MESSAGE)
      ? undefined
      : touch(actionId, latest, fails)
  if (!stored) {
    // An end alone (its start was lost, or is still on its way) starts at its finish time.
    const startTime = (v.startTime ?? v.finishTime) as Timestamp
    const updatedAt = v.finishTime === null ? null : v.createdAt
    const result = v.finishTime === null && !failed ? null : (v.result ?? 'Success')
    const inserted = (yield insertReturningId(
      // The parent's copies (migrations 0005 and 0008) from its row, as event_start does, but by
      // one-row subqueries in VALUES rather than INSERT … SELECT: SQLite runs an INSERT … SELECT
      // with a statement journal, copying every page the insert changes (some forty, with the
      // events' indexes) before changing it. Measured on SQLite: 150-300 µs per insert that way,
      // 43-54 µs this way, 20-40 µs with the copies as plain values.
      'INSERT INTO instance_actions_events (action_id, event, start_time, finish_time, result, ' +
        'traceback, host, details, created_at, updated_at, changed_at, written_by, finished_by, ' +
        `${PARENT_COPIES.map(([column]) => column).join(', ')}) ` +
        `VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${PARENT_COPIES.map(
          ([, parent]) => `(SELECT ${parent} FROM instance_actions WHERE id = ?)`,
        ).join(', ')})`,
      actionId,
      v.event,
      startTime,
      v.finishTime,
      result,
      failed ? v.traceback : null,
      v.host,
      failed ? v.details : null,
      v.sourceCreatedAt ?? v.createdAt,
      updatedAt,
      updatedAt ?? startTime,
      v.writer ?? null,
      v.finishTime === null ? null : (v.writer ?? null),
      ...PARENT_COPIES.map(() => actionId),
    )) as RunResult
    const touched = touchIfChanged(
      later(later(actionUpdatedAt, startTime), v.finishTime) as Timestamp,
      failed,
    )
    if (touched) yield touched
    yield eventChange(inserted.insertId, actionId, v.instanceUuid, v.createdAt)
    yield actionChange(actionId, v.instanceUuid, v.createdAt)
    const event: ActionEvent = {
      id: inserted.insertId,
      actionId,
      event: v.event,
      startTime,
      finishTime: v.finishTime,
      result,
      traceback: failed ? v.traceback : null,
      host: v.host,
      details: failed ? v.details : null,
      createdAt: v.sourceCreatedAt ?? v.createdAt,
      updatedAt,
      ...(v.writer ? { writtenBy: v.writer } : {}),
    }
    return { ok: true, created: true, record: { kind: 'event', event } }
  }
  const current = stored as ActionEvent
  // Undoing a fault folded in while the event was open (pending-fault.ts): merged into the event
  // as it was before the fold.
  const next = mergedEvent(
    fold.reopen
      ? { ...current, finishTime: null, result: null, details: null, traceback: null }
      : current,
    v,
  )
  const finishing = next.finishTime !== current.finishTime || next.result !== current.result
  if (!finishing && next.startTime === current.startTime && next.createdAt === current.createdAt)
    return { ok: true, created: false, record: { kind: 'event', event: current } }
  const updatedAt = finishing ? v.createdAt : current.updatedAt
  const finishedBy = current.finishedBy ?? null
  const update = updateChanged('instance_actions_events', current.id, [
    ['start_time', next.startTime, current.startTime],
    ['finish_time', next.finishTime, current.finishTime],
    ['result', next.result, current.result],
    ['traceback', next.traceback, current.traceback],
    ['details', next.details, current.details],
    ['created_at', next.createdAt, current.createdAt],
    ['updated_at', updatedAt, current.updatedAt],
    ['changed_at', updatedAt ?? next.startTime, storedTime(row.changed_at)],
    // Only a finish names its writer: a start merged later keeps the finisher.
    ['finished_by', finishing ? (v.writer ?? null) : finishedBy, finishedBy],
  ])
  if (update) yield update
  const touched = touchIfChanged(
    later(later(actionUpdatedAt, next.startTime), next.finishTime) as Timestamp,
    next.result === 'Error',
  )
  if (touched) yield touched
  // The action's "Error" came from that fold alone when no other event of it failed: it goes too.
  if (fold.reopen && next.result !== 'Error')
    yield run(
      'UPDATE instance_actions SET message = NULL WHERE id = ? AND NOT EXISTS (SELECT 1 FROM ' +
        "instance_actions_events WHERE action_id = ? AND result = 'Error')",
      actionId,
      actionId,
    )
  yield eventChange(current.id, actionId, v.instanceUuid, v.createdAt)
  yield actionChange(actionId, v.instanceUuid, v.createdAt)
  const event: ActionEvent = { ...next, updatedAt }
  delete event.finishedBy
  const nextFinishedBy = finishing ? (v.writer ?? null) : finishedBy
  if (nextFinishedBy) event.finishedBy = nextFinishedBy
  return { ok: true, created: false, record: { kind: 'event', event } }
}

/**
 * Remembers a message id as applied; `created: false` when it was already there. In the same
 * transaction as the message's writes, so a redelivery after a crash finds it.
 */
export function* messageReceipt(v: MessageReceipt): Out {
  const seen = (yield get(
    'SELECT message_id FROM nova_messages WHERE message_id = ?',
    v.messageId,
  )) as Row | undefined
  const record = { kind: 'receipt' as const, messageId: v.messageId }
  if (seen) return { ok: true, created: false, record }
  yield run('INSERT INTO nova_messages (message_id, seen_at) VALUES (?, ?)', v.messageId, v.seenAt)
  return { ok: true, created: true, record }
}
