/**
 * The change feed's read contract (the stream, `GET /v1/stream`): every committed change to an
 * action or event, at a durable position that is strictly increasing and shared by every node on
 * the database (how positions are handed out: write/change-feed.ts). A reader that has seen every
 * change up to position p and asks for the changes after p never misses one and never gets one
 * twice, whatever the order in which concurrent writers committed.
 */
import type { ActionEvent, InstanceAction } from '../domain/instance-action.js'
import type { Timestamp } from '../domain/timestamp.js'

/**
 * One change: which record changed (its current state is read separately), and where. `archive`
 * and `purge` say that an action moved to the shadow tables or was deleted from them, with its
 * events (retention, issue 13): they name no record to show, and the stream skips them.
 */
export interface Change {
  position: number
  kind: 'action' | 'event' | 'archive' | 'purge'
  /** The action changed, or the event's action. */
  actionId: number
  /** The event changed; null for an action change. */
  eventId: number | null
  instanceUuid: string
  /** The project that owned the instance when the change was committed. */
  ownerProject: string
  /** When the change happened. */
  at: Timestamp
}

/** Reading the change feed. */
export interface ChangeFeed {
  /** The position of the last committed change (0 when none yet). */
  head(): Promise<number>
  /** Up to `limit` changes after position `after`, in position order. */
  readChanges(after: number, limit: number): Promise<Change[]>
  /** The current rows of these actions (any order; missing ids are left out). */
  actionsByIds(ids: readonly number[]): Promise<InstanceAction[]>
  /** The current rows of these events (any order; missing ids are left out). */
  eventsByIds(ids: readonly number[]): Promise<ActionEvent[]>
  /**
   * Calls `listener` after each commit of a write made through this process's store, so that a
   * reader in the process can look at once instead of at its next poll. Returns an unsubscriber.
   */
  onCommit(listener: () => void): () => void
}
