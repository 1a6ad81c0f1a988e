/**
 * Pending request faults of the Nova follower (issue 12, spec nova-notifications.md §2.5, §5.4): a
 * `compute.exception` names no instance and no method, only its request (`_context_request_id`)
 * and the host that raised it. Its failure is kept here, keyed by (request id, host), so that it
 * fails the `compute_*` events of that request on that host whichever arrives first: the event
 * merges read this row (a primary key lookup) and the exception's own write fails the events
 * already there. `seen_at` is indexed so that retention can prune old rows, as nova_messages'
 * (migration 0010): once a request's notifications have all arrived its row is no longer needed.
 */
import type { Kysely, Migration } from 'kysely'
import { columnTypes } from './column-types.js'

/** Migration 0011. */
export const novaRequestFaults: Migration = {
  async up(db: Kysely<unknown>) {
    const t = await columnTypes(db)
    await t
      .table(db.schema.createTable('nova_request_faults'))
      .addColumn('request_id', t.name(255), (c) => c.notNull())
      .addColumn('host', t.name(255), (c) => c.notNull())
      // The latest exception of (request, host): the events it fails are those started by then.
      .addColumn('failed_at', t.time, (c) => c.notNull())
      // Sanitized (details capped at 255 bytes) before they reach the store.
      .addColumn('details', t.longText)
      .addColumn('traceback', t.longText)
      .addColumn('seen_at', t.time, (c) => c.notNull())
      .addPrimaryKeyConstraint('nova_request_faults_pk', ['request_id', 'host'])
      .execute()
    await db.schema
      .createIndex('nova_request_faults_seen_idx')
      .on('nova_request_faults')
      .column('seen_at')
      .execute()
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('nova_request_faults').execute()
  },
}
