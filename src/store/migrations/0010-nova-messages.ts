/**
 * Seen Nova notification ids (issue 12): the follower records each notification's `message_id` in
 * the same transaction as the writes it implied, so that a message redelivered after a crash
 * between the commit and the AMQP ack is recognised and not applied twice. `seen_at` is indexed so
 * that retention can prune old ids: RabbitMQ redelivers within minutes and publisher retries come
 * within the outage they retry over, so a window of a few days (the spec's §5.3) is ample.
 */
import type { Kysely, Migration } from 'kysely'
import { columnTypes } from './column-types.js'

/** Length of a Nova message id: a UUID with dashes (longer ids are refused before the store). */
export const MESSAGE_ID_LENGTH = 64

/** Migration 0010. */
export const novaMessages: Migration = {
  async up(db: Kysely<unknown>) {
    const t = await columnTypes(db)
    await t
      .table(db.schema.createTable('nova_messages'))
      .addColumn('message_id', t.name(MESSAGE_ID_LENGTH), (c) => c.primaryKey())
      .addColumn('seen_at', t.time, (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('nova_messages_seen_idx')
      .on('nova_messages')
      .column('seen_at')
      .execute()
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('nova_messages').execute()
  },
}
