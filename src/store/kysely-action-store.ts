/**
 * The ActionStore on Kysely. The SQL here is dialect-neutral but for name matching, which branches
 * on the dialect; what else differs between backends (connection set-up, session settings, how
 * an inserted id comes back, which failures are transient, planner hints) comes with the opened
 * database (store-database.ts) from the dialect folders. Writes are values run by the backend's
 * write executor behind a group committer; reads are Kysely queries.
 */
import { sql, type Expression, type Kysely, type SelectQueryBuilder } from 'kysely'
import type { ActionEvent, Instance, InstanceAction } from '../domain/instance-action.js'
import { markerNotFound } from '../domain/record-errors.js'
import type { Timestamp } from '../domain/timestamp.js'
import type { WriteOutcome } from '../domain/write-operation.js'
import type {
  ActionListQuery,
  ActionSearch,
  ActionStore,
  EventSearch,
  FoundEvent,
  InstanceFilter,
  StoreWrite,
} from './action-store.js'
import type { Change, ChangeFeed } from './change-feed.js'
import type { DialectName } from './dialect.js'
import { eventsTable, RARE_HOST_EVENTS, searchActionsQuery } from './action-search-query.js'
import { searchEventsQuery } from './event-search-query.js'
import { canonicalTime, toAction, toEvent, toInstance } from './rows.js'
import type { Database } from './schema.js'
import { AppError } from '../domain/errors.js'
import { isStorableKey, withMappedErrors, type StoreDatabase } from './store-database.js'
import { GroupCommitter, type CommitObserver } from './write/group-commit.js'

/**
 * From this many matches on, a changes-since/-before window is read by walking the created index
 * newest-first (one page of rows fetched) rather than by ranging over the updated index and
 * sorting every match; below it the range is cheaper.
 */
export const WINDOW_WALK_THRESHOLD = 2000

/** Restricts a query on actions to the changes-since/-before window, comparing `updatedAt`. */
function inWindow<O>(
  q: SelectQueryBuilder<Database, 'instance_actions', O>,
  query: ActionListQuery,
  updatedAt: Expression<Timestamp>,
): SelectQueryBuilder<Database, 'instance_actions', O> {
  if (query.changesSince) q = q.where(updatedAt, '>=', query.changesSince)
  if (query.changesBefore) q = q.where(updatedAt, '<=', query.changesBefore)
  return q
}

// Ids per `IN (…)` list when reading the current rows of changed records: far below every
// backend's parameter limit, and a poll reads at most a few such lists.
const IDS_PER_QUERY = 1000

/** ActionStore (and its change feed) over any Kysely dialect. */
export class KyselyActionStore implements ActionStore, ChangeFeed {
  readonly #database: StoreDatabase
  readonly #db: Kysely<Database>
  readonly #commit: GroupCommitter
  #closed: Promise<void> | undefined
  readonly #commitListeners = new Set<() => void>()

  readonly exportLinesOfActions?: ActionStore['exportLinesOfActions']

  constructor(database: StoreDatabase, options: { observer?: CommitObserver } = {}) {
    this.#database = database
    this.#db = database.db
    const { exportLines } = database
    if (exportLines)
      this.exportLinesOfActions = (ids, request) => this.#read(() => exportLines(ids, request))
    this.#commit = new GroupCommitter(
      database.writeExecutor,
      options.observer ? { observer: options.observer } : {},
    )
  }

  #storable(key: string): boolean {
    return isStorableKey(this.#database, key)
  }

  #read<T>(query: () => Promise<T>): Promise<T> {
    return withMappedErrors(this.#database, query)
  }

  async write(ops: readonly StoreWrite[]): Promise<WriteOutcome[]> {
    const outcomes = await this.#commit.submit(ops)
    for (const listener of this.#commitListeners) listener()
    return outcomes
  }

  onCommit(listener: () => void): () => void {
    this.#commitListeners.add(listener)
    return () => this.#commitListeners.delete(listener)
  }

  async head(): Promise<number> {
    const row = await this.#read(() =>
      this.#db.selectFrom('change_head').select('last').where('id', '=', 1).executeTakeFirst(),
    )
    return Number(row?.last ?? 0)
  }

  async readChanges(after: number, limit: number): Promise<Change[]> {
    const rows = await this.#read(() =>
      this.#db
        .selectFrom('changes')
        .selectAll()
        .where('position', '>', after)
        .orderBy('position')
        .limit(limit)
        .execute(),
    )
    return rows.map((r) => ({
      position: Number(r.position),
      kind: changeKind(r.kind),
      actionId: Number(r.action_id),
      eventId: r.event_id === null ? null : Number(r.event_id),
      instanceUuid: r.instance_uuid,
      ownerProject: r.owner_project,
      at: canonicalTime(r.created_at),
    }))
  }

  async actionsByIds(ids: readonly number[]): Promise<InstanceAction[]> {
    const out: InstanceAction[] = []
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const part = ids.slice(i, i + IDS_PER_QUERY)
      const rows = await this.#read(() =>
        this.#db.selectFrom('instance_actions').selectAll().where('id', 'in', part).execute(),
      )
      out.push(...rows.map(toAction))
    }
    return out
  }

  async eventsByIds(ids: readonly number[]): Promise<ActionEvent[]> {
    const out: ActionEvent[] = []
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const part = ids.slice(i, i + IDS_PER_QUERY)
      const rows = await this.#read(() =>
        this.#db
          .selectFrom('instance_actions_events')
          .selectAll()
          .where('id', 'in', part)
          .execute(),
      )
      out.push(...rows.map(toEvent))
    }
    return out
  }

  async writerTagKey(): Promise<Buffer> {
    const row = await this.#read(() =>
      this.#db
        .selectFrom('writer_tag_key')
        .select('tag_key')
        .where('id', '=', 1)
        .executeTakeFirst(),
    )
    if (!row)
      throw new AppError('store_unavailable', 'the writer tag key is missing (migration 0007)')
    return Buffer.from(row.tag_key, 'hex')
  }

  async getInstance(uuid: string): Promise<Instance | undefined> {
    if (!this.#storable(uuid)) return undefined
    const row = await this.#read(() =>
      this.#db.selectFrom('instances').selectAll().where('uuid', '=', uuid).executeTakeFirst(),
    )
    return row && toInstance(row)
  }

  async listInstances(filter: InstanceFilter): Promise<Instance[]> {
    let q = this.#db.selectFrom('instances').selectAll()
    if (filter.projectId !== undefined) q = q.where('project_id', '=', filter.projectId)
    if (!filter.includeDeleted) q = q.where('deleted_at', 'is', null)
    if (filter.onlyDeleted === true) q = q.where('deleted_at', 'is not', null)
    const after = filter.after
    if (after !== undefined) {
      q = q
        .where('name', '>=', after.name)
        .where((eb) =>
          eb.or([
            eb('name', '>', after.name),
            eb.and([eb('name', '=', after.name), eb('uuid', '>', after.uuid)]),
          ]),
        )
    }
    if (filter.nameContains !== undefined && filter.nameContains !== '') {
      if (!this.#storable(filter.nameContains)) return []
      q = q.where(nameContains(this.#database.dialect, filter.nameContains))
    }
    const rows = await this.#read(() =>
      q.orderBy('name').orderBy('uuid').limit(filter.limit).execute(),
    )
    return rows.map(toInstance)
  }

  async getAction(instanceUuid: string, requestId: string): Promise<InstanceAction | undefined> {
    if (!this.#storable(instanceUuid) || !this.#storable(requestId)) return undefined
    return this.#read(() => findAction(this.#db, instanceUuid, requestId))
  }

  async listActions(instanceUuid: string, query: ActionListQuery): Promise<InstanceAction[]> {
    return this.#read(() => this.#listActions(instanceUuid, query))
  }

  async #listActions(instanceUuid: string, query: ActionListQuery): Promise<InstanceAction[]> {
    if (query.limit === 0) return []
    if (!this.#storable(instanceUuid)) return []
    let q = this.#db
      .selectFrom('instance_actions')
      .selectAll()
      .where('instance_uuid', '=', instanceUuid)
    // SQLite always ranges over (instance_uuid, updated_at) for a window and sorts every match:
    // 189 ms for 100,000 matches (docs/storage.md, finding 2). When a bounded, index-only count
    // says many rows match, `+updated_at` (no index for that term) makes it walk the created
    // index newest-first instead and stop after one page.
    const walk =
      this.#database.choosesWindowPlan === true &&
      (await this.#windowMatches(instanceUuid, query)) >= WINDOW_WALK_THRESHOLD
    q = inWindow(q, query, walk ? sql<Timestamp>`+updated_at` : sql.ref<Timestamp>('updated_at'))
    if (query.marker !== undefined) {
      const m = this.#storable(query.marker)
        ? await findAction(this.#db, instanceUuid, query.marker)
        : undefined
      if (!m) throw markerNotFound()
      // The `<=` bound is implied by the OR, but planners only start an index range scan from a
      // plain bound; without it SQLite and PostgreSQL filter every newer row (docs/storage.md).
      q = q
        .where('created_at', '<=', m.createdAt)
        .where((eb) =>
          eb.or([
            eb('created_at', '<', m.createdAt),
            eb.and([eb('created_at', '=', m.createdAt), eb('id', '<', m.id)]),
          ]),
        )
    }
    const hint = this.#database.markerPagePlugin
    if (hint && query.marker !== undefined && !query.changesSince && !query.changesBefore)
      q = q.withPlugin(hint)
    q = q.orderBy('created_at', 'desc').orderBy('id', 'desc')
    if (query.limit !== undefined) q = q.limit(query.limit)
    const rows = await q.execute()
    return rows.map(toAction)
  }

  /** Actions of the instance in the query's window, counted up to WINDOW_WALK_THRESHOLD (0 without a window). */
  async #windowMatches(instanceUuid: string, query: ActionListQuery): Promise<number> {
    if (!query.changesSince && !query.changesBefore) return 0
    const matches = this.#db
      .selectFrom('instance_actions')
      .select(sql.lit(1).as('one'))
      .where('instance_uuid', '=', instanceUuid)
    const row = await this.#db
      .selectFrom(
        inWindow(matches, query, sql.ref<Timestamp>('updated_at'))
          .limit(WINDOW_WALK_THRESHOLD)
          .as('w'),
      )
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }

  async searchActions(search: ActionSearch): Promise<InstanceAction[]> {
    // A key too long to be stored matches nothing (MariaDB would otherwise compare a truncation).
    const keys = [search.instanceUuid, search.projectId, search.ownerProjectId, search.userId]
    const names = [search.requestId, search.host, ...(search.actions ?? [])]
    if ([...keys, ...names].some((k) => k !== undefined && !this.#storable(k))) return []
    const rareHost = search.host !== undefined && (await this.#rareHost(search.host, search))
    const rows = await this.#read(() =>
      searchActionsQuery(this.#db, search, { rareHost }).execute(),
    )
    return rows.map(toAction)
  }

  /**
   * MariaDB only (the plan it chooses between, action-search-query.ts onHost): whether the host
   * has fewer than RARE_HOST_EVENTS events, counted on the `(host, …)` index and stopped there.
   */
  async #rareHost(host: string, search: { archived?: boolean }): Promise<boolean> {
    if (this.#database.dialect !== 'mysql') return false
    const row = await this.#read(() =>
      this.#db
        .selectFrom((eb) =>
          eb
            .selectFrom(eventsTable(search))
            .select(sql.lit(1).as('one'))
            .where('e.host', '=', host)
            .limit(RARE_HOST_EVENTS)
            .as('h'),
        )
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirst(),
    )
    return Number(row?.n ?? 0) < RARE_HOST_EVENTS
  }

  async searchEvents(search: EventSearch): Promise<FoundEvent[]> {
    const keys = [search.instanceUuid, search.projectId, search.ownerProjectId, search.userId]
    const names = [
      search.requestId,
      search.host,
      ...(search.actions ?? []),
      ...(search.events ?? []),
    ]
    if ([...keys, ...names].some((k) => k !== undefined && !this.#storable(k))) return []
    const rows = await this.#read(() => searchEventsQuery(this.#db, search).execute())
    return rows.map((row) => {
      const { action_request_id, ...event } = row
      return {
        event: toEvent(event),
        instanceUuid: row.instance_uuid,
        requestId: action_request_id,
        action: row.action_name,
      }
    })
  }

  async listEvents(actionId: number): Promise<ActionEvent[]> {
    const rows = await this.#read(() =>
      this.#db
        .selectFrom('instance_actions_events')
        .selectAll()
        .where('action_id', '=', actionId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute(),
    )
    return rows.map(toEvent)
  }

  async listEventsOfActions(
    actionIds: readonly number[],
    options: { archived?: boolean } = {},
  ): Promise<Map<number, ActionEvent[]>> {
    const table =
      options.archived === true ? 'shadow_instance_actions_events' : 'instance_actions_events'
    const byAction = new Map<number, ActionEvent[]>(actionIds.map((id) => [id, []]))
    const ids = [...byAction.keys()]
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const part = ids.slice(i, i + IDS_PER_QUERY)
      // The (action_id, event) index finds each action's rows; sorting a page's events is cheap.
      const rows = await this.#read(() =>
        this.#db
          .selectFrom(table as 'instance_actions_events')
          .selectAll()
          .where('action_id', 'in', part)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .execute(),
      )
      for (const row of rows) byAction.get(Number(row.action_id))?.push(toEvent(row))
    }
    return byAction
  }

  close(): Promise<void> {
    // Kysely's destroy() ends the pool or closes the SQLite handle, for every store on it.
    this.#closed ??= this.#db.destroy()
    return this.#closed
  }
}

/**
 * `name` contains `text` as plain text, ignoring the case of ASCII letters as SQLite's LIKE does.
 * '!' escapes the wildcards: a backslash would need different quoting on MySQL, where it is an
 * escape character inside string literals. PostgreSQL's LIKE is case-sensitive, hence ILIKE (on a
 * collation "C" column it folds ASCII only, like SQLite); the MySQL columns compare bytes, hence
 * LOWER() on both sides.
 */
function nameContains(dialect: DialectName, text: string) {
  const pattern = `%${text.replace(/[!%_]/g, (c) => `!${c}`)}%`
  switch (dialect) {
    case 'sqlite':
      return sql<boolean>`name LIKE ${pattern} ESCAPE '!'`
    case 'postgres':
      return sql<boolean>`name ILIKE ${pattern} ESCAPE '!'`
    case 'mysql':
      return sql<boolean>`LOWER(name) LIKE LOWER(${pattern}) ESCAPE '!'`
  }
}

/** The kind of a stored change row; anything unknown is an action change, as before issue 13. */
function changeKind(kind: string): Change['kind'] {
  return kind === 'event' || kind === 'archive' || kind === 'purge' ? kind : 'action'
}

async function findAction(
  db: Kysely<Database>,
  instanceUuid: string,
  requestId: string,
): Promise<InstanceAction | undefined> {
  const row = await db
    .selectFrom('instance_actions')
    .selectAll()
    .where('instance_uuid', '=', instanceUuid)
    .where('request_id', '=', requestId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst()
  return row && toAction(row)
}
