/** Remembered answers to write requests sent with an Idempotency-Key (kept 24 hours). */
import type { Kysely, Migration } from 'kysely'
import { columnTypes } from './column-types.js'

/** Migration 0002. */
export const idempotency: Migration = {
  async up(db: Kysely<unknown>) {
    const t = await columnTypes(db)
    await t
      .table(db.schema.createTable('idempotency_keys'))
      .addColumn('key_hash', t.name(64), (c) => c.primaryKey())
      .addColumn('request_hash', t.name(64), (c) => c.notNull())
      .addColumn('status', 'integer', (c) => c.notNull())
      .addColumn('body', t.longText, (c) => c.notNull())
      .addColumn('created_at', t.time, (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('idempotency_keys_created_idx')
      .on('idempotency_keys')
      .column('created_at')
      .execute()
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('idempotency_keys').execute()
  },
}
