/**
 * Bulk import (issue 12, `actiontrail import --from-nova-db`): complete actions with their events
 * written in multi-row statements, as backend-neutral write programs run by the same executors as
 * every other write (one transaction per batch, the change rows and positions of change-feed.ts,
 * the server databases' retries).
 *
 * Why not the per-operation programs: an imported action with five events is seven of them, each
 * with its own look-ups (instance, action, event), about twenty statements per action; here a
 * batch of a few hundred actions is a few dozen statements.
 *
 * Idempotence: an action is identified by (instance, request id), as everywhere. The program looks
 * first and inserts the actions that are not there, with all their events in the same
 * transaction, so an action is either wholly imported or not at all. (On a server database
 * another writer may insert the same action between the look and the insert: the unique key then
 * fails the transaction, which the executor retries, and the retry sees the row.) An action that
 * exists already (the follower or the other importer recorded it first, or it came twice) is
 * merged into, not skipped (import-merge.ts): skipping lost the events only the database has
 * (conductor_*, api_*). Merging is idempotent, so importing again changes nothing.
 */
import type { ImportCounts, WriteOutcome } from '../../domain/write-operation.js'
import type { ImportedAction, ImportedEvent, ImportedInstance } from '../action-store.js'
import { canonicalTime } from '../rows.js'
import { chunkSizes } from './change-feed.js'
import { mergeImportedAction } from './import-merge.js'
import { change, getAll, run, type Row, type WriteProgram } from './sql-step.js'
import type { ActionIdCache } from './write-programs.js'

type Out = WriteProgram<WriteOutcome>

const groups = (n: number, group: string) => new Array<string>(n).fill(group).join(', ')

/**
 * Splits `items` into the chunks of {@link chunkSizes}: few distinct statement texts, so the
 * prepared-statement caches stay small.
 */
function chunked<T>(items: readonly T[]): T[][] {
  const out: T[][] = []
  let offset = 0
  for (const size of chunkSizes(items.length)) {
    out.push(items.slice(offset, offset + size))
    offset += size
  }
  return out
}

/**
 * The keys for an `IN (…)` list, padded to a power of two by repeating the last one (at most 256
 * per list, as chunkSizes): the same few statement texts whatever the batch.
 */
function padded(keys: readonly string[] | readonly number[]): unknown[] {
  let size = 1
  while (size < keys.length) size *= 2
  const out: unknown[] = [...keys]
  while (out.length < size) out.push(keys[keys.length - 1])
  return out
}

function* instancesByUuid(uuids: readonly string[]): WriteProgram<Map<string, Row>> {
  const found = new Map<string, Row>()
  for (let i = 0; i < uuids.length; i += 256) {
    const keys = padded(uuids.slice(i, i + 256))
    const rows = (yield getAll(
      'SELECT uuid, name, project_id, created_at, updated_at, deleted_at FROM instances ' +
        `WHERE uuid IN (${groups(keys.length, '?')})`,
      ...keys,
    )) as Row[]
    for (const r of rows) found.set(String(r.uuid), r)
  }
  return found
}

/** An action's identity, (instance, request id), as one Map key. */
export const actionKey = (instanceUuid: string, requestId: string) =>
  `${instanceUuid}\n${requestId}`

/**
 * Actions per part of an import batch: a part's new actions are inserted, then their events, and
 * the change notes follow that order (a part's actions, then its events), which is the order of
 * the change positions. Writers that assign positions themselves (the offline writer,
 * sqlite/sqlite-offline-import.ts) split batches the same way.
 */
export const IMPORT_PART = 256

/** `(?, ?, …)` for a row of n columns. */
export const rowGroup = (n: number) => `(${new Array<string>(n).fill('?').join(', ')})`

/** The columns of an imported action's row (its generated id aside), as {@link importedActionRow}. */
export const IMPORTED_ACTION_COLUMNS = [
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
  'owner_project_id',
  'written_by',
] as const

/** The values of an imported action's row, in the order of {@link IMPORTED_ACTION_COLUMNS}. */
export function importedActionRow(
  a: ImportedAction,
  ownerProject: unknown,
  tag: string | null,
): unknown[] {
  return [
    a.instanceUuid,
    a.action,
    a.requestId,
    a.userId,
    a.projectId,
    a.startTime,
    a.finishTime,
    a.message,
    a.createdAt,
    a.updatedAt,
    ownerProject,
    // An ActionTrail export's own tags are kept (store/action-store.ts ImportedAction).
    a.writtenBy ?? tag,
  ]
}

/** The columns of an imported event's row (its generated id aside), as {@link importedEventRow}. */
export const IMPORTED_EVENT_COLUMNS = [
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
  'instance_uuid',
  'owner_project_id',
  'action_name',
  'project_id',
  'user_id',
  'changed_at',
  'written_by',
  'finished_by',
] as const

/** The values of an imported event's row, in the order of {@link IMPORTED_EVENT_COLUMNS}. */
export function importedEventRow(
  actionId: number,
  a: ImportedAction,
  e: ImportedEvent,
  ownerProject: unknown,
  tag: string | null,
): unknown[] {
  return [
    actionId,
    e.event,
    e.startTime,
    e.finishTime,
    e.result,
    e.traceback,
    e.host,
    e.details,
    e.createdAt,
    e.updatedAt,
    a.instanceUuid,
    ownerProject,
    // The parent's name, project and user (migration 0008), as event_start copies them.
    a.action,
    a.projectId,
    a.userId,
    e.updatedAt ?? e.startTime,
    e.writtenBy ?? tag,
    e.finishTime === null ? null : (e.finishedBy ?? tag),
  ]
}

/** The ids of the actions among `actions` (at most 256) that exist, by actionKey. */
function* actionIds(actions: readonly ImportedAction[]): WriteProgram<Map<string, number>> {
  const requestIds = padded([...new Set(actions.map((a) => a.requestId))])
  // By request id alone, through its index (migration 0004): one probe per request id. With an
  // `instance_uuid IN (…)` list as well, SQLite probes the unique (instance_uuid, request_id) key
  // once per pair of the two lists, 65,536 times for 256 actions (measured: a third of an
  // import's time, bench:nova-import at 50k actions). A request id that other instances' actions
  // share (Nova's multi-create) brings those too; they match no key of the batch.
  const rows = (yield getAll(
    'SELECT id, instance_uuid, request_id FROM instance_actions ' +
      `WHERE request_id IN (${groups(requestIds.length, '?')})`,
    ...requestIds,
  )) as Row[]
  const ids = new Map<string, number>()
  for (const r of rows)
    ids.set(actionKey(String(r.instance_uuid), String(r.request_id)), Number(r.id))
  return ids
}

/**
 * What an import changes in an instance known here, or undefined. It keeps its projects (the live
 * writers may know better than an old copy of the source); what must not depend on which source
 * came first converges: a deletion is taken over, the earliest creation and deletion times are
 * kept, and the follower's placeholder name (the uuid: it stores no display name) gets Nova's.
 */
function knownInstance(current: Row, i: ImportedInstance) {
  const name = String(current.name) === i.uuid && i.name !== '' ? i.name : String(current.name)
  const createdAt = earliest(canonicalTime(current.created_at), i.createdAt) as string
  const deletedAt = earliest(
    current.deleted_at === null ? null : canonicalTime(current.deleted_at),
    i.deletedAt,
  )
  const updatedAt = canonicalTime(current.updated_at)
  if (
    name === current.name &&
    createdAt === canonicalTime(current.created_at) &&
    deletedAt === (current.deleted_at === null ? null : canonicalTime(current.deleted_at))
  )
    return undefined
  // A deletion is a change of the instance: its updated_at moves to it, as instance_delete's.
  return { name, createdAt, deletedAt, updatedAt: later(updatedAt, deletedAt) }
}

function earliest(a: string | null, b: string | null): string | null {
  if (a === null || b === null) return a ?? b
  return b < a ? b : a
}

function later(a: string, b: string | null): string {
  return b !== null && b > a ? b : a
}

/** See StoreWrite `import_instances`. */
export function* importInstances(instances: readonly ImportedInstance[]): Out {
  const counts: ImportCounts = { created: 0, existing: 0, skipped: 0 }
  const known = yield* instancesByUuid([...new Set(instances.map((i) => i.uuid))])
  const fresh: ImportedInstance[] = []
  for (const i of instances) {
    const current = known.get(i.uuid)
    if (!current) {
      fresh.push(i)
      // A uuid twice in one batch is inserted once.
      known.set(i.uuid, { uuid: i.uuid, fresh: true })
      continue
    }
    counts.existing += 1
    if (current.fresh) continue
    const next = knownInstance(current, i)
    if (next)
      yield run(
        'UPDATE instances SET name = ?, created_at = ?, deleted_at = ?, updated_at = ? ' +
          'WHERE uuid = ?',
        next.name,
        next.createdAt,
        next.deletedAt,
        next.updatedAt,
        i.uuid,
      )
  }
  for (const chunk of chunked(fresh)) {
    const params: unknown[] = []
    for (const i of chunk)
      params.push(i.uuid, i.name, i.projectId, i.userId, i.createdAt, i.updatedAt, i.deletedAt)
    yield run(
      'INSERT INTO instances (uuid, name, project_id, user_id, created_at, updated_at, deleted_at) ' +
        `VALUES ${groups(chunk.length, '(?, ?, ?, ?, ?, ?, ?)')}`,
      ...params,
    )
  }
  counts.created = fresh.length
  return { ok: true, created: fresh.length > 0, record: { kind: 'import', counts } }
}

/** See StoreWrite `import_actions`. */
export function* importActions(
  actions: readonly ImportedAction[],
  cache: ActionIdCache,
  writer?: string,
): Out {
  const counts: ImportCounts = { created: 0, existing: 0, skipped: 0 }
  const owners = yield* instancesByUuid([...new Set(actions.map((a) => a.instanceUuid))])
  const tag = writer ?? null
  for (let i = 0; i < actions.length; i += IMPORT_PART) {
    const part = actions.slice(i, i + IMPORT_PART)
    const existing = yield* actionIds(part)
    const fresh: ImportedAction[] = []
    const merges: ImportedAction[] = []
    const seen = new Set<string>()
    for (const a of part) {
      const key = actionKey(a.instanceUuid, a.requestId)
      if (!owners.has(a.instanceUuid)) counts.skipped += 1
      else if (existing.has(key) || seen.has(key)) merges.push(a)
      else {
        seen.add(key)
        fresh.push(a)
      }
    }
    if (fresh.length > 0) yield* insertFresh(fresh, owners, tag)
    counts.created += fresh.length
    // After the inserts: a key twice in one batch merges into the copy just inserted.
    for (const a of merges) yield* mergeImportedAction(a, writer, cache)
    counts.existing += merges.length
  }
  return { ok: true, created: counts.created > 0, record: { kind: 'import', counts } }
}

/** The multi-row path: absent actions and all their events, with their change rows. */
function* insertFresh(
  fresh: readonly ImportedAction[],
  owners: ReadonlyMap<string, Row>,
  tag: string | null,
): WriteProgram<void> {
  for (const chunk of chunked(fresh)) {
    const params: unknown[] = []
    for (const a of chunk)
      params.push(...importedActionRow(a, owners.get(a.instanceUuid)?.project_id, tag))
    yield run(
      `INSERT INTO instance_actions (${IMPORTED_ACTION_COLUMNS.join(', ')}) ` +
        `VALUES ${groups(chunk.length, rowGroup(IMPORTED_ACTION_COLUMNS.length))}`,
      ...params,
    )
  }
  // The new keys, read back: portable (MySQL has no INSERT … RETURNING), one index look-up each.
  const ids = yield* actionIds(fresh)
  const events: { a: ImportedAction; actionId: number; e: ImportedAction['events'][number] }[] = []
  for (const a of fresh) {
    const actionId = ids.get(actionKey(a.instanceUuid, a.requestId))
    if (actionId === undefined) throw new Error('an imported action was not found after insert')
    yield change({
      kind: 'action',
      actionId,
      eventId: null,
      instanceUuid: a.instanceUuid,
      at: a.updatedAt ?? a.createdAt,
    })
    for (const e of a.events) events.push({ a, actionId, e })
  }
  for (const chunk of chunked(events)) {
    const params: unknown[] = []
    for (const { a, actionId, e } of chunk)
      params.push(...importedEventRow(actionId, a, e, owners.get(a.instanceUuid)?.project_id, tag))
    yield run(
      `INSERT INTO instance_actions_events (${IMPORTED_EVENT_COLUMNS.join(', ')}) ` +
        `VALUES ${groups(chunk.length, rowGroup(IMPORTED_EVENT_COLUMNS.length))}`,
      ...params,
    )
  }
  yield* eventChanges(fresh, ids)
}

/** A change row for each event of the new actions (their ids read back by action). */
function* eventChanges(
  fresh: readonly ImportedAction[],
  ids: ReadonlyMap<string, number>,
): WriteProgram<void> {
  const byId = new Map<number, ImportedAction>()
  for (const a of fresh) {
    if (a.events.length > 0) byId.set(ids.get(actionKey(a.instanceUuid, a.requestId)) ?? -1, a)
  }
  const actionIdList = [...byId.keys()]
  for (let i = 0; i < actionIdList.length; i += 256) {
    const keys = padded(actionIdList.slice(i, i + 256))
    const rows = (yield getAll(
      'SELECT id, action_id, created_at, updated_at FROM instance_actions_events ' +
        `WHERE action_id IN (${groups(keys.length, '?')}) ORDER BY id`,
      ...keys,
    )) as Row[]
    for (const r of rows) {
      const a = byId.get(Number(r.action_id))
      if (!a) continue
      yield change({
        kind: 'event',
        actionId: Number(r.action_id),
        eventId: Number(r.id),
        instanceUuid: a.instanceUuid,
        at: canonicalTime(r.updated_at ?? r.created_at),
      })
    }
  }
}
