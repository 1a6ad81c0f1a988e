/**
 * The write operations as backend-neutral programs (see sql-step.ts). They implement the rules of
 * Nova's DB layer (docs/nova-behaviour.md §2) with ActionTrail's deliberate differences (docs/compatibility.md):
 * unique (instance, request id) with idempotent restarts, no fallback parent, finish of the oldest
 * unfinished event, repeated finishes as no-ops.
 */
import type { Selectable } from 'kysely'
import {
  actionNotFound,
  eventNotFound,
  instanceNotFound,
  requestIdConflict,
} from '../../domain/record-errors.js'
import type { ActionEvent, InstanceAction } from '../../domain/instance-action.js'
import type { Timestamp } from '../../domain/timestamp.js'
import type { WriteOutcome } from '../../domain/write-operation.js'
import type {
  ActionFinish,
  ActionStart,
  EventFinish,
  EventStart,
  InstancePut,
  StoreWrite,
} from '../action-store.js'
import { toAction, toEvent, toInstance } from '../rows.js'
import { importActions, importInstances } from './import-program.js'
import type { ActionsTable, EventsTable, InstancesTable } from '../schema.js'
import {
  change,
  get,
  getActions,
  getLocked,
  insertReturningId,
  run,
  touch,
  type Row,
  type RunResult,
  type WriteProgram,
} from './sql-step.js'

type Out = WriteProgram<WriteOutcome>

const ACTION_COLUMNS =
  'id, instance_uuid, action, request_id, user_id, project_id, start_time, finish_time, message, created_at, updated_at'
const EVENT_COLUMNS =
  'id, action_id, event, start_time, finish_time, result, traceback, host, details, created_at, updated_at'
const SELECT_ACTION =
  `SELECT ${ACTION_COLUMNS} FROM instance_actions WHERE instance_uuid = ? ` +
  `AND request_id = ? ORDER BY created_at DESC, id DESC LIMIT 1`

/**
 * Change notes (change-feed.ts): yielded only after a write that changed a visible row, so an
 * idempotent repeat, which returns before writing, adds nothing to the change feed.
 */
function actionChange(actionId: number, instanceUuid: string, at: string) {
  return change({ kind: 'action', actionId, eventId: null, instanceUuid, at })
}

function eventChange(eventId: number, actionId: number, instanceUuid: string, at: string) {
  return change({ kind: 'event', actionId, eventId, instanceUuid, at })
}

function* findAction(
  instanceUuid: string,
  requestId: string,
): WriteProgram<InstanceAction | undefined> {
  const row = (yield getActions(SELECT_ACTION, instanceUuid, requestId)) as Row | undefined
  return row && toAction(row as unknown as Selectable<ActionsTable>)
}

function* requireAction(instanceUuid: string, requestId: string): WriteProgram<InstanceAction> {
  const action = yield* findAction(instanceUuid, requestId)
  if (!action) throw actionNotFound(requestId, instanceUuid)
  return action
}

/**
 * The id of the action an event belongs to. (instance, request id) → id never changes once the
 * action exists, so executors may answer from a cache and skip the lookup.
 */
function* requireActionId(
  cache: ActionIdCache,
  instanceUuid: string,
  requestId: string,
): WriteProgram<number> {
  const cached = cache.get(instanceUuid, requestId)
  if (cached !== undefined) return cached
  const action = yield* requireAction(instanceUuid, requestId)
  cache.set(instanceUuid, requestId, action.id)
  return action.id
}

function* instancePut(v: InstancePut): Out {
  const row = (yield get(
    'SELECT uuid, name, project_id, user_id, created_at, updated_at, deleted_at FROM instances WHERE uuid = ?',
    v.uuid,
  )) as Row | undefined
  if (row) {
    const current = toInstance(row as unknown as Selectable<InstancesTable>)
    if (
      current.name === v.name &&
      current.projectId === v.projectId &&
      current.userId === v.userId
    ) {
      return { ok: true, created: false, record: { kind: 'instance', instance: current } }
    }
    yield run(
      'UPDATE instances SET name = ?, project_id = ?, user_id = ?, updated_at = ? WHERE uuid = ?',
      v.name,
      v.projectId,
      v.userId,
      v.now,
      v.uuid,
    )
    if (current.projectId !== v.projectId) {
      // The owner project is copied onto actions and events (migration 0005) so that a project's
      // query is an index range read; an instance moved to another project takes its history along.
      yield run(
        'UPDATE instance_actions SET owner_project_id = ? WHERE instance_uuid = ?',
        v.projectId,
        v.uuid,
      )
      yield run(
        'UPDATE instance_actions_events SET owner_project_id = ? WHERE instance_uuid = ?',
        v.projectId,
        v.uuid,
      )
    }
    const instance = {
      ...current,
      name: v.name,
      projectId: v.projectId,
      userId: v.userId,
      updatedAt: v.now,
    }
    return { ok: true, created: false, record: { kind: 'instance', instance } }
  }
  yield run(
    'INSERT INTO instances (uuid, name, project_id, user_id, created_at, updated_at, deleted_at) ' +
      'VALUES (?, ?, ?, ?, ?, ?, NULL)',
    v.uuid,
    v.name,
    v.projectId,
    v.userId,
    v.now,
    v.now,
  )
  const instance = {
    uuid: v.uuid,
    name: v.name,
    projectId: v.projectId,
    userId: v.userId,
    createdAt: v.now,
    updatedAt: v.now,
    deletedAt: null,
  }
  return { ok: true, created: true, record: { kind: 'instance', instance } }
}

function* instanceDelete(uuid: string, at: Timestamp): Out {
  const row = (yield get(
    'SELECT uuid, name, project_id, user_id, created_at, updated_at, deleted_at FROM instances WHERE uuid = ?',
    uuid,
  )) as Row | undefined
  if (!row) throw instanceNotFound(uuid)
  const current = toInstance(row as unknown as Selectable<InstancesTable>)
  // Deleting twice keeps the first deletion time: a retried delete changes nothing.
  if (current.deletedAt !== null)
    return { ok: true, created: false, record: { kind: 'instance', instance: current } }
  yield run('UPDATE instances SET deleted_at = ?, updated_at = ? WHERE uuid = ?', at, at, uuid)
  return {
    ok: true,
    created: false,
    record: { kind: 'instance', instance: { ...current, deletedAt: at, updatedAt: at } },
  }
}

function* actionStart(v: ActionStart, cache: ActionIdCache): Out {
  const instance = (yield get(
    'SELECT uuid, project_id FROM instances WHERE uuid = ?',
    v.instanceUuid,
  )) as Row | undefined
  if (!instance) throw instanceNotFound(v.instanceUuid)
  const existing = yield* findAction(v.instanceUuid, v.requestId)
  if (existing) {
    if (existing.action !== v.action) {
      throw requestIdConflict(v.requestId, existing.action, v.instanceUuid)
    }
    return { ok: true, created: false, record: { kind: 'action', action: existing } }
  }
  const inserted = (yield insertReturningId(
    'INSERT INTO instance_actions (instance_uuid, action, request_id, user_id, project_id, ' +
      'start_time, finish_time, message, created_at, updated_at, owner_project_id, written_by) ' +
      'VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?)',
    v.instanceUuid,
    v.action,
    v.requestId,
    v.userId,
    v.projectId,
    v.startTime,
    v.createdAt,
    v.startTime,
    instance.project_id,
    v.writer ?? null,
  )) as RunResult
  cache.set(v.instanceUuid, v.requestId, inserted.insertId)
  yield actionChange(inserted.insertId, v.instanceUuid, v.createdAt)
  const action: InstanceAction = {
    id: inserted.insertId,
    instanceUuid: v.instanceUuid,
    action: v.action,
    requestId: v.requestId,
    userId: v.userId,
    projectId: v.projectId,
    startTime: v.startTime,
    finishTime: null,
    message: null,
    createdAt: v.createdAt,
    updatedAt: v.startTime,
    ...(v.writer ? { writtenBy: v.writer } : {}),
  }
  return { ok: true, created: true, record: { kind: 'action', action } }
}

function* actionFinish(v: ActionFinish): Out {
  const action = yield* requireAction(v.instanceUuid, v.requestId)
  // A retried finish keeps the first finish time.
  if (action.finishTime !== null)
    return { ok: true, created: false, record: { kind: 'action', action } }
  yield run(
    'UPDATE instance_actions SET finish_time = ?, updated_at = ? WHERE id = ?',
    v.finishTime,
    v.finishTime,
    action.id,
  )
  yield actionChange(action.id, v.instanceUuid, v.finishTime)
  return {
    ok: true,
    created: false,
    record: {
      kind: 'action',
      action: { ...action, finishTime: v.finishTime, updatedAt: v.finishTime },
    },
  }
}

function* eventStart(v: EventStart, cache: ActionIdCache): Out {
  const actionId = yield* requireActionId(cache, v.instanceUuid, v.requestId)
  // A retried start (same event, same start time) returns the event it already created.
  const same = (yield getLocked(
    actionId,
    `SELECT ${EVENT_COLUMNS} FROM instance_actions_events WHERE action_id = ? AND event = ? ` +
      `AND start_time = ? ORDER BY id LIMIT 1`,
    actionId,
    v.event,
    v.startTime,
  )) as Row | undefined
  if (same)
    return {
      ok: true,
      created: false,
      record: { kind: 'event', event: toEvent(same as unknown as Selectable<EventsTable>) },
    }
  // The instance and its owner project are copied from the parent action in the same statement
  // (migration 0005): no extra round trip on the write path.
  const inserted = (yield insertReturningId(
    'INSERT INTO instance_actions_events (action_id, event, start_time, finish_time, result, ' +
      'traceback, host, details, created_at, updated_at, instance_uuid, owner_project_id, ' +
      'changed_at, written_by) ' +
      'VALUES (?, ?, ?, NULL, NULL, NULL, ?, NULL, ?, NULL, ' +
      '(SELECT a.instance_uuid FROM instance_actions a WHERE a.id = ?), ' +
      '(SELECT a.owner_project_id FROM instance_actions a WHERE a.id = ?), ?, ?)',
    actionId,
    v.event,
    v.startTime,
    v.host,
    v.createdAt,
    actionId,
    actionId,
    v.startTime,
    v.writer ?? null,
  )) as RunResult
  yield touch(actionId, v.startTime)
  // The event is new, and its action changed too (its updated_at).
  yield eventChange(inserted.insertId, actionId, v.instanceUuid, v.createdAt)
  yield actionChange(actionId, v.instanceUuid, v.createdAt)
  const event: ActionEvent = {
    id: inserted.insertId,
    actionId,
    event: v.event,
    startTime: v.startTime,
    finishTime: null,
    result: null,
    traceback: null,
    host: v.host,
    details: null,
    createdAt: v.createdAt,
    updatedAt: null,
    ...(v.writer ? { writtenBy: v.writer } : {}),
  }
  return { ok: true, created: true, record: { kind: 'event', event } }
}

function* eventFinish(v: EventFinish, cache: ActionIdCache): Out {
  const actionId = yield* requireActionId(cache, v.instanceUuid, v.requestId)
  // The oldest unfinished event of that name; when all are finished, the newest one, untouched.
  // Two plain index-ordered reads rather than one ORDER BY over CASE expressions, which made
  // SQLite sort in a temporary B-tree on every finish (a quarter of the write path's time).
  const row = ((yield getLocked(
    actionId,
    `SELECT ${EVENT_COLUMNS} FROM instance_actions_events WHERE action_id = ? AND event = ? ` +
      `AND finish_time IS NULL ORDER BY id LIMIT 1`,
    actionId,
    v.event,
  )) ??
    (yield getLocked(
      actionId,
      `SELECT ${EVENT_COLUMNS} FROM instance_actions_events WHERE action_id = ? AND event = ? ORDER BY id DESC LIMIT 1`,
      actionId,
      v.event,
    ))) as Row | undefined
  if (!row) throw eventNotFound(v.event, actionId)
  const target = toEvent(row as unknown as Selectable<EventsTable>)
  if (target.finishTime !== null)
    return { ok: true, created: false, record: { kind: 'event', event: target } }
  yield run(
    'UPDATE instance_actions_events ' +
      'SET finish_time = ?, result = ?, traceback = ?, details = ?, updated_at = ?, ' +
      'changed_at = ?, finished_by = ? WHERE id = ?',
    v.finishTime,
    v.result,
    v.traceback,
    v.details,
    v.updatedAt,
    v.updatedAt,
    v.writer ?? null,
    target.id,
  )
  yield touch(actionId, v.finishTime, v.result.toLowerCase() === 'error')
  yield eventChange(target.id, actionId, v.instanceUuid, v.updatedAt)
  yield actionChange(actionId, v.instanceUuid, v.updatedAt)
  const event = {
    ...target,
    finishTime: v.finishTime,
    result: v.result,
    traceback: v.traceback,
    details: v.details,
    updatedAt: v.updatedAt,
    ...(v.writer ? { finishedBy: v.writer } : {}),
  }
  return { ok: true, created: false, record: { kind: 'event', event } }
}

/** Remembers action ids by (instance, request id); cleared by the executor on rollback. */
export interface ActionIdCache {
  get(instanceUuid: string, requestId: string): number | undefined
  set(instanceUuid: string, requestId: string, id: number): void
}

/**
 * The program for one store write. Programs raise their AppErrors before their first write step,
 * so a failed write needs no savepoint: it has changed nothing.
 */
export function writeProgram(w: StoreWrite, cache: ActionIdCache): Out {
  switch (w.op) {
    case 'instance_put':
      return instancePut(w.values)
    case 'instance_delete':
      return instanceDelete(w.uuid, w.at)
    case 'action_start':
      return actionStart(w.values, cache)
    case 'action_finish':
      return actionFinish(w.values)
    case 'event_start':
      return eventStart(w.values, cache)
    case 'event_finish':
      return eventFinish(w.values, cache)
    case 'import_instances':
      return importInstances(w.instances)
    case 'import_actions':
      return importActions(w.actions, w.writer)
  }
}
