/**
 * The ActionStore on Kysely. The SQL here is dialect-neutral; what differs between backends
 * (connection set-up, pragmas, how an inserted id comes back) lives in the dialect folders.
 */
import { sql, type Kysely } from 'kysely'
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
import { toAction, toEvent, toInstance } from './rows.js'
import type { Database } from './schema.js'
import { GroupCommitter } from './write/group-commit.js'
import type { WriteExecutor } from './write/write-executor.js'

/** What a dialect folder supplies besides the Kysely instance. */
export interface DialectParts {
  /** Runs write programs on this backend. */
  writeExecutor: WriteExecutor
  /** Releases the native connection(s) after Kysely is destroyed. */
  close(): Promise<void>
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

  constructor(db: Kysely<Database>, parts: DialectParts) {
    this.#db = db
    this.#parts = parts
    this.#commit = new GroupCommitter(parts.writeExecutor)
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
    const row = await this.#db.selectFrom('instances').selectAll().where('uuid', '=', uuid).executeTakeFirst()
    return row && toInstance(row)
  }

  async listInstances(filter: InstanceFilter): Promise<Instance[]> {
    let q = this.#db.selectFrom('instances').selectAll()
    if (filter.projectId !== undefined) q = q.where('project_id', '=', filter.projectId)
    if (!filter.includeDeleted) q = q.where('deleted_at', 'is', null)
    if (filter.nameContains !== undefined && filter.nameContains !== '') {
      // Escape LIKE wildcards so the name is matched as plain text.
      const escaped = filter.nameContains.replace(/[\\%_]/g, (c) => `\\${c}`)
      q = q.where(sql<boolean>`name LIKE ${`%${escaped}%`} ESCAPE '\\'`)
    }
    const rows = await q.orderBy('name').orderBy('uuid').limit(filter.limit).execute()
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
    return findAction(this.#db, instanceUuid, requestId)
  }

  async listActions(instanceUuid: string, query: ActionListQuery): Promise<InstanceAction[]> {
    if (query.limit === 0) return []
    let q = this.#db.selectFrom('instance_actions').selectAll().where('instance_uuid', '=', instanceUuid)
    if (query.changesSince) q = q.where('updated_at', '>=', query.changesSince)
    if (query.changesBefore) q = q.where('updated_at', '<=', query.changesBefore)
    if (query.marker !== undefined) {
      const m = await findAction(this.#db, instanceUuid, query.marker)
      // Nova's text names "None": its lookup result, not the marker, ends up in the message.
      if (!m) throw new AppError('marker_not_found', 'Marker None could not be found.')
      q = q.where((eb) =>
        eb.or([
          eb('created_at', '<', m.createdAt),
          eb.and([eb('created_at', '=', m.createdAt), eb('id', '<', m.id)]),
        ]),
      )
    }
    q = q.orderBy('created_at', 'desc').orderBy('id', 'desc')
    if (query.limit !== undefined) q = q.limit(query.limit)
    const rows = await q.execute()
    return rows.map(toAction)
  }

  async startEvent(values: EventStart): Promise<ActionEvent> {
    return unwrap((await this.write([{ op: 'event_start', values }]))[0], 'event').event
  }

  async finishEvent(values: EventFinish): Promise<ActionEvent> {
    return unwrap((await this.write([{ op: 'event_finish', values }]))[0], 'event').event
  }

  async getIdempotency(keyHash: string): Promise<IdempotencyRecord | undefined> {
    const row = await this.#db.selectFrom('idempotency_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst()
    return row && {
      keyHash: row.key_hash,
      requestHash: row.request_hash,
      status: Number(row.status),
      body: row.body,
      createdAt: row.created_at as Timestamp,
    }
  }

  async putIdempotency(r: IdempotencyRecord): Promise<void> {
    await this.#db
      .insertInto('idempotency_keys')
      .values({ key_hash: r.keyHash, request_hash: r.requestHash, status: r.status, body: r.body, created_at: r.createdAt })
      .onConflict((oc) => oc.column('key_hash').doNothing())
      .execute()
  }

  async purgeIdempotency(before: Timestamp): Promise<number> {
    const result = await this.#db.deleteFrom('idempotency_keys').where('created_at', '<', before).executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  async listEvents(actionId: number): Promise<ActionEvent[]> {
    const rows = await this.#db
      .selectFrom('instance_actions_events')
      .selectAll()
      .where('action_id', '=', actionId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute()
    return rows.map(toEvent)
  }

  async close(): Promise<void> {
    await this.#db.destroy()
    await this.#parts.close()
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
