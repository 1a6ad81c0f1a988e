/**
 * The records of an export (issue 13): every action matching a search with its instance and its
 * events, as the admin view of the query API shows them (tracebacks, hosts, details and writer
 * tags included), read page by page in the query API's keyset order (newest first; no OFFSET, so a
 * page costs the same at any depth) and yielded one at a time, so that memory holds one page
 * whatever the size of the history.
 */
import type { ActionEvent, Instance, InstanceAction } from '../domain/instance-action.js'
import type { ActionSearch, ActionStore, ExportLines } from '../store/action-store.js'
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
  'searchActions' | 'listEventsOfActions' | 'getInstance' | 'exportLinesOfActions'
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

/**
 * Every action matching `search` (its `limit` is ignored), newest first by the search's time
 * field, a page (up to `pageSize`) at a time: one store read per page, each continuing after the
 * last action of the one before (keyset, so a page costs the same at any depth).
 */
async function* actionPages(
  source: Pick<ExportSource, 'searchActions'>,
  search: Omit<CommonSearch, 'limit'>,
  pageSize: number,
): AsyncGenerator<InstanceAction[]> {
  const byUpdate = search.timeField === 'updated_at'
  let after: ActionSearch['after']
  for (;;) {
    const actions = await source.searchActions({
      ...search,
      limit: pageSize,
      ...(after ? { after } : {}),
    })
    if (actions.length === 0) return
    yield actions
    if (actions.length < pageSize) return
    const last = actions[actions.length - 1] as InstanceAction
    after = {
      startTime: byUpdate ? (last.updatedAt ?? last.startTime) : last.startTime,
      id: last.id,
    }
  }
}

/**
 * Adds the instances of these actions to `cache` (one read per instance not yet there). The
 * cache is bounded, so that memory stays flat: emptied when full rather than grown with the export.
 */
async function cacheInstances(
  source: Pick<ExportSource, 'getInstance'>,
  actions: readonly InstanceAction[],
  cache: Map<string, Instance>,
): Promise<void> {
  for (const uuid of new Set(actions.map((a) => a.instanceUuid))) {
    if (cache.has(uuid)) continue
    if (cache.size >= INSTANCE_CACHE_SIZE) cache.clear()
    const instance = await source.getInstance(uuid)
    if (instance) cache.set(uuid, instance)
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
  const instances = new Map<string, Instance>()
  for await (const actions of actionPages(source, search, pageSize)) {
    await cacheInstances(source, actions, instances)
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
 * Pages an export has asked the store to build while it passes an earlier one on: enough to keep
 * every worker of the store's pool busy (store/sqlite/export-lines-pool.ts; a page of 1,000
 * records is ~2.3 MB of text, so memory stays a few pages).
 */
const READ_AHEAD = 4

/**
 * exportPages as NDJSON text, a page at a time: the same text, built by the database where it
 * can (ActionStore.exportLinesOfActions: SQLite's own JSON, on worker threads from the second page
 * on, several pages at once) — the records' views as objects, stringified, were nearly all of an
 * export's CPU. Elsewhere: exportPages, stringified.
 */
export async function* exportJsonPages(
  source: ExportSource,
  search: Omit<CommonSearch, 'limit'>,
  pageSize = EXPORT_PAGE_SIZE,
  { withIds = false }: { withIds?: boolean } = {},
): AsyncGenerator<ExportLines> {
  const build = source.exportLinesOfActions
  if (!build) {
    for await (const page of exportPages(source, search, pageSize, { withIds })) {
      let text = ''
      for (const r of page) text += JSON.stringify(r) + '\n'
      yield { data: text, count: page.length }
    }
    return
  }
  const pages = actionPages(source, search, pageSize)
  const ahead: Promise<ExportLines>[] = []
  let more = true
  // The first page on the store's own connection: a small export never starts a worker.
  let offThread = false
  for (;;) {
    while (more && ahead.length < READ_AHEAD) {
      const next = await pages.next()
      if (next.done === true) {
        more = false
        break
      }
      const lines = build(
        next.value.map((a) => a.id),
        { withIds, offThread },
      )
      // Awaited below, in order; a failure surfaces there rather than as an unhandled rejection.
      lines.catch(() => {})
      ahead.push(lines)
      offThread = true
    }
    const lines = ahead.shift()
    if (lines === undefined) return
    yield await lines
  }
}
