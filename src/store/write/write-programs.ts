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
import { storedValues } from './change-feed.js'
import { actionMerge, eventMerge, messageReceipt } from './merge-programs.js'
import { importActions, importInstances } from './import-program.js'
import { requestFault } from './request-fault-program.js'
import { archiveBatch, novaPrune, purgeBatch } from './retention-programs.js'
import type { ActionsTable, EventsTable, InstancesTable } from '../schema.js'
import {
  change,
  get,
  getActions,
  getLocked,
  insertActionReturningId,
  insertReturningId,
  run,
  touch,
  type Row,
  type RunResult,
  type WriteProgram,
} from './sql-step.js'

/** A program that ends in one write's outcome. */
export type Out = WriteProgram<WriteOutcome>

const ACTION_COLUMNS =
  'id, instance_uuid, action, request_id, user_id, project_id, start_time, finish_time, message, created_at, updated_at'
/** The event columns every event read selects. */
export const EVENT_COLUMNS =
  'id, action_id, event, start_time, finish_time, result, traceback, host, details, created_at, updated_at'
const SELECT_ACTION =
  `SELECT ${ACTION_COLUMNS} FROM instance_actions WHERE instance_uuid = ? ` +
  `AND request_id = ? ORDER BY created_at DESC, id DESC LIMIT 1`

/**
 * An instance's owner project (`instance_project_id`) and its action of a request id, if any (the
 * action's columns are NULL when there is none); no row when the instance does not exist.
 */
const SELECT_INSTANCE_AND_ACTION =
  `SELECT i.project_id AS instance_project_id, ${ACTION_COLUMNS.split(', ')
    .map((c) => `a.${c}`)
    .join(', ')} FROM instances i LEFT JOIN instance_actions a ` +
  `ON a.instance_uuid = i.uuid AND a.request_id = ? WHERE i.uuid = ? ` +
  `ORDER BY a.created_at DESC, a.id DESC LIMIT 1`

/**
 * Change notes (change-feed.ts): yielded only after a write that changed a visible row, so an
 * idempotent repeat, which returns before writing, adds nothing to the change feed.
 */
/** A change note for an action (see change-feed.ts). */
export function actionChange(actionId: number, instanceUuid: string, at: string) {
  return change({ kind: 'action', actionId, eventId: null, instanceUuid, at })
}

/** A change note for an event (see change-feed.ts). */
export function eventChange(
  eventId: number,
  actionId: number,
  instanceUuid: string,
  at: string,
  stored?: Readonly<Record<string, unknown>>,
) {
  return change({
    kind: 'event',
    actionId,
    eventId,
    instanceUuid,
    at,
    ...(stored ? { stored } : {}),
  })
}

/** The action of (instance, request id), if any, with every earlier write of the transaction. */
export function* findAction(
  instanceUuid: string,
  requestId: string,
): WriteProgram<InstanceAction | undefined> {
  const row = (yield getActions(SELECT_ACTION, instanceUuid, requestId)) as Row | undefined
  return row && toAction(row as unknown as Selectable<ActionsTable>)
}

/**
 * The instance's owner project and its action of a request id (if any) in one statement: one round
 * trip less on the server databases, one statement less on SQLite (where a statement costs a few
 * µs of its own); undefined when the instance does not exist. Reads like findAction.
 */
export function* findInstanceAndAction(
  instanceUuid: string,
  requestId: string,
): WriteProgram<{ ownerProjectId: string; action: InstanceAction | undefined } | undefined> {
  const row = (yield getActions(SELECT_INSTANCE_AND_ACTION, requestId, instanceUuid)) as
    Row | undefined
  if (!row) return undefined
  const action =
    row.id === null || row.id === undefined
      ? undefined
      : toAction(row as unknown as Selectable<ActionsTable>)
  return { ownerProjectId: row.instance_project_id as string, action }
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
export function* requireActionId(
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
    const name = v.keepName ? current.name : v.name
    if (current.name === name && current.projectId === v.projectId && current.userId === v.userId) {
      return { ok: true, created: false, record: { kind: 'instance', instance: current } }
    }
    yield run(
      'UPDATE instances SET name = ?, project_id = ?, user_id = ?, updated_at = ? WHERE uuid = ?',
      name,
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
      name,
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
  const found = yield* findInstanceAndAction(v.instanceUuid, v.requestId)
  if (!found) throw instanceNotFound(v.instanceUuid)
  const { ownerProjectId, action: existing } = found
  if (existing) {
    if (existing.action !== v.action) {
      throw requestIdConflict(v.requestId, existing.action, v.instanceUuid)
    }
    return { ok: true, created: false, record: { kind: 'action', action: existing } }
  }
  const inserted = (yield insertActionReturningId(
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
    ownerProjectId,
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
  // The parent action's instance, owner project (migration 0005), name, project and user
  // (migration 0008) are copied in the same statement: INSERT … SELECT reads the parent row once
  // by its primary key, with no extra round trip on the write path.
  const inserted = (yield insertReturningId(
    'INSERT INTO instance_actions_events (action_id, event, start_time, finish_time, result, ' +
      'traceback, host, details, created_at, updated_at, instance_uuid, owner_project_id, ' +
      'action_name, project_id, user_id, changed_at, written_by) ' +
      'SELECT a.id, ?, ?, NULL, NULL, NULL, ?, NULL, ?, NULL, a.instance_uuid, ' +
      'a.owner_project_id, a.action, a.project_id, a.user_id, ?, ? ' +
      'FROM instance_actions a WHERE a.id = ?',
    v.event,
    v.startTime,
    v.host,
    v.createdAt,
    v.startTime,
    v.writer ?? null,
    actionId,
  )) as RunResult
  // Actions are never deleted, so this is a broken cache or database; the INSERT wrote nothing.
  if (inserted.changes === 0) throw actionNotFound(v.requestId, v.instanceUuid)
  yield touch(actionId, v.startTime)
  // The event is new, and its action changed too (its updated_at).
  // Every digest column of the new row is a value of this INSERT (a.id is actionId) or NULL:
  // the chain's digest needs no read-back of it (change-feed.ts recordDigests).
  const stored = storedValues({
    id: inserted.insertId,
    action_id: actionId,
    event: v.event,
    start_time: v.startTime,
    finish_time: null,
    result: null,
    traceback: null,
    host: v.host,
    details: null,
    created_at: v.createdAt,
    updated_at: null,
    written_by: v.writer ?? null,
    finished_by: null,
  })
  yield eventChange(inserted.insertId, actionId, v.instanceUuid, v.createdAt, stored)
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
  // written_by too: with the columns set below, the row read is every digest column of the
  // finished event (the hash chain's digest needs no read-back of it).
  const row = ((yield getLocked(
    actionId,
    `SELECT ${EVENT_COLUMNS}, written_by FROM instance_actions_events WHERE action_id = ? ` +
      `AND event = ? AND finish_time IS NULL ORDER BY id LIMIT 1`,
    actionId,
    v.event,
  )) ??
    (yield getLocked(
      actionId,
      `SELECT ${EVENT_COLUMNS}, written_by FROM instance_actions_events WHERE action_id = ? ` +
        `AND event = ? ORDER BY id DESC LIMIT 1`,
      actionId,
      v.event,
    ))) as Row | undefined
  if (!row) throw eventNotFound(v.event, actionId)
  // The answer stays as before: written_by is read for the digest only.
  const { written_by: writtenBy, ...visible } = row
  const target = toEvent(visible as unknown as Selectable<EventsTable>)
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
  const stored = storedValues({
    ...row,
    written_by: writtenBy,
    finish_time: v.finishTime,
    result: v.result,
    traceback: v.traceback,
    details: v.details,
    updated_at: v.updatedAt,
    finished_by: v.writer ?? null,
  })
  yield eventChange(target.id, actionId, v.instanceUuid, v.updatedAt, stored)
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
    case 'action_merge':
      return actionMerge(w.values, cache)
    case 'event_merge':
      return eventMerge(w.values, cache)
    case 'message_receipt':
      return messageReceipt(w.values)
    case 'request_fault':
      return requestFault(w.values, cache)
    case 'import_instances':
      return importInstances(w.instances)
    case 'import_actions':
      return importActions(w.actions, cache, w.writer)
    case 'archive_batch':
      return archiveBatch(w.values)
    case 'purge_batch':
      return purgeBatch(w.values)
    case 'nova_prune':
      return novaPrune(w.values)
  }
}
