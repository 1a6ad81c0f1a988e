/**
 * `actiontrail import --from-nova-api`: walks nova-api (every server of every project, live then
 * deleted, then each server's actions and each action's events) and records the history through
 * ActionService.applyDerived (merges, nova-history.ts), one transaction per server, under the
 * writer tag of `nova-import`. Running it again changes nothing (every merge is idempotent); a
 * checkpoint lets an interrupted run resume after the last server committed.
 */
import { AppError } from '../../domain/errors.js'
import type { DerivedOperation } from '../../domain/merge-operation.js'
import type { WriteOutcome } from '../../domain/write-operation.js'
import { MAX_VERSION, formatVersion, type ApiVersion } from '../../api/compute/microversion.js'
import { readCheckpoint, writeCheckpoint, type ImportCheckpoint } from './checkpoint.js'
import type { NovaApiClient } from './nova-api-client.js'
import {
  historyOperations,
  type NovaAction,
  type NovaActionWithEvents,
  type NovaServer,
} from './nova-history.js'

/** What an import needs. */
export interface NovaImportOptions {
  client: NovaApiClient
  /** The Nova endpoint (recorded in the checkpoint). */
  url: string
  /** Where the writes go: ActionService (merges are not write API operations). */
  writer: { applyDerived(ops: readonly DerivedOperation[]): Promise<WriteOutcome[]> }
  /** Writer tag stamped on every action and event (e.g. the tag of `nova-import`). */
  writerTag?: string
  /** Checkpoint file; none: no resume. */
  checkpoint?: string
  /** Servers and actions per page (Nova caps it at its [api]max_limit, 1000 by default). */
  pageSize?: number
  /** Called after each server is committed. */
  onProgress?: (done: ImportTotals) => void
}

/** What an import did. */
export interface ImportTotals {
  servers: number
  actions: number
  events: number
  /** Write operations the store refused. */
  failed: number
  /** The microversion the actions were read at. */
  version: string
}

const MARKER_PAGING = 58

/** The highest microversion both Nova and ActionTrail speak. */
async function negotiate(client: NovaApiClient): Promise<ApiVersion> {
  const root = await client.get<{ version?: { version?: string } }>('/')
  const text = root?.version?.version ?? '2.1'
  const [major, minor] = text.split('.').map(Number)
  const nova: ApiVersion = { major: major || 2, minor: minor ?? 1 }
  if (nova.major !== MAX_VERSION.major || nova.minor > MAX_VERSION.minor) return MAX_VERSION
  return nova
}

/** Every action of a server, oldest first (Nova lists newest first). */
async function listActions(
  client: NovaApiClient,
  uuid: string,
  version: ApiVersion,
  pageSize: number,
): Promise<NovaAction[] | undefined> {
  const v = formatVersion(version)
  const base = `/servers/${encodeURIComponent(uuid)}/os-instance-actions`
  const all: NovaAction[] = []
  if (version.minor < MARKER_PAGING) {
    const page = await client.get<{ instanceActions: NovaAction[] }>(base, v, true)
    if (!page) return undefined
    return page.instanceActions.reverse()
  }
  let marker: string | undefined
  for (;;) {
    const query = `?limit=${pageSize}${marker ? `&marker=${encodeURIComponent(marker)}` : ''}`
    const page = await client.get<{ instanceActions: NovaAction[] }>(`${base}${query}`, v, true)
    if (!page) return marker === undefined ? undefined : all.reverse()
    all.push(...page.instanceActions)
    const last = page.instanceActions[page.instanceActions.length - 1]
    if (page.instanceActions.length < pageSize || !last) return all.reverse()
    marker = last.request_id
  }
}

/** The events of one action, oldest first (Nova shows newest first). */
async function showAction(
  client: NovaApiClient,
  uuid: string,
  action: NovaAction,
  version: ApiVersion,
): Promise<NovaActionWithEvents> {
  const path = `/servers/${encodeURIComponent(uuid)}/os-instance-actions/${encodeURIComponent(action.request_id)}`
  const shown = await client.get<{ instanceAction: NovaActionWithEvents }>(
    path,
    formatVersion(version),
    true,
  )
  // Gone between the list and the show (archived): the action without events.
  const events = shown?.instanceAction.events ?? []
  return { ...action, events: [...events].reverse() }
}

function withTag(op: DerivedOperation, writer: string | undefined): DerivedOperation {
  if (!writer) return op
  switch (op.op) {
    case 'action_merge':
    case 'event_merge':
      return { ...op, input: { ...op.input, writer } } as DerivedOperation
    default:
      return op
  }
}

/** Runs the import; resolves with the totals of this run. */
export async function importFromNovaApi(options: NovaImportOptions): Promise<ImportTotals> {
  const { client } = options
  const pageSize = options.pageSize ?? 100
  const version = await negotiate(client)
  const totals: ImportTotals = {
    servers: 0,
    actions: 0,
    events: 0,
    failed: 0,
    version: formatVersion(version),
  }
  let state: ImportCheckpoint = {
    url: options.url,
    pass: 'live',
    marker: null,
    servers: 0,
    complete: false,
  }
  if (options.checkpoint) {
    const saved = readCheckpoint(options.checkpoint)
    if (saved && saved.url !== options.url)
      throw new AppError('invalid_input', 'the checkpoint file belongs to another Nova endpoint')
    // A finished import starts over: a new run is a new backfill (idempotent, adds only what is new).
    if (saved && !saved.complete) state = saved
  }
  for (const pass of ['live', 'deleted'] as const) {
    if (state.pass === 'deleted' && pass === 'live') continue
    let marker = state.pass === pass ? state.marker : null
    for (;;) {
      const query =
        `?all_tenants=1&limit=${pageSize}` +
        (pass === 'deleted' ? '&deleted=True' : '') +
        (marker ? `&marker=${encodeURIComponent(marker)}` : '')
      const page = await client.get<{ servers: NovaServer[] }>(`/servers/detail${query}`, '2.1')
      const servers = page?.servers ?? []
      for (const server of servers) {
        const actions = await listActions(client, server.id, version, pageSize)
        const history: NovaActionWithEvents[] = []
        for (const a of actions ?? []) history.push(await showAction(client, server.id, a, version))
        const ops = historyOperations(server, pass === 'deleted', history).map((op) =>
          withTag(op, options.writerTag),
        )
        const outcomes = await options.writer.applyDerived(ops)
        totals.failed += outcomes.filter((o) => !o.ok).length
        totals.servers += 1
        totals.actions += history.length
        totals.events += history.reduce((n, a) => n + a.events.length, 0)
        state = { ...state, pass, marker: server.id, servers: state.servers + 1 }
        if (options.checkpoint) writeCheckpoint(options.checkpoint, state)
        options.onProgress?.(totals)
      }
      const last = servers[servers.length - 1]
      if (servers.length < pageSize || !last) break
      marker = last.id
    }
    if (pass === 'live') state = { ...state, pass: 'deleted', marker: null }
  }
  state = { ...state, complete: true }
  if (options.checkpoint) writeCheckpoint(options.checkpoint, state)
  return totals
}
