/**
 * The storage contract. Every backend (SQLite, later PostgreSQL and MariaDB) implements it with the
 * same observable behaviour; one contract test suite holds them to it. Stores persist what they are
 * given: validation, sanitizing and the choice of timestamps happen before (src/domain).
 * A promise resolves only after the write is durable.
 */
import type { ActionEvent, EventResult, Instance, InstanceAction } from '../domain/instance-action.js'
import type { Timestamp } from '../domain/timestamp.js'
import type { WriteOutcome } from '../domain/write-operation.js'

/** Values for registering or updating an instance. */
export interface InstancePut {
  uuid: string
  name: string
  projectId: string
  userId: string
  now: Timestamp
}

/** Filter for listing instances. */
export interface InstanceFilter {
  /** Only instances of this project; all projects when absent. */
  projectId?: string
  /** Only instances whose name contains this text (plain text, not a pattern). */
  nameContains?: string
  includeDeleted: boolean
  limit: number
}

/** Values for starting an action; Nova's `pack_action_start`. */
export interface ActionStart {
  instanceUuid: string
  action: string
  requestId: string
  userId: string | null
  projectId: string | null
  startTime: Timestamp
  createdAt: Timestamp
}

/** Values for finishing an action; Nova's `pack_action_finish`. */
export interface ActionFinish {
  instanceUuid: string
  requestId: string
  finishTime: Timestamp
}

/** Values for starting an event; Nova's `pack_action_event_start`. */
export interface EventStart {
  instanceUuid: string
  requestId: string
  event: string
  host: string | null
  startTime: Timestamp
  createdAt: Timestamp
}

/** Values for finishing an event; Nova's `pack_action_event_finish` (already sanitized). */
export interface EventFinish {
  instanceUuid: string
  requestId: string
  event: string
  finishTime: Timestamp
  result: EventResult
  traceback: string | null
  details: string | null
  updatedAt: Timestamp
}

/** Keyset page request for an instance's actions, newest first. */
export interface ActionListQuery {
  /** Page size; `undefined` means no limit. 0 returns an empty page without resolving the marker. */
  limit?: number
  /** Request id of the last action of the previous page (same instance, filters ignored). */
  marker?: string
  /** Only actions with `updated_at >= changesSince`. */
  changesSince?: Timestamp
  /** Only actions with `updated_at <= changesBefore`. */
  changesBefore?: Timestamp
}

/** Result of starting an action: the row, and whether this call created it (false on a retry). */
export interface ActionStartResult {
  action: InstanceAction
  created: boolean
}

/** One validated, time-stamped write for the store. */
export type StoreWrite =
  | { op: 'instance_put'; values: InstancePut }
  | { op: 'instance_delete'; uuid: string; at: Timestamp }
  | { op: 'action_start'; values: ActionStart }
  | { op: 'action_finish'; values: ActionFinish }
  | { op: 'event_start'; values: EventStart }
  | { op: 'event_finish'; values: EventFinish }

/** A remembered answer to a write request sent with an Idempotency-Key. */
export interface IdempotencyRecord {
  /** Digest of the caller and the key. */
  keyHash: string
  /** Digest of the request (method, path, body) the key was first used with. */
  requestHash: string
  status: number
  body: string
  createdAt: Timestamp
}

/** Persistent storage of instances, actions and events. */
export interface ActionStore {
  /**
   * Applies writes in order in one transaction. Each write is atomic on its own: a failing one
   * (a typed AppError) is rolled back alone and reported in its outcome; the others still apply.
   * Any other failure rolls the whole call back and rejects. Concurrent calls are coalesced into
   * shared commits (group commit); the promise resolves after the commit is durable.
   */
  write(ops: readonly StoreWrite[]): Promise<WriteOutcome[]>
  /** The remembered answer for an idempotency key, if any (expired ones included). */
  getIdempotency(keyHash: string): Promise<IdempotencyRecord | undefined>
  /** Remembers an answer; a concurrent first use of the same key keeps the earlier record. */
  putIdempotency(record: IdempotencyRecord): Promise<void>
  /** Forgets answers created before `before`; returns how many. */
  purgeIdempotency(before: Timestamp): Promise<number>
  /** Registers an instance or updates its name/owner; clears nothing else. */
  putInstance(values: InstancePut): Promise<Instance>
  /** Marks an instance deleted; its actions stay readable. Undefined when unknown. */
  deleteInstance(uuid: string, at: Timestamp): Promise<Instance | undefined>
  /** An instance by uuid, deleted ones included. */
  getInstance(uuid: string): Promise<Instance | undefined>
  /** Instances matching the filter, ordered by name then uuid. */
  listInstances(filter: InstanceFilter): Promise<Instance[]>
  /**
   * Starts an action. Unique per (instance, request id): a repeat with the same action name returns
   * the existing row (`created: false`); a different name is a `conflict`. Unknown instance →
   * `instance_not_found`.
   */
  startAction(values: ActionStart): Promise<ActionStartResult>
  /** Sets finish_time and updated_at; `action_not_found` when there is no such action. */
  finishAction(values: ActionFinish): Promise<InstanceAction>
  /** The action of this instance with this request id, if any. */
  getAction(instanceUuid: string, requestId: string): Promise<InstanceAction | undefined>
  /** A page of the instance's actions, ordered created_at DESC, id DESC. */
  listActions(instanceUuid: string, query: ActionListQuery): Promise<InstanceAction[]>
  /** Adds an event to the action and bumps its updated_at; `action_not_found` without a parent. */
  startEvent(values: EventStart): Promise<ActionEvent>
  /**
   * Finishes the oldest unfinished event with this name (a repeat on a finished event is a no-op
   * returning it); sets the action's message to "Error" on failure and bumps its updated_at.
   * `action_not_found` / `event_not_found` when missing.
   */
  finishEvent(values: EventFinish): Promise<ActionEvent>
  /** The action's events, ordered created_at DESC, id DESC. */
  listEvents(actionId: number): Promise<ActionEvent[]>
  /** Releases connections. */
  close(): Promise<void>
}
