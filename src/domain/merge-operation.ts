/**
 * The operations of derived writers (the Nova follower), which learn about actions piece by piece,
 * out of order and maybe twice: merges (store/action-store.ts ActionMerge, EventMerge) and message
 * receipts. They are not write API operations: no principal can send them, only code running in
 * ActionTrail (ActionService.applyDerived).
 */
import type { InstanceInput } from './action-writer.js'
import type { EventResult } from './instance-action.js'
import type { WriteOperation } from './write-operation.js'

/** What is known of an action (see the store's ActionMerge). */
export interface ActionMergeInput {
  instanceUuid: string
  action: string
  requestId: string
  userId: string | null
  projectId: string | null
  startTime: string
  finishTime?: string | null
  /** Action names this one corrects when the existing action carries one of them. */
  replaces?: readonly string[]
  /** When the source created the action (Nova's created_at); created_at keeps the earliest. */
  sourceCreatedAt?: string | null
  writer?: string
}

/** What is known of an event of (action, event name, host) (see the store's EventMerge). */
export interface EventMergeInput {
  instanceUuid: string
  requestId: string
  event: string
  host: string | null
  startTime?: string | null
  finishTime?: string | null
  /** With `finishTime`; `Error` also without it (a failure seen before its end). */
  result?: EventResult | null
  /** Raw failure texts; sanitized (and details capped) before they are stored. */
  details?: string | null
  traceback?: string | null
  /** When the source created the event; created_at keeps the earliest. */
  sourceCreatedAt?: string | null
  writer?: string
}

/**
 * A failure known only by its request and the host that raised it (a Nova `compute.exception`):
 * it fails the `compute_*` events of that request on that host (see the store's RequestFault).
 */
export interface RequestFaultInput {
  requestId: string
  host: string
  failedAt: string
  /** Raw failure texts; sanitized (and details capped) before they are stored. */
  details?: string | null
  traceback?: string | null
  writer?: string
}

/** A write of a derived writer. */
export type DerivedOperation =
  | WriteOperation
  /** Registers an instance, or updates its owner, keeping a name already recorded. */
  | { op: 'instance_ensure'; input: InstanceInput }
  | { op: 'action_merge'; input: ActionMergeInput }
  | { op: 'event_merge'; input: EventMergeInput }
  /** Records a message id as applied (`created: false` when it already was). */
  | { op: 'message_receipt'; input: { messageId: string } }
  /** Fails the `compute_*` events of a request on a host, now and when they arrive. */
  | { op: 'request_fault'; input: RequestFaultInput }
