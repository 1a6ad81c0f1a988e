/**
 * The write side of ActionTrail as seen by a recording service. The local ActionService implements
 * it over a store; the HTTP client (ActionTrailClient, BufferedActionWriter) implements it against
 * a remote server. The recorder works with any of them.
 */
import type { EventResult } from './instance-action.js'

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
  /** Writer tag of the writing principal (set by the write API, never by a body). */
  writer?: string
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
  /** Writer tag of the writing principal (set by the write API, never by a body). */
  writer?: string
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
  /** Writer tag of the writing principal (set by the write API, never by a body). */
  writer?: string
}

/**
 * Records instances, actions and events.
 *
 * A write resolves (with nothing) once it is durable: committed to the store, or acknowledged by
 * a server that answers only after committing. It rejects with an AppError otherwise (e.g.
 * `action_not_found`, `conflict`, `store_unavailable`). Writes resolve with no record because
 * not every writer has one: a batched write is acknowledged with a status, not the stored row,
 * so a record would have to be made up. To see what was stored, read it back (the service's
 * `getAction`, the client's `getAction`).
 */
export interface ActionWriter {
  /** Registers an instance, or updates its name and owner. */
  putInstance(input: InstanceInput): Promise<void>
  /** Marks an instance deleted; its actions stay readable. */
  deleteInstance(uuid: string): Promise<void>
  /** Starts an action; a repeat with the same action name is the same write, another name is `conflict`. */
  actionStart(input: ActionStartInput): Promise<void>
  /** Finishes an action; `action_not_found` when there is none. */
  actionFinish(input: ActionFinishInput): Promise<void>
  /** Starts an event of an action; `action_not_found` when the action does not exist. */
  eventStart(input: EventStartInput): Promise<void>
  /** Finishes the oldest unfinished event of that name; `event_not_found` when none was started. */
  eventFinish(input: EventFinishInput): Promise<void>
  /**
   * Releases what the writer holds, after the writes already accepted are settled; a writer may
   * refuse writes afterwards. It does not close what was injected into it (a store, a client).
   */
  close(): Promise<void>
}
