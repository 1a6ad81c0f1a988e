/**
 * Retention (issue 13): Nova's shadow tables and the lease of the periodic retention job.
 *
 * `actiontrail archive` (and the server's retention policy) MOVES an instance deleted before a
 * cut-off, with its actions and their events, into `shadow_instances`, `shadow_instance_actions`
 * and `shadow_instance_actions_events`: the same columns, the same ids, no generated keys and no
 * foreign keys (a shadow row is a copy; its parent may be purged first or not archived yet, as in
 * Nova's shadow tables). `actiontrail purge` deletes shadow rows. The write programs are in
 * store/write/retention-programs.ts; docs/operations.md, "Retention", says what moves where.
 *
 * Indexes: the archive program finds its instances through `instances (deleted_at)`; the
 * archived reads (`archived=true` on GET /v1/actions and /v1/events) support only the filters
 * whose index is listed below ({@link SHADOW_ACTION_INDEXES}, {@link SHADOW_EVENT_INDEXES}), each
 * `(filter, start_time, id)` so that a page is an index range read newest first (checked by
 * EXPLAIN in test/store/action-search.contract.test.ts); purge finds shadow instances by
 * `deleted_at` and their rows by instance and action.
 *
 * `retention_lease` has one row per job: the node whose `holder` is written there with an
 * `expires_at` in the future runs the job; others take it over only once it has expired (a
 * conditional UPDATE, store/retention-store.ts).
 */
import { sql, type Kysely, type Migration } from 'kysely'
import { columnTypes } from './column-types.js'
import { dropIndex } from './drop-index.js'

/** Columns of instances, in the order both tables have them. */
export const INSTANCE_COLUMNS = [
  'uuid',
  'name',
  'project_id',
  'user_id',
  'created_at',
  'updated_at',
  'deleted_at',
] as const

/** Columns of instance_actions that shadow_instance_actions copies. */
export const ACTION_COLUMNS = [
  'id',
  'instance_uuid',
  'action',
  'request_id',
  'user_id',
  'project_id',
  'start_time',
  'finish_time',
  'message',
  'created_at',
  'updated_at',
  'owner_project_id',
  'written_by',
] as const

/** Columns of instance_actions_events that shadow_instance_actions_events copies. */
export const EVENT_COLUMNS = [
  'id',
  'action_id',
  'event',
  'start_time',
  'finish_time',
  'result',
  'traceback',
  'host',
  'details',
  'created_at',
  'updated_at',
  'instance_uuid',
  'owner_project_id',
  'changed_at',
  'action_name',
  'project_id',
  'user_id',
  'written_by',
  'finished_by',
] as const

/** (index name, columns) of shadow_instance_actions: the archived action searches' indexes. */
export const SHADOW_ACTION_INDEXES: readonly [string, string[]][] = [
  ['shadow_instance_actions_start_idx', ['start_time', 'id']],
  ['shadow_instance_actions_instance_start_idx', ['instance_uuid', 'start_time', 'id']],
  ['shadow_instance_actions_owner_start_idx', ['owner_project_id', 'start_time', 'id']],
  ['shadow_instance_actions_request_idx', ['request_id']],
]

/** (index name, columns) of shadow_instance_actions_events: the archived event searches' indexes. */
export const SHADOW_EVENT_INDEXES: readonly [string, string[]][] = [
  ['shadow_instance_actions_events_start_idx', ['start_time', 'id']],
  ['shadow_instance_actions_events_instance_start_idx', ['instance_uuid', 'start_time', 'id']],
  ['shadow_instance_actions_events_owner_start_idx', ['owner_project_id', 'start_time', 'id']],
  // Purge deletes an action's events, and request_id searches reach events, by action.
  ['shadow_instance_actions_events_action_idx', ['action_id']],
]

/** Migration 0012. */
export const retention: Migration = {
  async up(db: Kysely<unknown>) {
    const t = await columnTypes(db)
    // The archive program's candidates: instances deleted before the cut-off, oldest first.
    await db.schema
      .createIndex('instances_deleted_idx')
      .on('instances')
      .columns(['deleted_at', 'uuid'])
      .execute()

    await t
      .table(db.schema.createTable('shadow_instances'))
      .addColumn('uuid', t.name(36), (c) => c.primaryKey())
      .addColumn('name', t.name(255), (c) => c.notNull())
      .addColumn('project_id', t.name(255), (c) => c.notNull())
      .addColumn('user_id', t.name(255), (c) => c.notNull())
      .addColumn('created_at', t.time, (c) => c.notNull())
      .addColumn('updated_at', t.time, (c) => c.notNull())
      .addColumn('deleted_at', t.time)
      .execute()
    await db.schema
      .createIndex('shadow_instances_deleted_idx')
      .on('shadow_instances')
      .columns(['deleted_at', 'uuid'])
      .execute()

    await t
      .table(db.schema.createTable('shadow_instance_actions'))
      .addColumn('id', t.key, (c) => c.primaryKey())
      .addColumn('instance_uuid', t.name(36), (c) => c.notNull())
      .addColumn('action', t.name(255), (c) => c.notNull())
      .addColumn('request_id', t.name(255), (c) => c.notNull())
      .addColumn('user_id', t.name(255))
      .addColumn('project_id', t.name(255))
      .addColumn('start_time', t.time, (c) => c.notNull())
      .addColumn('finish_time', t.time)
      .addColumn('message', t.name(255))
      .addColumn('created_at', t.time, (c) => c.notNull())
      .addColumn('updated_at', t.time)
      .addColumn('owner_project_id', t.name(255), (c) => c.notNull())
      .addColumn('written_by', t.name(18))
      .execute()
    for (const [name, columns] of SHADOW_ACTION_INDEXES)
      await db.schema.createIndex(name).on('shadow_instance_actions').columns(columns).execute()

    await t
      .table(db.schema.createTable('shadow_instance_actions_events'))
      .addColumn('id', t.key, (c) => c.primaryKey())
      .addColumn('action_id', t.key, (c) => c.notNull())
      .addColumn('event', t.name(255), (c) => c.notNull())
      .addColumn('start_time', t.time, (c) => c.notNull())
      .addColumn('finish_time', t.time)
      .addColumn('result', t.name(255))
      .addColumn('traceback', t.longText)
      .addColumn('host', t.name(255))
      .addColumn('details', t.longText)
      .addColumn('created_at', t.time, (c) => c.notNull())
      .addColumn('updated_at', t.time)
      .addColumn('instance_uuid', t.name(36), (c) => c.notNull())
      .addColumn('owner_project_id', t.name(255), (c) => c.notNull())
      // Empty for an unfinished event on SQLite's filled column (migration 0005); a time elsewhere.
      .addColumn('changed_at', t.time)
      .addColumn('action_name', t.name(255), (c) => c.notNull())
      .addColumn('project_id', t.name(255))
      .addColumn('user_id', t.name(255))
      .addColumn('written_by', t.name(18))
      .addColumn('finished_by', t.name(18))
      .execute()
    for (const [name, columns] of SHADOW_EVENT_INDEXES)
      await db.schema
        .createIndex(name)
        .on('shadow_instance_actions_events')
        .columns(columns)
        .execute()

    await t
      .table(db.schema.createTable('retention_lease'))
      .addColumn('name', t.name(32), (c) => c.primaryKey())
      .addColumn('holder', t.name(64), (c) => c.notNull())
      .addColumn('expires_at', t.time, (c) => c.notNull())
      .execute()
    // The row exists from the start, so taking the lease is always an UPDATE (never an INSERT
    // race between nodes); an expired time lets the first node take it.
    await sql`INSERT INTO retention_lease (name, holder, expires_at)
      VALUES ('retention', '', ${'1970-01-01T00:00:00.000000'})`.execute(db)
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('retention_lease').execute()
    await db.schema.dropTable('shadow_instance_actions_events').execute()
    await db.schema.dropTable('shadow_instance_actions').execute()
    await db.schema.dropTable('shadow_instances').execute()
    await dropIndex(db, 'instances', 'instances_deleted_idx')
  },
}
