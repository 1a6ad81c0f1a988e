/**
 * The query API's second part (issue 10): the owner project copied onto actions and events, so
 * that a non-admin's query (always restricted to their project's instances) is an index range read
 * instead of a join that walks every project's rows; the instance and a sort time copied onto
 * events for `GET /v1/events`; and indexes for every documented filter in both orders (start_time
 * and updated_at), for unfinished work (`result=running`, `state=stuck`) and for events.
 *
 * The copies are kept by the write programs (src/store/write/write-programs.ts): action_start and
 * event_start write them, an instance_put that moves an instance to another project rewrites them.
 */
import { sql, type Kysely, type Migration } from 'kysely'
import { columnTypes } from './column-types.js'
import { addFilledColumn } from './filled-column.js'
import { dropIndex } from './drop-index.js'

/** (index name, columns) of instance_actions added by this migration. */
export const ACTION_INDEXES: readonly [string, string[]][] = [
  ['instance_actions_owner_start_idx', ['owner_project_id', 'start_time', 'id']],
  ['instance_actions_owner_updated_idx', ['owner_project_id', 'updated_at', 'id']],
  ['instance_actions_updated_idx', ['updated_at', 'id']],
  ['instance_actions_project_updated_idx', ['project_id', 'updated_at', 'id']],
  ['instance_actions_user_updated_idx', ['user_id', 'updated_at', 'id']],
  ['instance_actions_action_updated_idx', ['action', 'updated_at', 'id']],
  // Unfinished actions (finish_time IS NULL) newest first: result=running and state=stuck.
  ['instance_actions_unfinished_idx', ['finish_time', 'start_time', 'id']],
]

/** (index name, columns) of instance_actions_events added by this migration. */
export const EVENT_INDEXES: readonly [string, string[]][] = [
  ['instance_actions_events_start_idx', ['start_time', 'id']],
  ['instance_actions_events_changed_idx', ['changed_at', 'id']],
  ['instance_actions_events_owner_start_idx', ['owner_project_id', 'start_time', 'id']],
  ['instance_actions_events_owner_changed_idx', ['owner_project_id', 'changed_at', 'id']],
  ['instance_actions_events_instance_start_idx', ['instance_uuid', 'start_time', 'id']],
  ['instance_actions_events_event_start_idx', ['event', 'start_time', 'id']],
  ['instance_actions_events_unfinished_idx', ['finish_time', 'start_time', 'id']],
]

/** Migration 0005. */
export const queryOwnerEvents: Migration = {
  async up(db: Kysely<unknown>) {
    const t = await columnTypes(db)
    await addFilledColumn(
      db,
      t,
      'instance_actions',
      'owner_project_id',
      t.name(255),
      sql`UPDATE instance_actions SET owner_project_id = (SELECT i.project_id FROM instances i
        WHERE i.uuid = instance_actions.instance_uuid)`,
    )
    // The write programs always set updated_at (action_start sets it to start_time); a row from
    // elsewhere without one is given its start time, so time_field=updated_at never skips it.
    await sql`UPDATE instance_actions SET updated_at = start_time WHERE updated_at IS NULL`.execute(
      db,
    )
    const parent = (column: string) =>
      sql`(SELECT a.${sql.ref(column)} FROM instance_actions a
        WHERE a.id = instance_actions_events.action_id)`
    await addFilledColumn(
      db,
      t,
      'instance_actions_events',
      'instance_uuid',
      t.name(36),
      sql`UPDATE instance_actions_events SET instance_uuid = ${parent('instance_uuid')}`,
    )
    await addFilledColumn(
      db,
      t,
      'instance_actions_events',
      'owner_project_id',
      t.name(255),
      sql`UPDATE instance_actions_events SET owner_project_id = ${parent('owner_project_id')}`,
    )
    // An event's updated_at is NULL until it finishes (as in Nova); `changed_at` is updated_at or,
    // before that, start_time: the time time_field=updated_at windows and orders events by.
    await addFilledColumn(
      db,
      t,
      'instance_actions_events',
      'changed_at',
      t.time,
      sql`UPDATE instance_actions_events SET changed_at = COALESCE(updated_at, start_time)`,
    )
    for (const [name, columns] of ACTION_INDEXES)
      await db.schema.createIndex(name).on('instance_actions').columns(columns).execute()
    for (const [name, columns] of EVENT_INDEXES)
      await db.schema.createIndex(name).on('instance_actions_events').columns(columns).execute()
  },
  async down(db: Kysely<unknown>) {
    for (const [name] of EVENT_INDEXES) await dropIndex(db, 'instance_actions_events', name)
    for (const [name] of ACTION_INDEXES) await dropIndex(db, 'instance_actions', name)
    for (const column of ['changed_at', 'owner_project_id', 'instance_uuid'])
      await db.schema.alterTable('instance_actions_events').dropColumn(column).execute()
    await db.schema.alterTable('instance_actions').dropColumn('owner_project_id').execute()
  },
}
