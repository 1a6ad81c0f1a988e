/**
 * The ActionStore on Kysely. The SQL here is dialect-neutral; what differs between backends
 * (connection set-up, pragmas, how an inserted id comes back) lives in the dialect folders.
 */
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import { AppError } from '../domain/errors.js'
import { ACTION_ERROR_MESSAGE, type ActionEvent, type EventResult, type Instance, type InstanceAction } from '../domain/instance-action.js'
import type { Timestamp } from '../domain/timestamp.js'
import type {
  ActionFinish,
  ActionListQuery,
  ActionStart,
  ActionStartResult,
  ActionStore,
  EventFinish,
  EventStart,
  InstanceFilter,
  InstancePut,
} from './action-store.js'
import type { ActionsTable, Database, EventsTable, InstancesTable } from './schema.js'

type Db = Kysely<Database> | Transaction<Database>

/** What a dialect folder supplies besides the Kysely instance. */
export interface DialectHooks {
  /** Releases the native connection(s). */
  close(): Promise<void>
}

function toInstance(row: Selectable<InstancesTable>): Instance {
  return {
    uuid: row.uuid,
    name: row.name,
    projectId: row.project_id,
    userId: row.user_id,
    createdAt: row.created_at as Timestamp,
    updatedAt: row.updated_at as Timestamp,
    deletedAt: row.deleted_at as Timestamp | null,
  }
}

function toAction(row: Selectable<ActionsTable>): InstanceAction {
  return {
    id: Number(row.id),
    instanceUuid: row.instance_uuid,
    action: row.action,
    requestId: row.request_id,
    userId: row.user_id,
    projectId: row.project_id,
    startTime: row.start_time as Timestamp,
    finishTime: row.finish_time as Timestamp | null,
    message: row.message,
    createdAt: row.created_at as Timestamp,
    updatedAt: row.updated_at as Timestamp | null,
  }
}

function toEvent(row: Selectable<EventsTable>): ActionEvent {
  return {
    id: Number(row.id),
    actionId: Number(row.action_id),
    event: row.event,
    startTime: row.start_time as Timestamp,
    finishTime: row.finish_time as Timestamp | null,
    result: row.result as EventResult | null,
    traceback: row.traceback,
    host: row.host,
    details: row.details,
    createdAt: row.created_at as Timestamp,
    updatedAt: row.updated_at as Timestamp | null,
  }
}

function actionNotFound(requestId: string, instanceUuid: string): AppError {
  return new AppError('action_not_found', `Action for request_id ${requestId} on instance ${instanceUuid} not found`)
}

/** ActionStore over any Kysely dialect. */
export class KyselyActionStore implements ActionStore {
  readonly #db: Kysely<Database>
  readonly #hooks: DialectHooks

  constructor(db: Kysely<Database>, hooks: DialectHooks) {
    this.#db = db
    this.#hooks = hooks
  }

  /** The underlying Kysely instance, for migrations and maintenance commands. */
  get db(): Kysely<Database> {
    return this.#db
  }

  async putInstance(v: InstancePut): Promise<Instance> {
    return this.#db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('instances').selectAll().where('uuid', '=', v.uuid).executeTakeFirst()
      if (existing) {
        await trx
          .updateTable('instances')
          .set({ name: v.name, project_id: v.projectId, user_id: v.userId, updated_at: v.now })
          .where('uuid', '=', v.uuid)
          .execute()
      } else {
        await trx
          .insertInto('instances')
          .values({
            uuid: v.uuid,
            name: v.name,
            project_id: v.projectId,
            user_id: v.userId,
            created_at: v.now,
            updated_at: v.now,
            deleted_at: null,
          })
          .execute()
      }
      const row = await trx.selectFrom('instances').selectAll().where('uuid', '=', v.uuid).executeTakeFirstOrThrow()
      return toInstance(row)
    })
  }

  async deleteInstance(uuid: string, at: Timestamp): Promise<Instance | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      await trx
        .updateTable('instances')
        .set({ deleted_at: at, updated_at: at })
        .where('uuid', '=', uuid)
        .where('deleted_at', 'is', null)
        .execute()
      const row = await trx.selectFrom('instances').selectAll().where('uuid', '=', uuid).executeTakeFirst()
      return row && toInstance(row)
    })
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

  async startAction(v: ActionStart): Promise<ActionStartResult> {
    return this.#db.transaction().execute(async (trx) => {
      const instance = await trx.selectFrom('instances').select('uuid').where('uuid', '=', v.instanceUuid).executeTakeFirst()
      if (!instance) throw new AppError('instance_not_found', `Instance ${v.instanceUuid} could not be found.`)
      const existing = await findAction(trx, v.instanceUuid, v.requestId)
      if (existing) {
        if (existing.action !== v.action) {
          throw new AppError(
            'conflict',
            `Request ${v.requestId} already started action '${existing.action}' on instance ${v.instanceUuid}`,
          )
        }
        return { action: existing, created: false }
      }
      await trx
        .insertInto('instance_actions')
        .values({
          instance_uuid: v.instanceUuid,
          action: v.action,
          request_id: v.requestId,
          user_id: v.userId,
          project_id: v.projectId,
          start_time: v.startTime,
          finish_time: null,
          message: null,
          created_at: v.createdAt,
          updated_at: v.startTime,
        })
        .execute()
      const created = await findAction(trx, v.instanceUuid, v.requestId)
      if (!created) throw new AppError('internal', 'inserted action not found')
      return { action: created, created: true }
    })
  }

  async finishAction(v: ActionFinish): Promise<InstanceAction> {
    return this.#db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('instance_actions')
        .set({ finish_time: v.finishTime, updated_at: v.finishTime })
        .where('instance_uuid', '=', v.instanceUuid)
        .where('request_id', '=', v.requestId)
        .executeTakeFirst()
      if (Number(result.numUpdatedRows) !== 1) throw actionNotFound(v.requestId, v.instanceUuid)
      const row = await findAction(trx, v.instanceUuid, v.requestId)
      if (!row) throw actionNotFound(v.requestId, v.instanceUuid)
      return row
    })
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

  async startEvent(v: EventStart): Promise<ActionEvent> {
    return this.#db.transaction().execute(async (trx) => {
      const parent = await findAction(trx, v.instanceUuid, v.requestId)
      if (!parent) throw actionNotFound(v.requestId, v.instanceUuid)
      const inserted = await trx
        .insertInto('instance_actions_events')
        .values({
          action_id: parent.id,
          event: v.event,
          start_time: v.startTime,
          finish_time: null,
          result: null,
          traceback: null,
          host: v.host,
          details: null,
          created_at: v.createdAt,
          updated_at: null,
        })
        .executeTakeFirstOrThrow()
      await trx.updateTable('instance_actions').set({ updated_at: v.startTime }).where('id', '=', parent.id).execute()
      const row = await trx
        .selectFrom('instance_actions_events')
        .selectAll()
        .where('id', '=', Number(inserted.insertId))
        .executeTakeFirstOrThrow()
      return toEvent(row)
    })
  }

  async finishEvent(v: EventFinish): Promise<ActionEvent> {
    return this.#db.transaction().execute(async (trx) => {
      const parent = await findAction(trx, v.instanceUuid, v.requestId)
      if (!parent) throw actionNotFound(v.requestId, v.instanceUuid)
      // Oldest unfinished event of that name first; when all are finished, the newest one, untouched.
      const target = await trx
        .selectFrom('instance_actions_events')
        .selectAll()
        .where('action_id', '=', parent.id)
        .where('event', '=', v.event)
        .orderBy((eb) => eb.case().when('finish_time', 'is', null).then(0).else(1).end())
        .orderBy('id', 'asc')
        .executeTakeFirst()
      if (!target) throw new AppError('event_not_found', `Event ${v.event} not found for action id ${parent.id}`)
      if (target.finish_time !== null) {
        const newest = await trx
          .selectFrom('instance_actions_events')
          .selectAll()
          .where('action_id', '=', parent.id)
          .where('event', '=', v.event)
          .orderBy('id', 'desc')
          .executeTakeFirstOrThrow()
        return toEvent(newest)
      }
      await trx
        .updateTable('instance_actions_events')
        .set({
          finish_time: v.finishTime,
          result: v.result,
          traceback: v.traceback,
          details: v.details,
          updated_at: v.updatedAt,
        })
        .where('id', '=', target.id)
        .execute()
      await trx
        .updateTable('instance_actions')
        .set(v.result.toLowerCase() === 'error'
          ? { updated_at: v.finishTime, message: ACTION_ERROR_MESSAGE }
          : { updated_at: v.finishTime })
        .where('id', '=', parent.id)
        .execute()
      const row = await trx.selectFrom('instance_actions_events').selectAll().where('id', '=', target.id).executeTakeFirstOrThrow()
      return toEvent(row)
    })
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
    await this.#hooks.close()
  }
}

async function findAction(db: Db, instanceUuid: string, requestId: string): Promise<InstanceAction | undefined> {
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
