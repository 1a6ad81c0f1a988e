/**
 * The write side of ActionTrail as seen by a recording service. The local ActionService implements
 * it over a store; the HTTP client implements it against a remote server. The recorder works with
 * either.
 */
import type { ActionEvent, EventResult, Instance, InstanceAction } from './instance-action.js'

/** Registering (or updating) an instance. */
export interface InstanceInput {
  uuid: string
  name: string
  projectId: string
  userId: string
}

/** Starting an action. Times default to the writer's clock. */
export interface ActionStartInput {
  instanceUuid: string
  action: string
  requestId: string
  userId: string | null
  projectId: string | null
  /** The API request's timestamp (ISO 8601); now when absent. */
  startTime?: string
}

/** Finishing an action. */
export interface ActionFinishInput {
  instanceUuid: string
  requestId: string
  finishTime?: string
}

/** Starting an event of an action. */
export interface EventStartInput {
  instanceUuid: string
  requestId: string
  event: string
  host?: string | null
  startTime?: string
}

/** Finishing an event. `traceback` is sanitized by the writer before it is stored. */
export interface EventFinishInput {
  instanceUuid: string
  requestId: string
  event: string
  result: EventResult
  finishTime?: string
  /** Public fault message (≤ 255 UTF-8 bytes after truncation); only with result Error. */
  details?: string | null
  /** Stack frames of the failure; only with result Error. */
  traceback?: string | null
}

/** Records instances, actions and events. Every method resolves once the write is durable. */
export interface ActionWriter {
  putInstance(input: InstanceInput): Promise<Instance>
  deleteInstance(uuid: string): Promise<Instance>
  actionStart(input: ActionStartInput): Promise<InstanceAction>
  actionFinish(input: ActionFinishInput): Promise<InstanceAction>
  eventStart(input: EventStartInput): Promise<ActionEvent>
  eventFinish(input: EventFinishInput): Promise<ActionEvent>
}
