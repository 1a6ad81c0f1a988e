/**
 * Nova's rows as ActionTrail's import records: times made canonical, failure texts sanitized on
 * the way in (the same sanitizer as every write: security/sanitize-traceback.ts), and the rows
 * ActionTrail cannot key skipped. Pure functions.
 *
 * This runs once per row of a whole cloud's history, so it creates nothing but the records: rows
 * are destructured (nova-rows.ts), and the sanitizer only sees non-empty texts (about 2 % of
 * Nova's events carry a traceback; the rest are NULL).
 */
import type { Timestamp } from '../../domain/timestamp.js'
import { sanitizedFailure } from '../../security/sanitize-traceback.js'
import type { ImportedAction, ImportedEvent, ImportedInstance } from '../../store/action-store.js'
import { canonicalTimeOrNull } from '../../store/rows.js'
import type { ChainAhead } from '../../store/sqlite/offline-batch-layout.js'
import {
  lastId,
  type NovaActionBatch,
  type NovaActionRow,
  type NovaEventRow,
  type NovaInstanceRow,
} from './nova-rows.js'
import { recordedReplaces, requestName } from '../recorded-name.js'
import type { SentInstances } from './sent-instances.js'

const time = (v: string | null): Timestamp | null => canonicalTimeOrNull(v)

/** An instance row as an import record; undefined when it has no time at all. */
export function toImportedInstance(row: NovaInstanceRow): ImportedInstance | undefined {
  const [, uuid, displayName, hostname, projectId, userId, created, updated, deletedAt, deleted] =
    row
  const createdAt = time(created) ?? time(updated)
  if (!createdAt) return undefined
  const updatedAt = time(updated) ?? createdAt
  // Nova soft-deletes instances (`deleted` set to the row's id); deleted_at is set with it.
  const isDeleted = deleted !== null && Number(deleted) !== 0
  return {
    uuid,
    name: displayName ?? hostname ?? '',
    projectId: projectId ?? '',
    userId: userId ?? '',
    createdAt,
    updatedAt,
    deletedAt: isDeleted ? (time(deletedAt) ?? updatedAt) : null,
  }
}

function toImportedEvent(row: NovaEventRow): ImportedEvent | undefined {
  const [, , event, start, finish, result, traceback, host, details, created, updated] = row
  const startTime = time(start) ?? time(created)
  if (!event || !startTime) return undefined
  return {
    event,
    startTime,
    finishTime: time(finish),
    // Nova writes only these two (or nothing while the event runs).
    result: result === null ? null : result === 'Error' ? 'Error' : 'Success',
    ...sanitizedFailure(traceback, details),
    host,
    createdAt: time(created) ?? startTime,
    updatedAt: time(updated),
  }
}

/** The earlier or (`later`) the later of two times; null only when both are. */
function pickTime(a: Timestamp | null, b: Timestamp | null, later: boolean): Timestamp | null {
  if (a === null || b === null) return a ?? b
  return b > a === later ? b : a
}

// What a lone action's name replaces, per name: recordedReplaces builds and sorts a set of every
// name the follower can write, and did so for each action (with its spreads, 8 % of the floor's
// CPU in a profile of 50k actions, 2026-12-07; the floor of 1M actions went from 53.6 to 23.9 s
// with this and the record no longer copied). Few distinct names exist, and the arrays are
// readonly (ImportedAction.replaces).
const replacesByName = new Map<string, readonly string[]>()

function singleReplaces(name: string): readonly string[] {
  let replaces = replacesByName.get(name)
  if (!replaces) replacesByName.set(name, (replaces = recordedReplaces(name)))
  return replaces
}

/**
 * One record for the actions Nova recorded under one request for one instance (`rows` oldest
 * first; spec §3.3 rule 7): named after the newest, with the events of all of them, the earliest
 * start and creation, the latest finish and update, "Error" if any failed.
 */
function oneAction(rows: readonly ImportedAction[]): ImportedAction {
  const newest = rows[rows.length - 1] as ImportedAction
  // Nearly every request has one action: its record as it is, with the replaces of its name
  // (see singleReplaces).
  if (rows.length === 1) {
    newest.replaces = singleReplaces(newest.action)
    return newest
  }
  const name = requestName(rows.map((r) => r.action))
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
    const [, actionId] = e
    if (actionId === null) continue
    const record = toImportedEvent(e)
    if (!record) continue
    const list = byAction.get(Number(actionId))
    if (list) list.push(record)
    else byAction.set(Number(actionId), [record])
  }
  // Rows by (instance, request id), oldest first: the batch is read by id, Nova's insert order.
  const byRequest = new Map<string, ImportedAction[]>()
  let skipped = 0
  for (const row of actions) {
    const [
      id,
      action,
      instanceUuid,
      requestId,
      userId,
      projectId,
      start,
      finish,
      message,
      created,
      updated,
    ] = row
    const startTime = time(start) ?? time(created)
    if (!instanceUuid || !requestId || !action || !startTime) {
      skipped += 1
      continue
    }
    const key = `${instanceUuid}\n${requestId}`
    const list = byRequest.get(key) ?? []
    if (list.length === 0) byRequest.set(key, list)
    list.push({
      instanceUuid,
      action,
      requestId,
      userId,
      projectId,
      startTime,
      finishTime: time(finish),
      message,
      createdAt: time(created) ?? startTime,
      updatedAt: time(updated),
      events: byAction.get(Number(id)) ?? [],
    })
  }
  return { actions: [...byRequest.values()].map(oneAction), skipped }
}

/** A batch of a cell's action walk as the writer takes it (see {@link toImportBatch}). */
export interface ImportBatch {
  /** The instances the actions name, those that can be imported (and not sent before). */
  instances: ImportedInstance[]
  actions: ImportedAction[]
  /** Actions read that cannot be keyed (see toImportedActions). */
  skipped: number
  /** Actions read from the cell. */
  read: number
  /** The last action id read: where the next batch starts, and the checkpoint once written. */
  lastId: number
  /** The batch's hash chain, planned ahead by the reader (store/sqlite/offline-batch-layout.ts). */
  chain?: ChainAhead
}

/**
 * A non-empty batch of Nova's rows as import records; with `sent`, only the instances not sent
 * before (noted in it: sent-instances.ts).
 */
export function toImportBatch(batch: NovaActionBatch, sent?: SentInstances): ImportBatch {
  const { actions, skipped } = toImportedActions(batch.actions, batch.events)
  sent?.startBatch()
  const rows = sent ? batch.instances.filter((row) => !sent.has(row[1])) : batch.instances
  const instances = rows.map(toImportedInstance).filter((i) => i !== undefined)
  sent?.add(instances)
  return {
    instances,
    actions,
    skipped,
    read: batch.actions.length,
    lastId: lastId(batch.actions),
  }
}
