/**
 * The canonical encoding of a stored action or event, whose SHA-256 is the record's digest in the
 * hash chain (chain-link.ts). The same row read from SQLite, PostgreSQL or MariaDB gives the same
 * bytes: ids become numbers (PostgreSQL returns bigint as text), times become canonical text
 * (each server has its own text form), texts are taken as stored.
 *
 * The encoding is a JSON array: the kind, then the record's columns in the fixed order of
 * {@link ACTION_DIGEST_COLUMNS} / {@link EVENT_DIGEST_COLUMNS}. Copies of other rows' values are
 * left out on purpose, because they change without a change of the record itself being noted:
 * `owner_project_id` (rewritten on every action and event of an instance that moves to another
 * project), and on events the parent action's `instance_uuid`, `action_name`, `project_id`,
 * `user_id` (rewritten when a merge renames the action) and the derived `changed_at` (updated_at,
 * or start_time while unfinished). Each of them is a copy of a value that the chain does cover.
 */
import { sha256 } from './sha256.js'
import { canonicalTime, canonicalTimeOrNull } from '../../store/rows.js'

/** A row as a driver returns it, with at least the digest columns of its kind. */
export type StoredRow = Readonly<Record<string, unknown>>

/** The action columns a digest covers, in encoding order. */
export const ACTION_DIGEST_COLUMNS = [
  'id',
  'instance_uuid',
  'action',
  'request_id',
  'user_id',
  'project_id',
  'start_time',
  'finish_time',
  'message',
  'created_at',
  'updated_at',
  'written_by',
] as const

/** The event columns a digest covers, in encoding order. */
export const EVENT_DIGEST_COLUMNS = [
  'id',
  'action_id',
  'event',
  'start_time',
  'finish_time',
  'result',
  'traceback',
  'host',
  'details',
  'created_at',
  'updated_at',
  'written_by',
  'finished_by',
] as const

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))

/** The canonical encoding of an action row. */
export function canonicalAction(r: StoredRow): string {
  return JSON.stringify([
    'action',
    Number(r.id),
    text(r.instance_uuid),
    text(r.action),
    text(r.request_id),
    text(r.user_id),
    text(r.project_id),
    canonicalTime(r.start_time),
    canonicalTimeOrNull(r.finish_time),
    text(r.message),
    canonicalTime(r.created_at),
    canonicalTimeOrNull(r.updated_at),
    text(r.written_by),
  ])
}

/** The canonical encoding of an event row. */
export function canonicalEvent(r: StoredRow): string {
  return JSON.stringify([
    'event',
    Number(r.id),
    Number(r.action_id),
    text(r.event),
    canonicalTime(r.start_time),
    canonicalTimeOrNull(r.finish_time),
    text(r.result),
    text(r.traceback),
    text(r.host),
    text(r.details),
    canonicalTime(r.created_at),
    canonicalTimeOrNull(r.updated_at),
    text(r.written_by),
    text(r.finished_by),
  ])
}

/** SHA-256 of a canonical encoding, in hex (64 characters). */
export function sha256Hex(encoding: string): string {
  return sha256(encoding)
}

/** The digest of an action row. */
export function actionDigest(r: StoredRow): string {
  return sha256Hex(canonicalAction(r))
}

/** The digest of an event row. */
export function eventDigest(r: StoredRow): string {
  return sha256Hex(canonicalEvent(r))
}

/**
 * The digest of an archive or purge entry (retention): it stands for the action and its events
 * leaving the live tables, so it covers only which action did.
 */
export function retentionDigest(kind: 'archive' | 'purge', actionId: number): string {
  return sha256Hex(JSON.stringify([kind, actionId]))
}
