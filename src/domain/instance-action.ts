/**
 * The records ActionTrail keeps: instances, their actions and each action's events. Field names
 * follow Nova's objects (nova/objects/instance_action.py) so that the API views are a plain mapping.
 */
import type { Timestamp } from './timestamp.js'

/** A compute instance known to ActionTrail; its actions stay readable after it is deleted. */
export interface Instance {
  uuid: string
  name: string
  projectId: string
  userId: string
  createdAt: Timestamp
  updatedAt: Timestamp
  deletedAt: Timestamp | null
}

/** One operation on an instance (create, reboot, resize, …), keyed by its API request id. */
export interface InstanceAction {
  id: number
  instanceUuid: string
  action: string
  requestId: string
  userId: string | null
  projectId: string | null
  startTime: Timestamp
  finishTime: Timestamp | null
  /** `null`, or `"Error"` once any event of the action has finished with result Error. */
  message: string | null
  createdAt: Timestamp
  updatedAt: Timestamp | null
  /** Writer tag of who started it (`w:` + 16 hex); null for rows older than writer tags. */
  writtenBy?: string | null
}

/** The outcome of a finished event. */
export type EventResult = 'Success' | 'Error'

/** One step of an action performed by a service (e.g. `compute_reboot_instance`). */
export interface ActionEvent {
  id: number
  actionId: number
  event: string
  startTime: Timestamp
  finishTime: Timestamp | null
  result: EventResult | null
  /** Sanitized stack frames; only admins ever see it. */
  traceback: string | null
  /** The service host that recorded the event; may be null. */
  host: string | null
  /** Short public fault message, at most 255 UTF-8 bytes. */
  details: string | null
  createdAt: Timestamp
  updatedAt: Timestamp | null
  /** Writer tag of who started it; null for rows older than writer tags. */
  writtenBy?: string | null
  /** Writer tag of who finished it; null while unfinished or for older rows. */
  finishedBy?: string | null
}

/** The message Nova stores on an action once one of its events failed. */
export const ACTION_ERROR_MESSAGE = 'Error'
