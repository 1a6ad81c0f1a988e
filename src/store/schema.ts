/** Kysely table types: the shape of the rows on every backend. */
import type { Generated } from 'kysely'

/** Row of `instances`. */
export interface InstancesTable {
  uuid: string
  name: string
  project_id: string
  user_id: string
  created_at: string
  updated_at: string
  deleted_at: string | null
}

/** Row of `instance_actions`. */
export interface ActionsTable {
  id: Generated<number>
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
  /** The instance's project (copied by the write programs; migration 0005). */
  owner_project_id: string
  /** Writer tag of the principal that started the action (migration 0007; null before). */
  written_by?: string | null
}

/** Row of `instance_actions_events`. */
export interface EventsTable {
  id: Generated<number>
  action_id: number
  event: string
  start_time: string
  finish_time: string | null
  result: string | null
  traceback: string | null
  host: string | null
  details: string | null
  created_at: string
  updated_at: string | null
  /** The parent action's instance (copied by the write programs; migration 0005). */
  instance_uuid: string
  /** The instance's project (copied by the write programs; migration 0005). */
  owner_project_id: string
  /** updated_at, or start_time while the event is unfinished: its time_field=updated_at time. */
  changed_at: string
  /** The parent action's name (copied by the write programs; migration 0008). */
  action_name: string
  /** The parent action's project_id (copied by the write programs; migration 0008). */
  project_id: string | null
  /** The parent action's user_id (copied by the write programs; migration 0008). */
  user_id: string | null
  /** Writer tag of the principal that started the event (migration 0007; null before). */
  written_by?: string | null
  /** Writer tag of the principal that finished the event (migration 0007). */
  finished_by?: string | null
}

/** Row of `idempotency_keys`. */
export interface IdempotencyKeysTable {
  key_hash: string
  request_hash: string
  status: number
  /** The answer for 'text' rows; empty otherwise. */
  body: string
  created_at: string
  /** 'text', 'deflate-raw' or 'dropped' (see migration 0003). */
  body_encoding: Generated<string>
  body_stored: Uint8Array | null
  stored_bytes: Generated<number>
}

/** Row of `idempotency_usage`: bytes remembered for one caller in one slice of time. */
export interface IdempotencyUsageTable {
  caller_hash: string
  slice_start: string
  stored_bytes: number | string
}

/** Row of `changes`: one change to an action or event at its position (write/change-feed.ts). */
export interface ChangesTable {
  /** bigint: PostgreSQL returns it as a string. */
  position: number | string
  kind: string
  action_id: number | string
  event_id: number | string | null
  instance_uuid: string
  owner_project: string
  created_at: string
  /** The record's digest (hash chain, migration 0013; null before). */
  digest?: string | null
  /** The chain link at this position (migration 0013; null before). */
  link?: string | null
}

/** The one row of `change_head`: the last position handed out. */
export interface ChangeHeadTable {
  id: number
  last: number | string
  /** The chain link at `last` (migration 0013); null while no position is chained. */
  link?: string | null
}

/** Row of `checkpoints` (migration 0013): a signed statement of the chain's head at a time. */
export interface CheckpointsTable {
  id: Generated<number>
  position: number | string
  link: string
  created_at: string
  reason: string
  summary: string
  key_id: string
  signature: string
}

/** The one row of `writer_tag_key` (migration 0007): the key of the writer tags, in hex. */
export interface WriterTagKeyTable {
  id: number
  tag_key: string
}

/** Row of `nova_messages` (migration 0010): a Nova notification already applied. */
export interface NovaMessagesTable {
  message_id: string
  seen_at: string
}

/** Row of `nova_request_faults` (migration 0011): a compute.exception's failure, by request and host. */
export interface NovaRequestFaultsTable {
  request_id: string
  host: string
  failed_at: string
  details: string | null
  traceback: string | null
  seen_at: string
}

/** The one row per job of `retention_lease` (migration 0012): who runs it, until when. */
export interface RetentionLeaseTable {
  name: string
  holder: string
  expires_at: string
}

/** The database as Kysely sees it. */
export interface Database {
  idempotency_keys: IdempotencyKeysTable
  idempotency_usage: IdempotencyUsageTable
  instances: InstancesTable
  instance_actions: ActionsTable
  instance_actions_events: EventsTable
  changes: ChangesTable
  change_head: ChangeHeadTable
  checkpoints: CheckpointsTable
  writer_tag_key: WriterTagKeyTable
  nova_messages: NovaMessagesTable
  nova_request_faults: NovaRequestFaultsTable
  /** Archived copies (migration 0012): the same columns and ids as their live tables. */
  shadow_instances: InstancesTable
  shadow_instance_actions: ActionsTable
  shadow_instance_actions_events: EventsTable
  retention_lease: RetentionLeaseTable
}
