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
import { instanceNotFound } from '../../domain/record-errors.js'
import type { ActionEvent, EventResult } from '../../domain/instance-action.js'
import type { Timestamp } from '../../domain/timestamp.js'
import type { ActionMerge, EventMerge, MessageReceipt } from '../action-store.js'
import { canonicalTime, toEvent } from '../rows.js'
import type { EventsTable } from '../schema.js'
import {
  get,
  getLocked,
  insertReturningId,
  run,
  touch,
  type Row,
  type RunResult,
} from './sql-step.js'
import { withRequestFault } from './pending-fault.js'
import {
  actionChange,
  eventChange,
  EVENT_COLUMNS,
  findAction,
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
  const instance = (yield get(
    'SELECT uuid, project_id FROM instances WHERE uuid = ?',
    v.instanceUuid,
  )) as Row | undefined
  if (!instance) throw instanceNotFound(v.instanceUuid)
  const existing = yield* findAction(v.instanceUuid, v.requestId)
  if (!existing) {
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
      instance.project_id,
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
  yield run(
    'UPDATE instance_actions SET action = ?, user_id = ?, project_id = ?, start_time = ?, ' +
      'finish_time = ?, created_at = ? WHERE id = ?',
    merged.action,
    merged.userId,
    merged.projectId,
    merged.startTime,
    merged.finishTime,
    merged.createdAt,
    existing.id,
  )
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
  // updated_at only moves forward: the pieces arrive in no particular order.
  const updatedAt = later(later(existing.updatedAt, merged.startTime), merged.finishTime)
  if (updatedAt !== null && updatedAt !== existing.updatedAt) yield touch(existing.id, updatedAt)
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

/** Creates the event of (action, event, host), or merges these values into it (see EventMerge). */
export function* eventMerge(v: EventMerge, cache: ActionIdCache): Out {
  const actionId = yield* requireActionId(cache, v.instanceUuid, v.requestId)
  const row = (yield v.host === null
    ? getLocked(
        actionId,
        `SELECT ${EVENT_COLUMNS} FROM instance_actions_events WHERE action_id = ? AND event = ? ` +
          `AND host IS NULL ORDER BY id LIMIT 1`,
        actionId,
        v.event,
      )
    : getLocked(
        actionId,
        `SELECT ${EVENT_COLUMNS} FROM instance_actions_events WHERE action_id = ? AND event = ? ` +
          `AND host = ? ORDER BY id LIMIT 1`,
        actionId,
        v.event,
        v.host,
      )) as Row | undefined
  // A compute.exception of this request and host may have come first (request-fault-program.ts).
  v = yield* withRequestFault(v, row ? canonicalTime(row.start_time) : null)
  // Read after the lock, so that the time compared is the committed one (and this transaction's).
  const action = yield* findAction(v.instanceUuid, v.requestId)
  const actionUpdatedAt = action?.updatedAt ?? null
  const failed = v.result === 'Error'
  if (!row) {
    // An end alone (its start was lost, or is still on its way) starts at its finish time.
    const startTime = (v.startTime ?? v.finishTime) as Timestamp
    const updatedAt = v.finishTime === null ? null : v.createdAt
    const result = v.finishTime === null && !failed ? null : (v.result ?? 'Success')
    const inserted = (yield insertReturningId(
      // The parent's copies (migrations 0005 and 0008) from its row, as event_start does.
      'INSERT INTO instance_actions_events (action_id, event, start_time, finish_time, result, ' +
        'traceback, host, details, created_at, updated_at, instance_uuid, owner_project_id, ' +
        'action_name, project_id, user_id, changed_at, written_by, finished_by) ' +
        'SELECT a.id, ?, ?, ?, ?, ?, ?, ?, ?, ?, a.instance_uuid, a.owner_project_id, a.action, ' +
        'a.project_id, a.user_id, ?, ?, ? FROM instance_actions a WHERE a.id = ?',
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
      actionId,
    )) as RunResult
    const latest = later(later(actionUpdatedAt, startTime), v.finishTime) as Timestamp
    yield touch(actionId, latest, failed)
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
  const current = toEvent(row as unknown as Selectable<EventsTable>)
  const next = mergedEvent(current, v)
  const finishing = next.finishTime !== current.finishTime || next.result !== current.result
  if (!finishing && next.startTime === current.startTime && next.createdAt === current.createdAt)
    return { ok: true, created: false, record: { kind: 'event', event: current } }
  const updatedAt = finishing ? v.createdAt : current.updatedAt
  yield run(
    'UPDATE instance_actions_events SET start_time = ?, finish_time = ?, result = ?, ' +
      'traceback = ?, details = ?, created_at = ?, updated_at = ?, changed_at = ?, ' +
      'finished_by = ? WHERE id = ?',
    next.startTime,
    next.finishTime,
    next.result,
    next.traceback,
    next.details,
    next.createdAt,
    updatedAt,
    updatedAt ?? next.startTime,
    finishing ? (v.writer ?? null) : (current.finishedBy ?? null),
    current.id,
  )
  const latest = later(later(actionUpdatedAt, next.startTime), next.finishTime) as Timestamp
  yield touch(actionId, latest, next.result === 'Error')
  yield eventChange(current.id, actionId, v.instanceUuid, v.createdAt)
  yield actionChange(actionId, v.instanceUuid, v.createdAt)
  const event = {
    ...next,
    updatedAt,
    ...(finishing && v.writer ? { finishedBy: v.writer } : {}),
  }
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
