/** Initial schema: instances, actions (unique per instance and request id) and events. */
import type { Kysely, Migration } from 'kysely'

/** Migration 0001. Timestamps are canonical UTC strings (see domain/timestamp.ts). */
export const init: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('instances')
      .addColumn('uuid', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(26)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(26)', (c) => c.notNull())
      .addColumn('deleted_at', 'varchar(26)')
      .execute()
    await db.schema.createIndex('instances_project_name_idx').on('instances').columns(['project_id', 'name']).execute()
    await db.schema.createIndex('instances_name_idx').on('instances').column('name').execute()

    await db.schema
      .createTable('instance_actions')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('instance_uuid', 'varchar(36)', (c) => c.notNull().references('instances.uuid'))
      .addColumn('action', 'varchar(255)', (c) => c.notNull())
      .addColumn('request_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)')
      .addColumn('project_id', 'varchar(255)')
      .addColumn('start_time', 'varchar(26)', (c) => c.notNull())
      .addColumn('finish_time', 'varchar(26)')
      .addColumn('message', 'varchar(255)')
      .addColumn('created_at', 'varchar(26)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(26)')
      .addUniqueConstraint('instance_actions_instance_request_uq', ['instance_uuid', 'request_id'])
      .execute()
    // Newest-first keyset listing per instance, and changes-since/-before windows.
    await db.schema
      .createIndex('instance_actions_instance_created_idx')
      .on('instance_actions')
      .columns(['instance_uuid', 'created_at', 'id'])
      .execute()
    await db.schema
      .createIndex('instance_actions_instance_updated_idx')
      .on('instance_actions')
      .columns(['instance_uuid', 'updated_at'])
      .execute()

    await db.schema
      .createTable('instance_actions_events')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('action_id', 'integer', (c) => c.notNull().references('instance_actions.id'))
      .addColumn('event', 'varchar(255)', (c) => c.notNull())
      .addColumn('start_time', 'varchar(26)', (c) => c.notNull())
      .addColumn('finish_time', 'varchar(26)')
      .addColumn('result', 'varchar(255)')
      .addColumn('traceback', 'text')
      .addColumn('host', 'varchar(255)')
      .addColumn('details', 'text')
      .addColumn('created_at', 'varchar(26)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(26)')
      .execute()
    await db.schema
      .createIndex('instance_actions_events_action_event_idx')
      .on('instance_actions_events')
      .columns(['action_id', 'event'])
      .execute()
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('instance_actions_events').execute()
    await db.schema.dropTable('instance_actions').execute()
    await db.schema.dropTable('instances').execute()
  },
}
