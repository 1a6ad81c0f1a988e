/** Row ↔ record mapping shared by every backend's reads and writes. */
import type { Selectable } from 'kysely'
import type { ActionEvent, EventResult, Instance, InstanceAction } from '../domain/instance-action.js'
import type { Timestamp } from '../domain/timestamp.js'
import type { ActionsTable, EventsTable, InstancesTable } from './schema.js'

/** An `instances` row as a record. */
export function toInstance(row: Selectable<InstancesTable>): Instance {
  return {
    uuid: row.uuid,
    name: row.name,
    projectId: row.project_id,
    userId: row.user_id,
    createdAt: row.created_at as Timestamp,
    updatedAt: row.updated_at as Timestamp,
    deletedAt: row.deleted_at as Timestamp | null,
  }
}

/** An `instance_actions` row as a record. */
export function toAction(row: Selectable<ActionsTable>): InstanceAction {
  return {
    id: Number(row.id),
    instanceUuid: row.instance_uuid,
    action: row.action,
    requestId: row.request_id,
    userId: row.user_id,
    projectId: row.project_id,
    startTime: row.start_time as Timestamp,
    finishTime: row.finish_time as Timestamp | null,
    message: row.message,
    createdAt: row.created_at as Timestamp,
    updatedAt: row.updated_at as Timestamp | null,
  }
}

/** An `instance_actions_events` row as a record. */
export function toEvent(row: Selectable<EventsTable>): ActionEvent {
  return {
    id: Number(row.id),
    actionId: Number(row.action_id),
    event: row.event,
    startTime: row.start_time as Timestamp,
    finishTime: row.finish_time as Timestamp | null,
    result: row.result as EventResult | null,
    traceback: row.traceback,
    host: row.host,
    details: row.details,
    createdAt: row.created_at as Timestamp,
    updatedAt: row.updated_at as Timestamp | null,
  }
}
