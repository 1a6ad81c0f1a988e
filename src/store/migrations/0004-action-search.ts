/**
 * Indexes for the cross-instance query API (`GET /v1/actions`, issue 10): every documented filter
 * starts an index range in (filter, start_time, id) order, so a page is read newest first without
 * sorting or scanning the whole table; `host` is looked up per action through the events' host index.
 */
import type { Kysely, Migration } from 'kysely'
import { dropIndex } from './drop-index.js'

/** (index name, columns) of instance_actions added by this migration. */
export const ACTION_INDEXES: readonly [string, string[]][] = [
  ['instance_actions_start_idx', ['start_time', 'id']],
  ['instance_actions_project_start_idx', ['project_id', 'start_time', 'id']],
  ['instance_actions_user_start_idx', ['user_id', 'start_time', 'id']],
  ['instance_actions_action_start_idx', ['action', 'start_time', 'id']],
  ['instance_actions_request_idx', ['request_id']],
  ['instance_actions_instance_start_idx', ['instance_uuid', 'start_time', 'id']],
]

/** Migration 0004. */
export const actionSearch: Migration = {
  async up(db: Kysely<unknown>) {
    for (const [name, columns] of ACTION_INDEXES)
      await db.schema.createIndex(name).on('instance_actions').columns(columns).execute()
    await db.schema
      .createIndex('instance_actions_events_host_idx')
      .on('instance_actions_events')
      .columns(['host', 'action_id'])
      .execute()
  },
  async down(db: Kysely<unknown>) {
    await dropIndex(db, 'instance_actions_events', 'instance_actions_events_host_idx')
    for (const [name] of ACTION_INDEXES) await dropIndex(db, 'instance_actions', name)
  },
}
