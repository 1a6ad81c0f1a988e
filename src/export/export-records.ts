/**
 * The records of an export (issue 13): every action matching a search with its instance and its
 * events, as the admin view of the query API shows them (tracebacks, hosts, details and writer
 * tags included), read page by page in the query API's keyset order (newest first; no OFFSET, so a
 * page costs the same at any depth) and yielded one at a time, so that memory holds one page
 * whatever the size of the history.
 */
import type { ActionEvent, Instance, InstanceAction } from '../domain/instance-action.js'
import type { ActionSearch, ActionStore } from '../store/action-store.js'
import type { CommonSearch } from '../api/v1/search-params.js'
import { queryActionView, queryEventView, type EventVisibility } from '../api/v1/query-common.js'
import {
  instanceView,
  type ActionView,
  type EventView,
  type InstanceView,
} from '../api/v1/views.js'

/** The version of the record shape, in the header line; bumped on any incompatible change. */
export const EXPORT_FORMAT_VERSION = 1

/** Actions read per store query: the query API's largest page. */
export const EXPORT_PAGE_SIZE = 1000

/**
 * Instances kept across pages: consecutive pages mostly name the same instances. Measured
 * 2026-12-06 (100,000 actions with 5 events each on 1,000 instances, SQLite, loaded 2-core
 * machine): 17.3 s without the cache (one getInstance per distinct instance of each page), 14.1 s
 * with it.
 */
const INSTANCE_CACHE_SIZE = 10_000

/** What an export reads. */
export type ExportSource = Pick<
  ActionStore,
  'searchActions' | 'listEventsOfActions' | 'getInstance' | 'eventsJsonOfActions'
>

/** One exported action: `{"instance": …, "action": …, "events": […]}` (events newest first). */
export interface ExportRecord {
  instance: InstanceView
  action: ActionView & { written_by: string | null }
  events: (EventView & { written_by: string | null; finished_by: string | null })[]
  /**
   * The stored ids of the action and of its events (in `events` order): only in an export with a
   * proof (export-proof.ts), whose verifier needs them to recompute the records' digests.
   */
  ids?: { action: number; events: number[] }
}

/**
 * The last line of a complete NDJSON export: an export that does not end with it was cut short
 * (a dropped connection, a full disk), which a reader could not otherwise tell from a smaller
 * history.
 */
export interface ExportEnd {
  actiontrail_export_end: { actions: number }
}

/**
 * The last line of an export that the server could not finish once it had started answering (the
 * database failed mid-way): the HTTP status was already sent, so the body itself says so.
 */
export interface ExportFailure {
  actiontrail_export_error: { message: string }
}

/** The first line of an NDJSON export. */
export interface ExportHeader {
  actiontrail_export: typeof EXPORT_FORMAT_VERSION
  exported_at: string
  /** The query parameters that selected the actions (as `GET /v1/actions` names them). */
  filters: Record<string, string | string[]>
  /** In an export with a proof: the chain's head position when the export began. */
  proof?: { head_at_start: number }
}

/** The header line's object for these filters. */
export function exportHeader(filters: URLSearchParams, now: Date): ExportHeader {
  const out: Record<string, string | string[]> = {}
  for (const name of new Set(filters.keys())) {
    const values = filters.getAll(name)
    out[name] = values.length === 1 ? (values[0] as string) : values
  }
  return { actiontrail_export: EXPORT_FORMAT_VERSION, exported_at: now.toISOString(), filters: out }
}

/** An export shows everything: it is an admin's copy of the history. */
const ADMIN: EventVisibility = { internals: true, details: true }

/** The record of an action, in the query API's admin view (query-common.ts). */
function record(
  instance: Instance,
  action: InstanceAction,
  events: readonly ActionEvent[],
  withIds: boolean,
): ExportRecord {
  // With ADMIN, the views carry the writer tags, traceback, host and details: the casts only say so.
  const out: ExportRecord = {
    instance: instanceView(instance),
    action: queryActionView(action, ADMIN) as ExportRecord['action'],
    events: events.map((e) => queryEventView(e, ADMIN) as ExportRecord['events'][number]),
  }
  if (withIds) out.ids = { action: action.id, events: events.map((e) => e.id) }
  return out
}

/** A page of actions with the instances they belong to. */
interface ActionPage {
  actions: InstanceAction[]
  instances: ReadonlyMap<string, Instance>
}

/**
 * Every action matching `search` (its `limit` is ignored), newest first by the search's time
 * field, a page (up to `pageSize`) at a time, with their instances: one store read per page plus
 * one per instance not yet in the bounded instance cache.
 */
async function* actionPages(
  source: ExportSource,
  search: Omit<CommonSearch, 'limit'>,
  pageSize: number,
): AsyncGenerator<ActionPage> {
  const byUpdate = search.timeField === 'updated_at'
  const instances = new Map<string, Instance>()
  let after: ActionSearch['after']
  for (;;) {
    const actions = await source.searchActions({
      ...search,
      limit: pageSize,
      ...(after ? { after } : {}),
    })
    if (actions.length === 0) return
    for (const uuid of new Set(actions.map((a) => a.instanceUuid))) {
      if (instances.has(uuid)) continue
      // Bounded, so that memory stays flat: emptied when full rather than grown with the export.
      if (instances.size >= INSTANCE_CACHE_SIZE) instances.clear()
      const instance = await source.getInstance(uuid)
      if (instance) instances.set(uuid, instance)
    }
    yield { actions, instances }
    if (actions.length < pageSize) return
    const last = actions[actions.length - 1] as InstanceAction
    after = {
      startTime: byUpdate ? (last.updatedAt ?? last.startTime) : last.startTime,
      id: last.id,
    }
  }
}

/**
 * The records of every action matching `search` (its `limit` is ignored), newest first by the
 * search's time field, one page (up to `pageSize` records) at a time: a page is the unit the
 * writer turns into one chunk of text, so that the stream machinery runs once per page rather
 * than once per record. Each page is two store reads (actions, then their events in one read)
 * plus one read per instance not yet in the bounded instance cache.
 */
export async function* exportPages(
  source: ExportSource,
  search: Omit<CommonSearch, 'limit'>,
  pageSize = EXPORT_PAGE_SIZE,
  { withIds = false }: { withIds?: boolean } = {},
): AsyncGenerator<ExportRecord[]> {
  for await (const { actions, instances } of actionPages(source, search, pageSize)) {
    const events = await source.listEventsOfActions(actions.map((a) => a.id))
    const records: ExportRecord[] = []
    for (const a of actions) {
      const instance = instances.get(a.instanceUuid)
      // Actions always belong to a known instance (foreign key); skipping is only defensive.
      if (instance) records.push(record(instance, a, events.get(a.id) ?? [], withIds))
    }
    yield records
  }
}

/**
 * exportPages as NDJSON lines (each record's JSON, without its newline): the same text, built
 * from the events' JSON the database makes (ActionStore.eventsJsonOfActions) where it can — an
 * action's and an instance's view are a few fields; its five events were 4/5 of the export's
 * CPU as objects (store/sqlite/sqlite-event-json.ts). Elsewhere: exportPages, stringified.
 */
export async function* exportJsonPages(
  source: ExportSource,
  search: Omit<CommonSearch, 'limit'>,
  pageSize = EXPORT_PAGE_SIZE,
  { withIds = false }: { withIds?: boolean } = {},
): AsyncGenerator<string[]> {
  const eventsJson = source.eventsJsonOfActions
  if (!eventsJson) {
    for await (const page of exportPages(source, search, pageSize, { withIds }))
      yield page.map((r) => JSON.stringify(r))
    return
  }
  // Keyed by the instance cache's objects: an entry goes when its instance leaves that cache.
  const instanceJson = new WeakMap<Instance, string>()
  for await (const { actions, instances } of actionPages(source, search, pageSize)) {
    const events = await eventsJson(actions.map((a) => a.id))
    const lines: string[] = []
    for (const a of actions) {
      const instance = instances.get(a.instanceUuid)
      if (!instance) continue
      let iJson = instanceJson.get(instance)
      if (iJson === undefined) {
        iJson = JSON.stringify(instanceView(instance))
        instanceJson.set(instance, iJson)
      }
      const e = events.get(a.id)
      // The keys in ExportRecord's order, as JSON.stringify(record(…)) writes them.
      const aJson = JSON.stringify(queryActionView(a, ADMIN))
      let line = `{"instance":${iJson},"action":${aJson},"events":${e?.views ?? '[]'}`
      if (withIds) line += `,"ids":{"action":${a.id},"events":${e?.ids ?? '[]'}}`
      lines.push(line + '}')
    }
    yield lines
  }
}
