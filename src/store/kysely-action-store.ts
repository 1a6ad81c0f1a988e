/**
 * The ActionStore on Kysely. The SQL here is dialect-neutral but for two statements (first-writer
 * insert, name matching) that branch on the dialect; what else differs between backends
 * (connection set-up, session settings, how an inserted id comes back, which failures are
 * transient) lives in the dialect folders.
 */
import { sql, type Expression, type Kysely, type KyselyPlugin, type SelectQueryBuilder } from 'kysely'
import { AppError } from '../domain/errors.js'
import type { ActionEvent, Instance, InstanceAction } from '../domain/instance-action.js'
import type { Timestamp } from '../domain/timestamp.js'
import type { WriteOutcome, WriteRecord } from '../domain/write-operation.js'
import type {
  ActionFinish,
  ActionListQuery,
  ActionStart,
  ActionStartResult,
  ActionStore,
  EventFinish,
  EventStart,
  IdempotencyRecord,
  InstanceFilter,
  InstancePut,
  StoreWrite,
} from './action-store.js'
import { canonicalTime, toAction, toEvent, toInstance } from './rows.js'
import { dialectOf, type DialectName } from './dialect.js'
import type { Database } from './schema.js'
import { GroupCommitter } from './write/group-commit.js'
import type { WriteExecutor } from './write/write-executor.js'

/** What a dialect folder supplies besides the Kysely instance. */
export interface DialectParts {
  /** Runs write programs on this backend. */
  writeExecutor: WriteExecutor
  /** Releases the native connection(s) after Kysely is destroyed. */
  close(): Promise<void>
  /**
   * Maps a failed read's error, e.g. a lost connection to `store_unavailable` (503 rather than
   * 500). Identity when absent.
   */
  mapError?: (err: unknown) => unknown
  /**
   * Applied to list pages that continue after a marker (no changes-since/-before window), for a
   * backend whose planner needs a hint there (MariaDB/MySQL, docs/storage.md finding 1).
   */
  markerPagePlugin?: KyselyPlugin
  /**
   * The backend's planner has no statistics to choose a plan for a changes-since/-before window
   * (SQLite: the store never runs ANALYZE), so the store chooses (see #listActions).
   */
  choosesWindowPlan?: boolean
}

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

function unwrap<K extends WriteRecord['kind']>(outcome: WriteOutcome | undefined, kind: K): Extract<WriteRecord, { kind: K }> & { created: boolean } {
  if (!outcome) throw new AppError('internal', 'write produced no outcome')
  if (!outcome.ok) throw outcome.error
  if (outcome.record.kind !== kind) throw new AppError('internal', `write produced a ${outcome.record.kind}, not a ${kind}`)
  return { ...(outcome.record as Extract<WriteRecord, { kind: K }>), created: outcome.created }
}

/** ActionStore over any Kysely dialect. */
export class KyselyActionStore implements ActionStore {
  readonly #db: Kysely<Database>
  readonly #parts: DialectParts
  readonly #commit: GroupCommitter
  readonly #dialect: DialectName

  constructor(db: Kysely<Database>, parts: DialectParts) {
    this.#db = db
    this.#parts = parts
    this.#commit = new GroupCommitter(parts.writeExecutor)
    this.#dialect = dialectOf(db)
  }

  /** Which backend this store runs on. */
  get dialect(): DialectName {
    return this.#dialect
  }

  /**
   * False when no stored value can equal `key`. PostgreSQL text cannot hold a NUL character and
   * rejects one as a parameter, so a lookup by such a key (an id taken from a URL) names nothing:
   * it is answered here as not found instead of failing in the driver.
   */
  #storable(key: string): boolean {
    return this.#dialect !== 'postgres' || !key.includes('\u0000')
  }

  async #read<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query()
    } catch (err) {
      throw this.#parts.mapError ? this.#parts.mapError(err) : err
    }
  }

  /** The underlying Kysely instance, for migrations and maintenance commands. */
  get db(): Kysely<Database> {
    return this.#db
  }

  write(ops: readonly StoreWrite[]): Promise<WriteOutcome[]> {
    return this.#commit.submit(ops)
  }

  async putInstance(values: InstancePut): Promise<Instance> {
    return unwrap((await this.write([{ op: 'instance_put', values }]))[0], 'instance').instance
  }

  async deleteInstance(uuid: string, at: Timestamp): Promise<Instance | undefined> {
    const [outcome] = await this.write([{ op: 'instance_delete', uuid, at }])
    if (outcome && !outcome.ok && outcome.error.code === 'instance_not_found') return undefined
    return unwrap(outcome, 'instance').instance
  }

  async getInstance(uuid: string): Promise<Instance | undefined> {
    if (!this.#storable(uuid)) return undefined
    const row = await this.#read(() => this.#db.selectFrom('instances').selectAll().where('uuid', '=', uuid).executeTakeFirst())
    return row && toInstance(row)
  }

  async listInstances(filter: InstanceFilter): Promise<Instance[]> {
    let q = this.#db.selectFrom('instances').selectAll()
    if (filter.projectId !== undefined) q = q.where('project_id', '=', filter.projectId)
    if (!filter.includeDeleted) q = q.where('deleted_at', 'is', null)
    if (filter.nameContains !== undefined && filter.nameContains !== '') {
      if (!this.#storable(filter.nameContains)) return []
      q = q.where(nameContains(this.#dialect, filter.nameContains))
    }
    const rows = await this.#read(() => q.orderBy('name').orderBy('uuid').limit(filter.limit).execute())
    return rows.map(toInstance)
  }

  async startAction(values: ActionStart): Promise<ActionStartResult> {
    const { action, created } = unwrap((await this.write([{ op: 'action_start', values }]))[0], 'action')
    return { action, created }
  }

  async finishAction(values: ActionFinish): Promise<InstanceAction> {
    return unwrap((await this.write([{ op: 'action_finish', values }]))[0], 'action').action
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
    let q = this.#db.selectFrom('instance_actions').selectAll().where('instance_uuid', '=', instanceUuid)
    // SQLite always ranges over (instance_uuid, updated_at) for a window and sorts every match:
    // 189 ms for 100,000 matches (docs/storage.md, finding 2). When a bounded, index-only count
    // says many rows match, `+updated_at` (no index for that term) makes it walk the created
    // index newest-first instead and stop after one page.
    const walk = this.#parts.choosesWindowPlan === true && (await this.#windowMatches(instanceUuid, query)) >= WINDOW_WALK_THRESHOLD
    q = inWindow(q, query, walk ? sql<Timestamp>`+updated_at` : sql.ref<Timestamp>('updated_at'))
    if (query.marker !== undefined) {
      const m = this.#storable(query.marker) ? await findAction(this.#db, instanceUuid, query.marker) : undefined
      // Nova's text names "None": its lookup result, not the marker, ends up in the message.
      if (!m) throw new AppError('marker_not_found', 'Marker None could not be found.')
      // The `<=` bound is implied by the OR, but planners only start an index range scan from a
      // plain bound; without it SQLite and PostgreSQL filter every newer row (docs/storage.md).
      q = q.where('created_at', '<=', m.createdAt).where((eb) =>
        eb.or([
          eb('created_at', '<', m.createdAt),
          eb.and([eb('created_at', '=', m.createdAt), eb('id', '<', m.id)]),
        ]),
      )
    }
    const hint = this.#parts.markerPagePlugin
    if (hint && query.marker !== undefined && !query.changesSince && !query.changesBefore) q = q.withPlugin(hint)
    q = q.orderBy('created_at', 'desc').orderBy('id', 'desc')
    if (query.limit !== undefined) q = q.limit(query.limit)
    const rows = await q.execute()
    return rows.map(toAction)
  }

  /** Actions of the instance in the query's window, counted up to WINDOW_WALK_THRESHOLD (0 without a window). */
  async #windowMatches(instanceUuid: string, query: ActionListQuery): Promise<number> {
    if (!query.changesSince && !query.changesBefore) return 0
    const matches = this.#db.selectFrom('instance_actions').select(sql.lit(1).as('one')).where('instance_uuid', '=', instanceUuid)
    const row = await this.#db
      .selectFrom(inWindow(matches, query, sql.ref<Timestamp>('updated_at')).limit(WINDOW_WALK_THRESHOLD).as('w'))
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }

  async startEvent(values: EventStart): Promise<ActionEvent> {
    return unwrap((await this.write([{ op: 'event_start', values }]))[0], 'event').event
  }

  async finishEvent(values: EventFinish): Promise<ActionEvent> {
    return unwrap((await this.write([{ op: 'event_finish', values }]))[0], 'event').event
  }

  async getIdempotency(keyHash: string): Promise<IdempotencyRecord | undefined> {
    if (!this.#storable(keyHash)) return undefined
    const row = await this.#read(() => this.#db.selectFrom('idempotency_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst())
    return row && {
      keyHash: row.key_hash,
      requestHash: row.request_hash,
      status: Number(row.status),
      body: row.body,
      createdAt: canonicalTime(row.created_at),
    }
  }

  async putIdempotency(r: IdempotencyRecord): Promise<void> {
    const insert = this.#db
      .insertInto('idempotency_keys')
      .values({ key_hash: r.keyHash, request_hash: r.requestHash, status: r.status, body: r.body, created_at: r.createdAt })
    // First writer wins. MySQL has no ON CONFLICT; a no-op ON DUPLICATE KEY UPDATE keeps the
    // existing row without INSERT IGNORE's habit of turning other errors into warnings.
    await this.#read(() =>
      (this.#dialect === 'mysql'
        ? insert.onDuplicateKeyUpdate({ key_hash: sql.ref('key_hash') })
        : insert.onConflict((oc) => oc.column('key_hash').doNothing())
      ).execute(),
    )
  }

  async purgeIdempotency(before: Timestamp): Promise<number> {
    const result = await this.#read(() => this.#db.deleteFrom('idempotency_keys').where('created_at', '<', before).executeTakeFirst())
    return Number(result.numDeletedRows)
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

  async close(): Promise<void> {
    await this.#db.destroy()
    await this.#parts.close()
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

async function findAction(db: Kysely<Database>, instanceUuid: string, requestId: string): Promise<InstanceAction | undefined> {
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
