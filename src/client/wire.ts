/**
 * The JSON shapes of ActionTrail's write API (`/v1`) and their mapping to the domain's camelCase
 * records. The client sends and reads snake_case, as the server speaks it; callers only ever see
 * the domain types of src/domain/instance-action.ts.
 */
import type { ActionView, EventView, InstanceView } from '../api/v1/views.js'
import { AppError } from '../domain/errors.js'
import type { ActionEvent, EventResult, Instance, InstanceAction } from '../domain/instance-action.js'
import { parseTimestamp, type Timestamp } from '../domain/timestamp.js'

// The record shapes are the server's own views: one definition for both ends of the wire.
/** `{"instance": …}` of `PUT`/`DELETE /v1/instances/{uuid}`. */
export type WireInstance = InstanceView
/** `{"action": …}` of the action endpoints. */
export type WireAction = ActionView
/** `{"event": …}` of the event endpoints. */
export type WireEvent = EventView

/** One operation of `POST /v1/batch`: the body of the matching single endpoint plus `op` and the ids of its path. */
export type WireOp =
  | { op: 'instance_put'; instance_uuid: string; name: string; project_id: string; user_id: string }
  | { op: 'instance_delete'; instance_uuid: string }
  | {
      op: 'action_start'
      instance_uuid: string
      action: string
      request_id: string
      user_id: string | null
      project_id: string | null
      start_time?: string
    }
  | { op: 'action_finish'; instance_uuid: string; request_id: string; finish_time?: string }
  | { op: 'event_start'; instance_uuid: string; request_id: string; event: string; host?: string | null; start_time?: string }
  | {
      op: 'event_finish'
      instance_uuid: string
      request_id: string
      event: string
      result: EventResult
      finish_time?: string
      details?: string | null
      traceback?: string | null
    }

/** The `error` member of every `/v1` error body and of failed batch results. */
export interface WireError {
  status: number
  /** One of the server's error codes (src/domain/errors.ts), e.g. `event_not_found`. */
  code: string
  message: string
}

/** The outcome of one batch operation, in the order the operations were sent. No record body. */
export interface BatchResult {
  /** 201 created, 200 existing/updated, or the 4xx of the operation's failure. */
  status: number
  error?: WireError
}

function malformed(what: string): AppError {
  return new AppError('internal', `malformed ActionTrail response: ${what}`)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// Responses are checked field by field: a server of another version must fail loudly here rather
// than hand `undefined` to code typed as string.
function str(o: Record<string, unknown>, key: string): string {
  const v = o[key]
  if (typeof v !== 'string') throw malformed(`${key} is not a string`)
  return v
}

function strOrNull(o: Record<string, unknown>, key: string): string | null {
  const v = o[key]
  if (v === null || v === undefined) return null
  if (typeof v !== 'string') throw malformed(`${key} is not a string`)
  return v
}

function time(o: Record<string, unknown>, key: string): Timestamp {
  const ts = parseTimestamp(str(o, key))
  if (!ts) throw malformed(`${key} is not an ISO 8601 time`)
  return ts
}

function timeOrNull(o: Record<string, unknown>, key: string): Timestamp | null {
  return strOrNull(o, key) === null ? null : time(o, key)
}

// The write API does not promise database ids; 0 marks "not known to the client".
function idOrZero(o: Record<string, unknown>, key: string): number {
  const v = o[key]
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : 0
}

function member(body: unknown, key: string): Record<string, unknown> {
  if (!isRecord(body) || !isRecord(body[key])) throw malformed(`no "${key}" object`)
  return body[key]
}

/** The Instance of a `{"instance": …}` body. */
export function instanceFromBody(body: unknown): Instance {
  const o = member(body, 'instance')
  return {
    uuid: str(o, 'uuid'),
    name: str(o, 'name'),
    projectId: str(o, 'project_id'),
    userId: str(o, 'user_id'),
    createdAt: time(o, 'created_at'),
    updatedAt: time(o, 'updated_at'),
    deletedAt: timeOrNull(o, 'deleted_at'),
  }
}

/** The InstanceAction of an `{"action": …}` body; `id` is 0 when the server does not send it. */
export function actionFromBody(body: unknown): InstanceAction {
  const o = member(body, 'action')
  return {
    id: idOrZero(o, 'id'),
    instanceUuid: str(o, 'instance_uuid'),
    action: str(o, 'action'),
    requestId: str(o, 'request_id'),
    userId: strOrNull(o, 'user_id'),
    projectId: strOrNull(o, 'project_id'),
    startTime: time(o, 'start_time'),
    finishTime: timeOrNull(o, 'finish_time'),
    message: strOrNull(o, 'message'),
    createdAt: time(o, 'created_at'),
    updatedAt: timeOrNull(o, 'updated_at'),
  }
}

/** The ActionEvent of an `{"event": …}` body; `id`/`actionId` are 0 when the server does not send them. */
export function eventFromBody(body: unknown): ActionEvent {
  const o = member(body, 'event')
  const result = strOrNull(o, 'result')
  if (result !== null && result !== 'Success' && result !== 'Error') throw malformed('result is not Success or Error')
  return {
    id: idOrZero(o, 'id'),
    actionId: idOrZero(o, 'action_id'),
    event: str(o, 'event'),
    startTime: time(o, 'start_time'),
    finishTime: timeOrNull(o, 'finish_time'),
    result,
    traceback: strOrNull(o, 'traceback'),
    host: strOrNull(o, 'host'),
    details: strOrNull(o, 'details'),
    createdAt: time(o, 'created_at'),
    updatedAt: timeOrNull(o, 'updated_at'),
  }
}

/** The `results` of a `/v1/batch` answer, checked to hold one result per operation sent. */
export function batchResultsFromBody(body: unknown, expected: number): BatchResult[] {
  if (!isRecord(body) || !Array.isArray(body.results)) throw malformed('no "results" array')
  if (body.results.length !== expected) {
    throw malformed(`${body.results.length} results for ${expected} operations`)
  }
  return body.results.map((r: unknown, i): BatchResult => {
    if (!isRecord(r) || typeof r.status !== 'number') throw malformed(`result ${i} has no status`)
    const error = wireErrorOf(r.error)
    return error ? { status: r.status, error } : { status: r.status }
  })
}

/** A `{status, code, message}` error object, or undefined when `value` is not one. */
export function wireErrorOf(value: unknown): WireError | undefined {
  if (!isRecord(value) || typeof value.code !== 'string') return undefined
  return {
    status: typeof value.status === 'number' ? value.status : 0,
    code: value.code,
    message: typeof value.message === 'string' ? value.message : '',
  }
}
