/**
 * The hash chain (issue 13, tamper evidence): every change row carries the digest of its record and
 * a link over the previous one (security/chain/), the head row keeps the last link, and signed
 * checkpoints (chain/checkpoints.ts) pin the chain at points in time.
 *
 * Existing history is sealed here (chain/seal-chain.ts sealHistory): one entry per existing action
 * and event, in bounded batches, so that an upgraded database verifies. The link columns are
 * nullable: change rows written before the chain have none.
 */
import type { Kysely, Migration } from 'kysely'
import { runPlainProgram } from '../chain/run-plain-program.js'
import { sealHistory } from '../chain/seal-chain.js'
import { columnTypes } from './column-types.js'

/** Hex SHA-256 (digests and links). */
const HEX_LENGTH = 64

/** Migration 0013. */
export const hashChain: Migration = {
  async up(db: Kysely<unknown>) {
    const t = await columnTypes(db)
    await db.schema.alterTable('changes').addColumn('digest', t.name(HEX_LENGTH)).execute()
    await db.schema.alterTable('changes').addColumn('link', t.name(HEX_LENGTH)).execute()
    await db.schema.alterTable('change_head').addColumn('link', t.name(HEX_LENGTH)).execute()
    await t
      .table(db.schema.createTable('checkpoints'))
      .addColumn('id', t.key, (c) => t.generatedKey(c))
      .addColumn('position', 'bigint', (c) => c.notNull())
      .addColumn('link', t.name(HEX_LENGTH), (c) => c.notNull())
      .addColumn('created_at', t.time, (c) => c.notNull())
      // 'periodic', 'manual', 'archive' or 'purge'.
      .addColumn('reason', t.name(16), (c) => c.notNull())
      // JSON: what the checkpoint summarises (e.g. the counts an archive or purge removed).
      .addColumn('summary', t.longText, (c) => c.notNull())
      // Which public key verifies it (hex SHA-256 of the key's DER), and the Ed25519 signature
      // (base64) over its canonical payload (security/chain/checkpoint-signature.ts).
      .addColumn('key_id', t.name(HEX_LENGTH), (c) => c.notNull())
      .addColumn('signature', t.name(128), (c) => c.notNull())
      .execute()
    await runPlainProgram(db, sealHistory())
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('checkpoints').execute()
    await db.schema.alterTable('change_head').dropColumn('link').execute()
    await db.schema.alterTable('changes').dropColumn('link').execute()
    await db.schema.alterTable('changes').dropColumn('digest').execute()
  },
}
