/**
 * Size caps for remembered answers (issue 9): answers are stored compressed, a marker row may keep
 * only the request digest and status of an answer too large to keep, and each caller's usage is
 * counted per hour slice. Existing rows stay readable as they are (`body_encoding` 'text').
 */
import type { Kysely, Migration } from 'kysely'
import { columnTypes } from './column-types.js'

/** Migration 0003. */
export const idempotencyCaps: Migration = {
  async up(db: Kysely<unknown>) {
    const t = await columnTypes(db)
    // One column per statement: SQLite's ALTER TABLE adds one at a time.
    // 'text': `body` holds the answer (rows from before this migration); 'deflate-raw':
    // `body_stored` holds it compressed; 'dropped': the answer was too large and is not kept.
    await db.schema
      .alterTable('idempotency_keys')
      .addColumn('body_encoding', t.name(16), (c) => c.notNull().defaultTo('text'))
      .execute()
    await db.schema.alterTable('idempotency_keys').addColumn('body_stored', t.bytes).execute()
    await db.schema
      .alterTable('idempotency_keys')
      .addColumn('stored_bytes', 'integer', (c) => c.notNull().defaultTo(0))
      .execute()
    await t
      .table(db.schema.createTable('idempotency_usage'))
      .addColumn('caller_hash', t.name(64), (c) => c.notNull())
      .addColumn('slice_start', t.time, (c) => c.notNull())
      .addColumn('stored_bytes', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_usage_pk', ['caller_hash', 'slice_start'])
      .execute()
    await db.schema
      .createIndex('idempotency_usage_slice_idx')
      .on('idempotency_usage')
      .column('slice_start')
      .execute()
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('idempotency_usage').execute()
    await db.schema.alterTable('idempotency_keys').dropColumn('stored_bytes').execute()
    await db.schema.alterTable('idempotency_keys').dropColumn('body_stored').execute()
    await db.schema.alterTable('idempotency_keys').dropColumn('body_encoding').execute()
  },
}
