/**
 * Retention as write programs (issue 13), shared by every backend like the other writes:
 * `archive_batch` moves instances deleted before a cut-off, with their actions and events, into
 * the shadow tables (migration 0012), `purge_batch` deletes archived rows, `prune_nova` deletes
 * old Nova follower bookkeeping. Each runs as ONE bounded transaction of at most `maxActions`
 * actions (with their events), so that writers never wait behind one long transaction; the
 * caller (store/retention-store.ts) repeats batches until one moves nothing.
 *
 * Nova's `archive_deleted_rows` moves a deleted instance's rows to its shadow tables in the same
 * way; an instance with more actions than a batch holds is moved over several batches, its
 * instance row last, so a partly archived instance is still an instance (its remaining history
 * readable as before) until its last action has moved.
 */
import type { WriteOutcome } from '../../domain/write-operation.js'
import type { Timestamp } from '../../domain/timestamp.js'
import { ACTION_COLUMNS, EVENT_COLUMNS, INSTANCE_COLUMNS } from '../migrations/0012-retention.js'
import { chunkSizes } from './change-feed.js'
import {
  change,
  getAll,
  getLocked,
  run,
  type Row,
  type RunResult,
  type WriteProgram,
} from './sql-step.js'

/** Rows a retention write changed, by table. */
export interface RetentionCounts {
  instances: number
  actions: number
  events: number
}

/** One archive batch. */
export interface ArchiveBatch {
  /** Instances deleted strictly before this time are archived. */
  before: Timestamp
  /** At most this many actions (with all their events) move in this batch; at least 1. */
  maxActions: number
  /** The time of the batch's change notes. */
  at: Timestamp
  /** Only instances of this project (a per-project retention period). */
  projectId?: string
  /** Not the instances of these projects (they have periods of their own). */
  exceptProjects?: readonly string[]
}

/** One purge batch. */
export interface PurgeBatch {
  /** Archived instances deleted strictly before this time are purged; null: every archived row. */
  before: Timestamp | null
  /** At most this many actions (with all their events) are deleted in this batch; at least 1. */
  maxActions: number
  /** The time of the batch's change notes. */
  at: Timestamp
}

/** One prune of the Nova follower's bookkeeping (migrations 0010 and 0011). */
export interface NovaPrune {
  /** Rows seen strictly before this time are deleted. */
  before: Timestamp
  /** At most this many rows of each table. */
  maxRows: number
}

// Later than any stored time: `purge --all` is a purge before it.
const END_OF_TIME = '9999-12-31T23:59:59.999999'

const list = (columns: readonly string[]) => columns.join(', ')
const marks = (n: number) => new Array<string>(n).fill('?').join(', ')

/** The outcome of a retention write: its counts. */
function counted(counts: Record<string, number>): WriteOutcome {
  return { ok: true, created: false, record: { kind: 'retention', counts } }
}

/** The live or archived tables a batch reads from and the tables it moves rows into, if any. */
interface Tables {
  instances: string
  actions: string
  events: string
}

const LIVE: Tables = {
  instances: 'instances',
  actions: 'instance_actions',
  events: 'instance_actions_events',
}
const SHADOW: Tables = {
  instances: 'shadow_instances',
  actions: 'shadow_instance_actions',
  events: 'shadow_instance_actions_events',
}

/**
 * Moves (archive: `into` given) or deletes (purge) the rows of instances of `from` deleted before
 * `before`, at most `maxActions` actions. Instances are taken oldest deletion first; an instance
 * row goes only with (or after) its last action.
 */
function* retire(
  from: Tables,
  into: Tables | undefined,
  before: string,
  maxActions: number,
  at: Timestamp,
  projects: { projectId?: string; exceptProjects?: readonly string[] } = {},
): WriteProgram<RetentionCounts> {
  const counts: RetentionCounts = { instances: 0, actions: 0, events: 0 }
  const kind = into ? 'archive' : 'purge'
  const batchSize = Math.max(1, Math.trunc(maxActions))
  let budget = batchSize
  const except = projects.exceptProjects ?? []
  // The project terms filter rows of the (deleted_at, uuid) range; they select no index.
  const instances = (yield getAll(
    `SELECT uuid, project_id FROM ${from.instances} WHERE deleted_at IS NOT NULL ` +
      `AND deleted_at < ?` +
      (projects.projectId !== undefined ? ' AND project_id = ?' : '') +
      (except.length > 0 ? ` AND project_id NOT IN (${marks(except.length)})` : '') +
      ` ORDER BY deleted_at, uuid LIMIT ${batchSize}`,
    before,
    ...(projects.projectId !== undefined ? [projects.projectId] : []),
    ...except,
  )) as Row[]
  // First what the batch takes (reads only), then its writes in a few multi-row statements per
  // chunk of actions: one statement set per instance made a 200-action batch of small instances
  // run thousands of statements (measured: 1 ms an action on SQLite, bench/archive.ts).
  const taken: { id: number; uuid: string; owner: string }[] = []
  const whole: string[] = []
  for (const instance of instances) {
    if (budget === 0) break
    const uuid = String(instance.uuid)
    const owner = String(instance.project_id)
    // One more than the batch: whether the instance has actions left after this batch. The
    // same text for every instance (not the budget left), so the statement is prepared once.
    const rows = (yield getAll(
      `SELECT id FROM ${from.actions} WHERE instance_uuid = ? ORDER BY id LIMIT ${batchSize + 1}`,
      uuid,
    )) as Row[]
    const complete = rows.length <= budget
    for (const r of rows.slice(0, budget)) taken.push({ id: Number(r.id), uuid, owner })
    budget -= Math.min(rows.length, budget)
    // Actions left: the instance row stays until its last action has moved.
    if (!complete) break
    whole.push(uuid)
  }
  let offset = 0
  for (const size of chunkSizes(taken.length)) {
    const chunk = taken.slice(offset, offset + size)
    offset += size
    const ids = chunk.map((c) => c.id)
    if (into) {
      // On the server databases a writer adding an event locks its action's row first
      // (getLocked); taking the same locks here means no event is added to an action between
      // its copy and its deletion (the copy would miss it, and the deletion would fail).
      for (const id of ids) yield getLocked(id, `SELECT id FROM ${from.actions} WHERE id = ?`, id)
      yield run(
        `INSERT INTO ${into.events} (${list(EVENT_COLUMNS)}) SELECT ${list(EVENT_COLUMNS)} ` +
          `FROM ${from.events} WHERE action_id IN (${marks(size)})`,
        ...ids,
      )
    }
    const events = (yield run(
      `DELETE FROM ${from.events} WHERE action_id IN (${marks(size)})`,
      ...ids,
    )) as RunResult
    if (into) {
      yield run(
        `INSERT INTO ${into.actions} (${list(ACTION_COLUMNS)}) SELECT ${list(ACTION_COLUMNS)} ` +
          `FROM ${from.actions} WHERE id IN (${marks(size)})`,
        ...ids,
      )
    }
    const actions = (yield run(
      `DELETE FROM ${from.actions} WHERE id IN (${marks(size)})`,
      ...ids,
    )) as RunResult
    counts.events += events.changes
    counts.actions += actions.changes
    for (const c of chunk)
      yield change({
        kind,
        actionId: c.id,
        eventId: null,
        instanceUuid: c.uuid,
        at,
        ownerProject: c.owner,
      })
  }
  offset = 0
  for (const size of chunkSizes(whole.length)) {
    const uuids = whole.slice(offset, offset + size)
    offset += size
    if (into) {
      // An instance archived before, then recorded again under the same uuid and deleted again:
      // its newer row replaces the archived one.
      yield run(`DELETE FROM ${into.instances} WHERE uuid IN (${marks(size)})`, ...uuids)
      yield run(
        `INSERT INTO ${into.instances} (${list(INSTANCE_COLUMNS)}) ` +
          `SELECT ${list(INSTANCE_COLUMNS)} FROM ${from.instances} WHERE uuid IN (${marks(size)})`,
        ...uuids,
      )
    }
    const removed = (yield run(
      `DELETE FROM ${from.instances} WHERE uuid IN (${marks(size)})`,
      ...uuids,
    )) as RunResult
    counts.instances += removed.changes
  }
  return counts
}

/** An archive batch (see the module comment): moves rows into the shadow tables. */
export function* archiveBatch(v: ArchiveBatch): WriteProgram<WriteOutcome> {
  const projects = {
    ...(v.projectId !== undefined ? { projectId: v.projectId } : {}),
    ...(v.exceptProjects !== undefined ? { exceptProjects: v.exceptProjects } : {}),
  }
  return counted({ ...(yield* retire(LIVE, SHADOW, v.before, v.maxActions, v.at, projects)) })
}

/** A purge batch: deletes archived rows of instances deleted before `before` (or all). */
export function* purgeBatch(v: PurgeBatch): WriteProgram<WriteOutcome> {
  return counted({
    ...(yield* retire(SHADOW, undefined, v.before ?? END_OF_TIME, v.maxActions, v.at)),
  })
}

/**
 * Deletes applied Nova message ids and request faults seen before `before`, at most `maxRows` of
 * each: by key, after a bounded read of the `seen_at` index, because PostgreSQL has no
 * `DELETE … LIMIT`.
 */
export function* novaPrune(v: NovaPrune): WriteProgram<WriteOutcome> {
  const limit = Math.max(1, Math.trunc(v.maxRows))
  const messages = (yield getAll(
    `SELECT message_id FROM nova_messages WHERE seen_at < ? ORDER BY seen_at LIMIT ${limit}`,
    v.before,
  )) as Row[]
  let prunedMessages = 0
  let offset = 0
  // Chunks of power-of-two sizes: a few distinct statement texts for the statement caches.
  for (const size of chunkSizes(messages.length)) {
    const chunk = messages.slice(offset, offset + size).map((m) => m.message_id)
    offset += size
    const r = (yield run(
      `DELETE FROM nova_messages WHERE message_id IN (${marks(size)})`,
      ...chunk,
    )) as RunResult
    prunedMessages += r.changes
  }
  const faults = (yield getAll(
    `SELECT request_id, host FROM nova_request_faults WHERE seen_at < ? ORDER BY seen_at LIMIT ${limit}`,
    v.before,
  )) as Row[]
  let prunedFaults = 0
  for (const f of faults) {
    const r = (yield run(
      'DELETE FROM nova_request_faults WHERE request_id = ? AND host = ? AND seen_at < ?',
      f.request_id,
      f.host,
      v.before,
    )) as RunResult
    prunedFaults += r.changes
  }
  return counted({ nova_messages: prunedMessages, nova_request_faults: prunedFaults })
}
