/**
 * The change feed behind `GET /v1/stream` (issue 10): one row per change to an action or event,
 * at a durable position shared by every node on the database, and a one-row counter that hands
 * positions out in commit order (write/change-feed.ts explains why a sequence would not do).
 */
import { sql, type Kysely, type Migration } from 'kysely'
import { columnTypes } from './column-types.js'

/** Migration 0006. */
export const changeFeed: Migration = {
  async up(db: Kysely<unknown>) {
    const t = await columnTypes(db)
    await t
      .table(db.schema.createTable('change_head'))
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('last', 'bigint', (c) => c.notNull())
      .execute()
    await sql`INSERT INTO change_head (id, last) VALUES (1, 0)`.execute(db)
    // The primary key serves both the readers (`position > ? ORDER BY position LIMIT k`, one range
    // scan) and pruning (issue 13: `DELETE … WHERE position <= ?`, a range from the start), so
    // there is no other index; created_at lets the pruner find the position for a retention time
    // by a bounded walk from the oldest row.
    await t
      .table(db.schema.createTable('changes'))
      .addColumn('position', 'bigint', (c) => c.primaryKey())
      .addColumn('kind', t.name(8), (c) => c.notNull())
      .addColumn('action_id', t.key, (c) => c.notNull())
      .addColumn('event_id', t.key)
      .addColumn('instance_uuid', t.name(36), (c) => c.notNull())
      .addColumn('owner_project', t.name(255), (c) => c.notNull())
      .addColumn('created_at', t.time, (c) => c.notNull())
      .execute()
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('changes').execute()
    await db.schema.dropTable('change_head').execute()
  },
}
