/**
 * The IdempotencyStore on Kysely, over the same opened database as the ActionStore (one SQLite
 * connection or one server pool for both). It owns no connection: closing the database (the
 * ActionStore's close) ends it too.
 */
import { sql } from 'kysely'
import type { Timestamp } from '../domain/timestamp.js'
import type { IdempotencyRecord, IdempotencyStore } from './idempotency-store.js'
import { canonicalTime } from './rows.js'
import { isStorableKey, withMappedErrors, type StoreDatabase } from './store-database.js'

/** IdempotencyStore over any Kysely dialect. */
export class KyselyIdempotencyStore implements IdempotencyStore {
  readonly #database: StoreDatabase

  constructor(database: StoreDatabase) {
    this.#database = database
  }

  async get(keyHash: string): Promise<IdempotencyRecord | undefined> {
    if (!isStorableKey(this.#database, keyHash)) return undefined
    const { db } = this.#database
    const row = await withMappedErrors(this.#database, () =>
      db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('key_hash', '=', keyHash)
        .executeTakeFirst(),
    )
    return (
      row && {
        keyHash: row.key_hash,
        requestHash: row.request_hash,
        status: Number(row.status),
        body: row.body,
        createdAt: canonicalTime(row.created_at),
      }
    )
  }

  async put(r: IdempotencyRecord): Promise<void> {
    const insert = this.#database.db.insertInto('idempotency_keys').values({
      key_hash: r.keyHash,
      request_hash: r.requestHash,
      status: r.status,
      body: r.body,
      created_at: r.createdAt,
    })
    // First writer wins. MySQL has no ON CONFLICT; a no-op ON DUPLICATE KEY UPDATE keeps the
    // existing row without INSERT IGNORE's habit of turning other errors into warnings.
    await withMappedErrors(this.#database, () =>
      (this.#database.dialect === 'mysql'
        ? insert.onDuplicateKeyUpdate({ key_hash: sql.ref('key_hash') })
        : insert.onConflict((oc) => oc.column('key_hash').doNothing())
      ).execute(),
    )
  }

  async purge(before: Timestamp): Promise<number> {
    const { db } = this.#database
    const result = await withMappedErrors(this.#database, () =>
      db.deleteFrom('idempotency_keys').where('created_at', '<', before).executeTakeFirst(),
    )
    return Number(result.numDeletedRows)
  }
}
