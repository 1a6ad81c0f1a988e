/**
 * Writer tags (issue 11 part 5): who wrote each action and event, as a keyed tag of the writing
 * principal's user id (never the id itself), and the key of that tag. The key lives in the
 * database, created once here at random, so every node on the database and every restart tags the
 * same writer the same way without an operator having to distribute a secret; rows written before
 * this migration keep null tags.
 */
import { randomBytes } from 'node:crypto'
import type { Kysely, Migration } from 'kysely'
import { columnTypes } from './column-types.js'

/** Length of a tag (`w:` + 16 hex digits). */
const TAG_LENGTH = 18

/** Migration 0007. */
export const writerTags: Migration = {
  async up(db: Kysely<unknown>) {
    const t = await columnTypes(db)
    await db.schema
      .alterTable('instance_actions')
      .addColumn('written_by', t.name(TAG_LENGTH))
      .execute()
    await db.schema
      .alterTable('instance_actions_events')
      .addColumn('written_by', t.name(TAG_LENGTH))
      .execute()
    await db.schema
      .alterTable('instance_actions_events')
      .addColumn('finished_by', t.name(TAG_LENGTH))
      .execute()
    await t
      .table(db.schema.createTable('writer_tag_key'))
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('tag_key', t.name(64), (c) => c.notNull())
      .execute()
    await (db as Kysely<{ writer_tag_key: { id: number; tag_key: string } }>)
      .insertInto('writer_tag_key')
      .values({ id: 1, tag_key: randomBytes(32).toString('hex') })
      .execute()
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('writer_tag_key').execute()
    await db.schema.alterTable('instance_actions_events').dropColumn('finished_by').execute()
    await db.schema.alterTable('instance_actions_events').dropColumn('written_by').execute()
    await db.schema.alterTable('instance_actions').dropColumn('written_by').execute()
  },
}
