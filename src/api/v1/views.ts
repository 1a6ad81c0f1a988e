/**
 * The write API's record views: instances, actions and events in snake_case, every field shown
 * (writers are services or admins), times in the domain's canonical form. Each view's JSON schema
 * sits next to it for the OpenAPI document.
 */
import type { ActionEvent, Instance, InstanceAction } from '../../domain/instance-action.js'
import type { WriteRecord } from '../../domain/write-operation.js'
import type { JsonSchema } from './schemas.js'

/** An instance as the write API shows it. */
export interface InstanceView {
  uuid: string
  name: string
  project_id: string
  user_id: string
  created_at: string
  updated_at: string
  deleted_at: string | null
}

/** An action as the write API shows it. */
export interface ActionView {
  instance_uuid: string
  action: string
  request_id: string
  user_id: string | null
  project_id: string | null
  start_time: string
  finish_time: string | null
  message: string | null
  created_at: string
  updated_at: string | null
}

/** An event as the write API shows it (traceback and host included). */
export interface EventView {
  event: string
  start_time: string
  finish_time: string | null
  result: string | null
  traceback: string | null
  host: string | null
  details: string | null
  created_at: string
  updated_at: string | null
}

/** The view of an instance. */
export function instanceView(i: Instance): InstanceView {
  return {
    uuid: i.uuid,
    name: i.name,
    project_id: i.projectId,
    user_id: i.userId,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
    deleted_at: i.deletedAt,
  }
}

/** The view of an action. */
export function actionView(a: InstanceAction): ActionView {
  return {
    instance_uuid: a.instanceUuid,
    action: a.action,
    request_id: a.requestId,
    user_id: a.userId,
    project_id: a.projectId,
    start_time: a.startTime,
    finish_time: a.finishTime,
    message: a.message,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  }
}

/** The view of an event. */
export function eventView(e: ActionEvent): EventView {
  return {
    event: e.event,
    start_time: e.startTime,
    finish_time: e.finishTime,
    result: e.result,
    traceback: e.traceback,
    host: e.host,
    details: e.details,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
  }
}

/** The response body for the record a write left: `{"instance"|"action"|"event": view}`. */
export function recordBody(r: WriteRecord): { instance: InstanceView } | { action: ActionView } | { event: EventView } {
  switch (r.kind) {
    case 'instance':
      return { instance: instanceView(r.instance) }
    case 'action':
      return { action: actionView(r.action) }
    case 'event':
      return { event: eventView(r.event) }
  }
}

const TIME: JsonSchema = { type: 'string', description: 'UTC, `YYYY-MM-DDTHH:MM:SS.ffffff`.' }
const NULLABLE_TIME: JsonSchema = { type: ['string', 'null'], description: TIME.description }
const STRING: JsonSchema = { type: 'string' }
const NULLABLE_STRING: JsonSchema = { type: ['string', 'null'] }

function objectSchema(properties: Record<string, JsonSchema>): JsonSchema {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false }
}

/** JSON schema of InstanceView. */
export const INSTANCE_VIEW_SCHEMA = objectSchema({
  uuid: STRING,
  name: STRING,
  project_id: STRING,
  user_id: STRING,
  created_at: TIME,
  updated_at: TIME,
  deleted_at: NULLABLE_TIME,
})

/** JSON schema of ActionView. */
export const ACTION_VIEW_SCHEMA = objectSchema({
  instance_uuid: STRING,
  action: STRING,
  request_id: STRING,
  user_id: NULLABLE_STRING,
  project_id: NULLABLE_STRING,
  start_time: TIME,
  finish_time: NULLABLE_TIME,
  message: { type: ['string', 'null'], description: '`Error` once an event of the action failed.' },
  created_at: TIME,
  updated_at: NULLABLE_TIME,
})

/** JSON schema of EventView. */
export const EVENT_VIEW_SCHEMA = objectSchema({
  event: STRING,
  start_time: TIME,
  finish_time: NULLABLE_TIME,
  result: { type: ['string', 'null'], enum: ['Success', 'Error', null] },
  traceback: NULLABLE_STRING,
  host: NULLABLE_STRING,
  details: NULLABLE_STRING,
  created_at: TIME,
  updated_at: NULLABLE_TIME,
})
