/**
 * `GET /v1/events` filters on the parent action's fields (`action`, `project`, `user`) as index
 * ranges (issue 10's targets missed at 1M actions, docs/benchmarks.md): the action's name, project
 * and user are copied onto its events, and each of those, with `host` and `result`, starts an
 * index in (filter, start_time, id) order, so a page of matches is read newest first without
 * walking the non-matching events. Before, they were checked on the parent row while walking the
 * events' time index: SQLite `?action=` 2.5 s a page, `?host=` 1.35 s. Actions get
 * (message, start_time, id) for `result=error` (message = 'Error' on about 1 % of them).
 *
 * Only start_time orders: the (filter, changed_at, id) variants would cost every event finish
 * (changed_at moves then) an update of each, and `time_field=updated_at` with these filters is
 * not among the documented queries of docs/operations.md; see the measurement in
 * {@link EVENT_INDEXES}.
 *
 * The copies are kept by the write programs (src/store/write/write-programs.ts): event_start reads
 * them from the parent in its INSERT. An action's name, project and user never change after its
 * start (a repeated start with another name is refused), so no other write touches them.
 */
import { sql, type Kysely, type Migration } from 'kysely'
import { columnTypes } from './column-types.js'
import { dropIndex } from './drop-index.js'
import { addFilledColumn } from './filled-column.js'

/**
 * (index name, columns) of instance_actions_events added by this migration. The host index of
 * migration 0004, (host, action_id), stays: it is the actions' `host` lookup per action.
 */
export const EVENT_INDEXES: readonly [string, string[]][] = [
  ['instance_actions_events_action_name_start_idx', ['action_name', 'start_time', 'id']],
  ['instance_actions_events_project_start_idx', ['project_id', 'start_time', 'id']],
  ['instance_actions_events_user_start_idx', ['user_id', 'start_time', 'id']],
  ['instance_actions_events_host_start_idx', ['host', 'start_time', 'id']],
  ['instance_actions_events_result_start_idx', ['result', 'start_time', 'id']],
]

/** (index name, columns) of instance_actions added by this migration: `result=error`. */
export const ACTION_INDEXES: readonly [string, string[]][] = [
  ['instance_actions_message_start_idx', ['message', 'start_time', 'id']],
]

/** The copied columns: (event column, the parent action's column, nullable there). */
const COPIES: readonly [string, string, boolean][] = [
  ['action_name', 'action', false],
  ['project_id', 'project_id', true],
  ['user_id', 'user_id', true],
]

/** Migration 0008. */
export const eventParentFields: Migration = {
  async up(db: Kysely<unknown>) {
    const t = await columnTypes(db)
    for (const [column, parent, nullable] of COPIES)
      await addFilledColumn(
        db,
        t,
        'instance_actions_events',
        column,
        t.name(255),
        sql`UPDATE instance_actions_events SET ${sql.ref(column)} = (SELECT a.${sql.ref(parent)}
          FROM instance_actions a WHERE a.id = instance_actions_events.action_id)`,
        { nullable },
      )
    for (const [name, columns] of EVENT_INDEXES)
      await db.schema.createIndex(name).on('instance_actions_events').columns(columns).execute()
    for (const [name, columns] of ACTION_INDEXES)
      await db.schema.createIndex(name).on('instance_actions').columns(columns).execute()
  },
  async down(db: Kysely<unknown>) {
    for (const [name] of ACTION_INDEXES) await dropIndex(db, 'instance_actions', name)
    for (const [name] of EVENT_INDEXES) await dropIndex(db, 'instance_actions_events', name)
    for (const [column] of COPIES)
      await db.schema.alterTable('instance_actions_events').dropColumn(column).execute()
  },
}
