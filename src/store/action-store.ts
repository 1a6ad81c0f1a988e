/**
 * The storage contract of the audit trail. Every backend (SQLite, PostgreSQL, MariaDB/MySQL)
 * implements it with the same observable behaviour; one contract test suite holds them to it.
 * Stores persist what they are given: validation, sanitizing and the choice of timestamps happen
 * before (src/domain). Writes go through one entry point, `write`, as values; a promise resolves
 * only after the write is durable. Remembered HTTP answers are not audit data and have their own
 * contract (idempotency-store.ts).
 */
import type {
  ActionEvent,
  EventResult,
  Instance,
  InstanceAction,
} from '../domain/instance-action.js'
import type { StuckDeadlines } from '../domain/stuck-work.js'
import type { Timestamp } from '../domain/timestamp.js'
import type { WriteOutcome } from '../domain/write-operation.js'
import type { ArchiveBatch, NovaPrune, PurgeBatch } from './write/retention-programs.js'

/** Values for registering or updating an instance. */
export interface InstancePut {
  uuid: string
  name: string
  projectId: string
  userId: string
  now: Timestamp
  /**
   * Keep an existing instance's name (only insert with `name`): a writer that knows no display
   * name, such as the Nova follower, must not overwrite one another writer recorded.
   */
  keepName?: boolean
}

/** Filter for listing instances. */
export interface InstanceFilter {
  /** Only instances of this project; all projects when absent. */
  projectId?: string
  /** Only instances whose name contains this text (plain text, not a pattern). */
  nameContains?: string
  includeDeleted: boolean
  /** Only deleted instances (with `includeDeleted: true`). */
  onlyDeleted?: boolean
  /** Only instances after this one in the (name, uuid) order: the last of the previous page. */
  after?: { name: string; uuid: string }
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
  /** Writer tag of the principal starting it (security/writer-tag.ts); none for local writers. */
  writer?: string
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
  /** Writer tag of the principal starting it; none for local writers. */
  writer?: string
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
  /** Writer tag of the principal finishing it; none for local writers. */
  writer?: string
}

/**
 * Values for merging what is known of an action into its record (derived writers, such as the
 * Nova follower, that learn about an action piece by piece and out of order): creates it when
 * absent; otherwise the start time becomes the earlier one, the finish time the later one, a
 * missing initiator is filled in, and the name is replaced only when the current name is one of
 * `replaces` (a guess this name corrects). Merging the same values again changes nothing.
 */
export interface ActionMerge {
  instanceUuid: string
  action: string
  requestId: string
  userId: string | null
  projectId: string | null
  startTime: Timestamp
  finishTime: Timestamp | null
  /** Names this one corrects when an existing action has one of them (e.g. `migrate` → `resize`). */
  replaces: readonly string[]
  createdAt: Timestamp
  /**
   * When the source itself created the record (a Nova created_at): a new record takes it as its
   * created_at, an existing one keeps the earlier of the two. Listings are ordered by created_at,
   * so the order must not depend on which source recorded the action first.
   */
  sourceCreatedAt?: Timestamp
  writer?: string
}

/**
 * Values for merging what is known of an event, identified by (action, event name, host), into its
 * record: created when absent (an end alone starts at its finish time); otherwise the start time
 * becomes the earlier one, the finish time the later one, and a failure is never forgotten (result
 * Error wins, and keeps the first failure texts). Merging the same values again changes nothing.
 */
export interface EventMerge {
  instanceUuid: string
  requestId: string
  event: string
  host: string | null
  /** When it started, if this write knows (a `.start`). */
  startTime: Timestamp | null
  /** When it finished, if this write knows (an `.end` or `.error`), with the result. */
  finishTime: Timestamp | null
  result: EventResult | null
  traceback: string | null
  details: string | null
  createdAt: Timestamp
  /** As ActionMerge's: the source's creation time, of which created_at keeps the earliest. */
  sourceCreatedAt?: Timestamp
  writer?: string
}

/** A message id to remember as applied (Nova notifications, migration 0010). */
export interface MessageReceipt {
  messageId: string
  seenAt: Timestamp
}

/**
 * A failure known only by its request and host (a Nova `compute.exception`, migration 0011): it
 * fails, as an event merge with result Error finishing at `failedAt` would, every `compute_*`
 * event of that request on that host that had started by `failedAt`, those recorded already and
 * those still to come (their merges read it). Merging the same values again changes nothing.
 */
export interface RequestFault {
  requestId: string
  host: string
  failedAt: Timestamp
  /** Sanitized, at most 255 UTF-8 bytes. */
  details: string | null
  /** Sanitized. */
  traceback: string | null
  createdAt: Timestamp
  writer?: string
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

/** What `result` asks of an action: finished without a failed event, failed, or unfinished. */
export type ActionResultFilter = 'success' | 'error' | 'running'

/**
 * Keyset position in a cross-instance listing: the last row of the previous page. `startTime` is
 * that row's time in the listing's order: its start_time, or with `timeField: 'updated_at'` its
 * updated_at (for events: updated_at, or start_time while unfinished).
 */
export interface ActionPosition {
  startTime: Timestamp
  id: number
}

/**
 * Which time orders a cross-instance listing and bounds its since/until window: `start_time`
 * (default) or `updated_at`. Every action has an updated_at (action_start sets it to start_time;
 * migration 0005 filled the rows that lacked one); an event's is NULL until it finishes, and an
 * unfinished event is ordered and windowed by its start_time instead.
 */
export type QueryTimeField = 'start_time' | 'updated_at'

/**
 * A query over the actions of every instance, newest first by (start_time, id). Every filter is
 * optional and they combine with AND; access restrictions are filters too (`ownerProjectId`), so
 * that pages stay full.
 */
export interface ActionSearch {
  instanceUuid?: string
  /** The action's initiator project. */
  projectId?: string
  /** The project owning the action's instance. */
  ownerProjectId?: string
  userId?: string
  /** Any of these action names (non-empty when given). */
  actions?: readonly string[]
  requestId?: string
  result?: ActionResultFilter
  /** Some event of the action ran on this host. */
  host?: string
  /** The time field at or after `since`. */
  since?: Timestamp
  /** The time field at or before `until`. */
  until?: Timestamp
  /** The ordering and window time; `start_time` when absent. */
  timeField?: QueryTimeField
  /**
   * Only stuck work: unfinished (no finish_time) and started strictly before the deadline of its
   * action name (computed by the caller from its clock: domain/stuck-work.ts).
   */
  stuck?: StuckDeadlines
  /**
   * Read the archived history (the shadow tables, issue 13) instead of the live one. The query
   * API offers it to admins with the filters the shadow tables' indexes serve
   * (migrations/0012-retention.ts); the store runs any filter.
   */
  archived?: boolean
  /** Only actions after this position in the order (older). */
  after?: ActionPosition
  /** Page size, at least 1. */
  limit: number
}

/**
 * A query over the events of every instance, newest first by (start_time, id) or by
 * (updated_at, id) with `timeField`. The action-level filters (`actions`, `requestId`,
 * `projectId`, `userId`) and the stuck deadline apply to the event's parent action; `result` and
 * `host` to the event itself (`error`: result "Error"; `running`: no finish time; `success`:
 * finished with another result).
 */
export interface EventSearch extends Omit<ActionSearch, 'result' | 'host'> {
  /** Any of these event names (non-empty when given). */
  events?: readonly string[]
  result?: ActionResultFilter
  /** The event ran on this host. */
  host?: string
}

/** An event found by `searchEvents`, with what identifies its parent action. */
export interface FoundEvent {
  event: ActionEvent
  instanceUuid: string
  requestId: string
  /** The parent action's name. */
  action: string
}

/**
 * An instance as another system (a Nova cell database) recorded it, for a bulk import (issue 12).
 * An instance already known keeps its name and projects; a deletion is taken over.
 */
export interface ImportedInstance {
  uuid: string
  name: string
  projectId: string
  userId: string
  createdAt: Timestamp
  updatedAt: Timestamp
  deletedAt: Timestamp | null
}

/**
 * A complete event of an {@link ImportedAction}, already sanitized. Its writer tags, when given
 * (an ActionTrail export), are kept; absent, the import's writer tag is used.
 */
export type ImportedEvent = Omit<ActionEvent, 'id' | 'actionId'>

/**
 * An action with all its events as another system recorded them, for a bulk import. Its
 * `writtenBy`, when given (an ActionTrail export), is kept; absent, the import's writer tag is used.
 */
export interface ImportedAction extends Omit<InstanceAction, 'id'> {
  events: readonly ImportedEvent[]
  /**
   * Names this one corrects when the action exists already (ActionMerge `replaces`): a name the
   * source recorded itself replaces a name the follower guessed from notifications.
   */
  replaces?: readonly string[]
}

/** One validated, time-stamped write for the store. */
export type StoreWrite =
  | { op: 'instance_put'; values: InstancePut }
  | { op: 'instance_delete'; uuid: string; at: Timestamp }
  | { op: 'action_start'; values: ActionStart }
  | { op: 'action_finish'; values: ActionFinish }
  | { op: 'event_start'; values: EventStart }
  | { op: 'event_finish'; values: EventFinish }
  | { op: 'action_merge'; values: ActionMerge }
  | { op: 'event_merge'; values: EventMerge }
  | { op: 'message_receipt'; values: MessageReceipt }
  | { op: 'request_fault'; values: RequestFault }
  /** Bulk import: instances not yet known are created, deletions taken over (import-program.ts). */
  | { op: 'import_instances'; instances: readonly ImportedInstance[] }
  /**
   * Bulk import of complete actions with their events in multi-row statements: an action whose
   * (instance, request id) already exists is merged into (ActionMerge, EventMerge: an import run
   * twice changes nothing), one whose instance is unknown is skipped; each new action and event
   * gets its change row.
   */
  | { op: 'import_actions'; actions: readonly ImportedAction[]; writer?: string }
  /** Retention (issue 13, write/retention-programs.ts): one bounded archive batch. */
  | { op: 'archive_batch'; values: ArchiveBatch }
  /** Retention: one bounded purge batch of archived rows. */
  | { op: 'purge_batch'; values: PurgeBatch }
  /** Retention: old Nova follower bookkeeping (nova_messages, nova_request_faults) deleted. */
  | { op: 'nova_prune'; values: NovaPrune }

/** Persistent storage of instances, actions and events. */
export interface ActionStore {
  /**
   * Applies writes in order in one transaction. Each write is atomic on its own: a failing one
   * (a typed AppError: unknown instance, action or event, a request id already used for another
   * action) is rolled back alone and reported in its outcome; the others still apply. Any other
   * failure rolls the whole call back and rejects. Concurrent calls are coalesced into shared
   * commits (group commit); the promise resolves after the commit is durable.
   *
   * The rules of each write (Nova's DB layer with ActionTrail's differences, docs/compatibility.md):
   * `action_start` is unique per (instance, request id), a repeat with the same action name
   * returns the existing row (`created: false`); finishing an event finishes the oldest unfinished
   * one of that name (a repeat on a finished event is a no-op returning it), and a failed event
   * sets the action's message to "Error"; event writes bump the action's updated_at.
   */
  write(ops: readonly StoreWrite[]): Promise<WriteOutcome[]>
  /** An instance by uuid, deleted ones included. */
  getInstance(uuid: string): Promise<Instance | undefined>
  /** Instances matching the filter, ordered by name then uuid. */
  listInstances(filter: InstanceFilter): Promise<Instance[]>
  /** The action of this instance with this request id, if any. */
  getAction(instanceUuid: string, requestId: string): Promise<InstanceAction | undefined>
  /** A page of the instance's actions, ordered created_at DESC, id DESC. */
  listActions(instanceUuid: string, query: ActionListQuery): Promise<InstanceAction[]>
  /**
   * Actions of every instance matching the search, ordered start_time DESC, id DESC. `result`:
   * `error` is an action whose message is "Error" (an event failed), `running` one without a
   * finish time, `success` one with a finish time and no failed event.
   */
  searchActions(search: ActionSearch): Promise<InstanceAction[]>
  /**
   * Events of every instance matching the search (see EventSearch), ordered by the time field
   * DESC, id DESC. Served, like searchActions, from indexes: a page reads about a page of rows.
   */
  searchEvents(search: EventSearch): Promise<FoundEvent[]>
  /** The action's events, ordered created_at DESC, id DESC. */
  listEvents(actionId: number): Promise<ActionEvent[]>
  /**
   * The events of each of these actions, each list ordered as `listEvents` orders it; an action
   * without events (or unknown) has an empty list. One read for a page of actions, where a
   * listEvents per action costs a round trip each (include=events: 51 store calls a page).
   * `archived`: of archived actions (the shadow tables, issue 13).
   */
  listEventsOfActions(
    actionIds: readonly number[],
    options?: { archived?: boolean },
  ): Promise<Map<number, ActionEvent[]>>
  /**
   * The export lines of these actions (by stored id, in that order) as JSON text the database
   * builds itself, each record exactly as export/export-records.ts would stringify its views
   * (store/sqlite/sqlite-export-json.ts: ~4× less CPU than rows made objects). Only where the
   * backend can build exactly that text (SQLite): an export falls back to the views without it.
   */
  readonly exportLinesOfActions?: (
    actionIds: readonly number[],
    request: ExportLinesRequest,
  ) => Promise<ExportLines>
  /**
   * The key of the writer tags (migration 0007): the same for every node and restart on this
   * database. Absent in stores that keep no tags.
   */
  writerTagKey?(): Promise<Buffer>
  /** Releases connections (of every store opened on the same database). Calling it again is a no-op. */
  close(): Promise<void>
}

/** Which export lines to build (ActionStore.exportLinesOfActions), of live actions. */
export interface ExportLinesRequest {
  /** Each line ends with the stored ids (`"ids":{"action":…,"events":[…]}`), for a proof. */
  withIds: boolean
  /**
   * The caller reads ahead (a long export): the lines may be built on another thread
   * (store/sqlite/export-lines-pool.ts) while it does something else.
   */
  offThread?: boolean
}

/** Some records' export lines (ActionStore.exportLinesOfActions), each followed by a newline. */
export interface ExportLines {
  /** The lines: text, or its UTF-8 bytes as the database made them. */
  data: string | Uint8Array
  /** How many lines `data` holds (an action gone since its id was read has none). */
  count: number
}
