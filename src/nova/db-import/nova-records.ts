/**
 * Nova's rows as ActionTrail's import records: times made canonical, failure texts sanitized on
 * the way in (the same sanitizer as every write: security/sanitize-traceback.ts), and the rows
 * ActionTrail cannot key skipped. Pure functions.
 */
import type { Timestamp } from '../../domain/timestamp.js'
import { sanitizeDetails, sanitizeTraceback } from '../../security/sanitize-traceback.js'
import type { ImportedAction, ImportedEvent, ImportedInstance } from '../../store/action-store.js'
import { canonicalTimeOrNull } from '../../store/rows.js'
import type { NovaActionRow, NovaEventRow, NovaInstanceRow } from './nova-rows.js'
import { requestName } from '../recorded-name.js'

const time = (v: string | null): Timestamp | null => canonicalTimeOrNull(v)

/** An instance row as an import record; undefined when it has no time at all. */
export function toImportedInstance(row: NovaInstanceRow): ImportedInstance | undefined {
  const createdAt = time(row.created_at) ?? time(row.updated_at)
  if (!createdAt) return undefined
  const updatedAt = time(row.updated_at) ?? createdAt
  // Nova soft-deletes instances (`deleted` set to the row's id); deleted_at is set with it.
  const deleted = row.deleted !== null && Number(row.deleted) !== 0
  return {
    uuid: row.uuid,
    name: row.display_name ?? row.hostname ?? '',
    projectId: row.project_id ?? '',
    userId: row.user_id ?? '',
    createdAt,
    updatedAt,
    deletedAt: deleted ? (time(row.deleted_at) ?? updatedAt) : null,
  }
}

function toImportedEvent(row: NovaEventRow): ImportedEvent | undefined {
  const startTime = time(row.start_time) ?? time(row.created_at)
  if (!row.event || !startTime) return undefined
  return {
    event: row.event,
    startTime,
    finishTime: time(row.finish_time),
    // Nova writes only these two (or nothing while the event runs).
    result: row.result === null ? null : row.result === 'Error' ? 'Error' : 'Success',
    traceback: row.traceback === null ? null : sanitizeTraceback(row.traceback),
    details: row.details === null ? null : sanitizeDetails(row.details),
    host: row.host,
    createdAt: time(row.created_at) ?? startTime,
    updatedAt: time(row.updated_at),
  }
}

/** The earlier or (`later`) the later of two times; null only when both are. */
function pickTime(a: Timestamp | null, b: Timestamp | null, later: boolean): Timestamp | null {
  if (a === null || b === null) return a ?? b
  return b > a === later ? b : a
}

/**
 * One record for the actions Nova recorded under one request for one instance (`rows` oldest
 * first; spec §3.3 rule 7): named after the newest, with the events of all of them, the earliest
 * start and creation, the latest finish and update, "Error" if any failed.
 */
function oneAction(rows: readonly ImportedAction[]): ImportedAction {
  const newest = rows[rows.length - 1] as ImportedAction
  const name = requestName(rows.map((r) => r.action))
  if (rows.length === 1) return { ...newest, replaces: name.replaces }
  let merged: ImportedAction = { ...newest, ...name, events: rows.flatMap((r) => r.events) }
  for (const r of rows)
    merged = {
      ...merged,
      startTime: pickTime(merged.startTime, r.startTime, false) as Timestamp,
      finishTime: pickTime(merged.finishTime, r.finishTime, true),
      message: merged.message ?? r.message,
      createdAt: pickTime(merged.createdAt, r.createdAt, false) as Timestamp,
      updatedAt: pickTime(merged.updatedAt, r.updatedAt, true),
    }
  return merged
}

/**
 * The actions of a batch with their events (`events` ordered by action id, as the sources read
 * them), one per (instance, request id) (see oneAction; a pair split over two batches is merged
 * by the store). An action without instance, request id, name or time cannot be keyed and is left
 * out (`skipped` counts them).
 */
export function toImportedActions(
  actions: readonly NovaActionRow[],
  events: readonly NovaEventRow[],
): { actions: ImportedAction[]; skipped: number } {
  const byAction = new Map<number, ImportedEvent[]>()
  for (const e of events) {
    if (e.action_id === null) continue
    const record = toImportedEvent(e)
    if (!record) continue
    const list = byAction.get(Number(e.action_id))
    if (list) list.push(record)
    else byAction.set(Number(e.action_id), [record])
  }
  // Rows by (instance, request id), oldest first: the batch is read by id, Nova's insert order.
  const byRequest = new Map<string, ImportedAction[]>()
  let skipped = 0
  for (const a of actions) {
    const startTime = time(a.start_time) ?? time(a.created_at)
    if (!a.instance_uuid || !a.request_id || !a.action || !startTime) {
      skipped += 1
      continue
    }
    const key = `${a.instance_uuid}\n${a.request_id}`
    const list = byRequest.get(key) ?? []
    if (list.length === 0) byRequest.set(key, list)
    list.push({
      instanceUuid: a.instance_uuid,
      action: a.action,
      requestId: a.request_id,
      userId: a.user_id,
      projectId: a.project_id,
      startTime,
      finishTime: time(a.finish_time),
      message: a.message,
      createdAt: time(a.created_at) ?? startTime,
      updatedAt: time(a.updated_at),
      events: byAction.get(Number(a.id)) ?? [],
    })
  }
  return { actions: [...byRequest.values()].map(oneAction), skipped }
}
