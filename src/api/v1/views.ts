/**
 * The write API's record views: instances, actions and events in snake_case, every field shown
 * (writers are services or admins), times in the domain's canonical form. Each view's JSON schema
 * sits next to it for the OpenAPI document.
 */
import { AppError } from '../../domain/errors.js'
import { Type, type Static, type TSchema } from 'typebox'
import type { ActionEvent, Instance, InstanceAction } from '../../domain/instance-action.js'
import type { WriteRecord } from '../../domain/write-operation.js'
import type { Checkpoint } from '../../store/chain/checkpoints.js'

const closed = { additionalProperties: false } as const
const TIME_FORMAT = 'UTC, `YYYY-MM-DDTHH:MM:SS.ffffff`.'
const TIME = Type.String({ description: TIME_FORMAT })
const NULLABLE_TIME = Type.Union([TIME, Type.Null()], { description: TIME_FORMAT })
const NULLABLE_STRING = Type.Union([Type.String(), Type.Null()])

/** An instance as the write API shows it. */
export const InstanceViewSchema = Type.Object(
  {
    uuid: Type.String(),
    name: Type.String(),
    project_id: Type.String(),
    user_id: Type.String(),
    created_at: TIME,
    updated_at: TIME,
    deleted_at: NULLABLE_TIME,
  },
  { ...closed, title: 'Instance' },
)

/** An action as the write API shows it. */
export const ActionViewSchema = Type.Object(
  {
    instance_uuid: Type.String(),
    action: Type.String(),
    request_id: Type.String(),
    user_id: NULLABLE_STRING,
    project_id: NULLABLE_STRING,
    start_time: TIME,
    finish_time: NULLABLE_TIME,
    message: Type.Union([Type.String(), Type.Null()], {
      description: '`Error` once an event of the action failed.',
    }),
    created_at: TIME,
    updated_at: NULLABLE_TIME,
  },
  { ...closed, title: 'Action' },
)

/** An event as the write API shows it (traceback and host included). */
export const EventViewSchema = Type.Object(
  {
    event: Type.String(),
    start_time: TIME,
    finish_time: NULLABLE_TIME,
    result: Type.Union([Type.Literal('Success'), Type.Literal('Error'), Type.Null()]),
    traceback: NULLABLE_STRING,
    host: NULLABLE_STRING,
    details: NULLABLE_STRING,
    created_at: TIME,
    updated_at: NULLABLE_TIME,
  },
  { ...closed, title: 'Event' },
)

/** An instance as the write API shows it. */
export type InstanceView = Static<typeof InstanceViewSchema>
/** An action as the write API shows it. */
export type ActionView = Static<typeof ActionViewSchema>
/** An event as the write API shows it. */
export type EventView = Static<typeof EventViewSchema>

function wrapped<K extends string, T extends TSchema>(key: K, schema: T) {
  return Type.Object({ [key]: schema } as { [P in K]: T }, closed)
}

/** `{"instance": …}`. */
export const InstanceResponse = wrapped('instance', InstanceViewSchema)
/** `{"action": …}`. */
export const ActionResponse = wrapped('action', ActionViewSchema)
/** `{"event": …}`. */
export const EventResponse = wrapped('event', EventViewSchema)

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
export function recordBody(
  r: WriteRecord,
): { instance: InstanceView } | { action: ActionView } | { event: EventView } {
  switch (r.kind) {
    case 'instance':
      return { instance: instanceView(r.instance) }
    case 'action':
      return { action: actionView(r.action) }
    case 'event':
      return { event: eventView(r.event) }
    case 'receipt':
      // Receipts come from the Nova follower's own writes, never from the write API.
      throw new AppError('internal', 'a message receipt has no response body')
    case 'fault':
      // Request faults, too, are the Nova follower's own (compute.exception).
      throw new AppError('internal', 'a request fault has no response body')
    case 'import':
      // Bulk imports are the importer's (cli import), never a write of this API.
      throw new AppError('internal', 'a bulk import has no record view')
    case 'retention':
      // Archive and purge batches are the retention job's (store/retention-store.ts).
      throw new AppError('internal', 'a retention batch has no record view')
  }
}

/** A signed checkpoint of the hash chain (`GET /v1/checkpoints`, an export's proof). */
export const CheckpointViewSchema = Type.Object(
  {
    id: Type.Integer(),
    position: Type.Integer({ description: 'The chain position the checkpoint pins.' }),
    link: Type.String({ description: 'The chain link at that position (hex SHA-256).' }),
    created_at: Type.String({ description: 'When it was signed (canonical time, UTC).' }),
    reason: Type.String({ description: 'periodic, manual, archive, purge or export.' }),
    summary: Type.String({ description: 'JSON text: counts, or what an archive/purge removed.' }),
    key_id: Type.String({ description: 'Hex SHA-256 of the signing public key (DER).' }),
    signature: Type.String({
      description: 'Ed25519 signature (base64) of the canonical statement.',
    }),
  },
  { additionalProperties: false },
)

/** The view of a checkpoint. */
export type CheckpointView = Static<typeof CheckpointViewSchema>

/** A stored checkpoint as the API and exports show it. */
export function checkpointView(c: Checkpoint): CheckpointView {
  return {
    id: c.id,
    position: c.position,
    link: c.link,
    created_at: c.createdAt,
    reason: c.reason,
    summary: c.summary,
    key_id: c.keyId,
    signature: c.signature,
  }
}
