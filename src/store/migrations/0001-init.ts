/** Initial schema: instances, actions (unique per instance and request id) and events. */
import type { Kysely, Migration } from 'kysely'
import { columnTypes } from './column-types.js'

/**
 * Migration 0001. On SQLite timestamps are canonical UTC strings (see domain/timestamp.ts); the
 * server databases use native microsecond types (see column-types.ts).
 */
export const init: Migration = {
  async up(db: Kysely<unknown>) {
    const t = await columnTypes(db)
    // SQLite has always declared its foreign keys inline. MySQL ignores inline REFERENCES, so the
    // server databases get table constraints instead.
    const inlineKeys = t.dialect === 'sqlite'

    await t
      .table(db.schema.createTable('instances'))
      .addColumn('uuid', t.name(36), (c) => c.primaryKey())
      .addColumn('name', t.name(255), (c) => c.notNull())
      .addColumn('project_id', t.name(255), (c) => c.notNull())
      .addColumn('user_id', t.name(255), (c) => c.notNull())
      .addColumn('created_at', t.time, (c) => c.notNull())
      .addColumn('updated_at', t.time, (c) => c.notNull())
      .addColumn('deleted_at', t.time)
      .execute()
    await db.schema
      .createIndex('instances_project_name_idx')
      .on('instances')
      .columns(['project_id', 'name'])
      .execute()
    await db.schema.createIndex('instances_name_idx').on('instances').column('name').execute()

    let actions = t
      .table(db.schema.createTable('instance_actions'))
      .addColumn('id', t.key, (c) => t.generatedKey(c))
      .addColumn('instance_uuid', t.name(36), (c) =>
        inlineKeys ? c.notNull().references('instances.uuid') : c.notNull(),
      )
      .addColumn('action', t.name(255), (c) => c.notNull())
      .addColumn('request_id', t.name(255), (c) => c.notNull())
      .addColumn('user_id', t.name(255))
      .addColumn('project_id', t.name(255))
      .addColumn('start_time', t.time, (c) => c.notNull())
      .addColumn('finish_time', t.time)
      .addColumn('message', t.name(255))
      .addColumn('created_at', t.time, (c) => c.notNull())
      .addColumn('updated_at', t.time)
      .addUniqueConstraint('instance_actions_instance_request_uq', ['instance_uuid', 'request_id'])
    if (!inlineKeys)
      actions = actions.addForeignKeyConstraint(
        'instance_actions_instance_fk',
        ['instance_uuid'],
        'instances',
        ['uuid'],
      )
    await actions.execute()
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

    let events = t
      .table(db.schema.createTable('instance_actions_events'))
      .addColumn('id', t.key, (c) => t.generatedKey(c))
      .addColumn('action_id', t.key, (c) =>
        inlineKeys ? c.notNull().references('instance_actions.id') : c.notNull(),
      )
      .addColumn('event', t.name(255), (c) => c.notNull())
      .addColumn('start_time', t.time, (c) => c.notNull())
      .addColumn('finish_time', t.time)
      .addColumn('result', t.name(255))
      .addColumn('traceback', t.longText)
      .addColumn('host', t.name(255))
      .addColumn('details', t.longText)
      .addColumn('created_at', t.time, (c) => c.notNull())
      .addColumn('updated_at', t.time)
    if (!inlineKeys)
      events = events.addForeignKeyConstraint(
        'instance_actions_events_action_fk',
        ['action_id'],
        'instance_actions',
        ['id'],
      )
    await events.execute()
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
