/**
 * The IdempotencyStore on Kysely, over the same opened database as the ActionStore (one SQLite
 * connection or one server pool for both). It owns no connection: closing the database (the
 * ActionStore's close) ends it too.
 *
 * Every statement stands alone (no transaction): on SQLite, writes of the audit trail run on the
 * same connection through the synchronous write executor, never inside a Kysely transaction. The
 * order of the two writes of `put` is chosen so that a failure between them can only count a
 * caller's usage too high (refusing them early), never too low.
 */
import { sql } from 'kysely'
import { fromEpochMicros, toEpochMicros, type Timestamp } from '../domain/timestamp.js'
import { deflateText, inflateText } from './deflated-text.js'
import {
  USAGE_SLICE_MICROS,
  type IdempotencyRecord,
  type IdempotencyStore,
  type NewIdempotencyRecord,
  type PutLimits,
  type PutOutcome,
  type UsageSlice,
} from './idempotency-store.js'
import { canonicalTime } from './rows.js'
import { isStorableKey, withMappedErrors, type StoreDatabase } from './store-database.js'

// How a row keeps its answer (the body_encoding column, migration 0003).
const TEXT = 'text'
const DEFLATED = 'deflate-raw'
const DROPPED = 'dropped'

function sliceStart(createdAt: Timestamp): Timestamp {
  const micros = toEpochMicros(createdAt)
  return fromEpochMicros(micros - (micros % USAGE_SLICE_MICROS))
}

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
    if (!row) return undefined
    let body: string | undefined
    let storedBytes = Number(row.stored_bytes)
    if (row.body_encoding === DEFLATED && row.body_stored) {
      body = await inflateText(row.body_stored)
    } else if (row.body_encoding === TEXT) {
      body = row.body
      storedBytes = Buffer.byteLength(row.body, 'utf8')
    }
    return {
      keyHash: row.key_hash,
      requestHash: row.request_hash,
      status: Number(row.status),
      body,
      storedBytes,
      createdAt: canonicalTime(row.created_at),
    }
  }

  async put(r: NewIdempotencyRecord, limits: PutLimits): Promise<PutOutcome> {
    const deflated = await deflateText(r.body)
    const kept = deflated.length <= limits.maxStoredBytes
    const chargedBytes = limits.recordOverheadBytes + (kept ? deflated.length : 0)
    const slice = sliceStart(r.createdAt)
    // Counted first: if the record's insert then fails, the caller is only charged too much.
    await this.#charge(r.callerHash, slice, chargedBytes)
    const insert = this.#database.db.insertInto('idempotency_keys').values({
      key_hash: r.keyHash,
      request_hash: r.requestHash,
      status: r.status,
      body: '',
      body_encoding: kept ? DEFLATED : DROPPED,
      body_stored: kept ? deflated : null,
      stored_bytes: deflated.length,
      created_at: r.createdAt,
    })
    // First writer wins. MySQL has no ON CONFLICT; a no-op ON DUPLICATE KEY UPDATE keeps the
    // existing row without INSERT IGNORE's habit of turning other errors into warnings.
    const result = await withMappedErrors(this.#database, () =>
      (this.#database.dialect === 'mysql'
        ? insert.onDuplicateKeyUpdate({ key_hash: sql.ref('key_hash') })
        : insert.onConflict((oc) => oc.column('key_hash').doNothing())
      ).executeTakeFirst(),
    )
    // Another node remembered this key first: its record is the one counted.
    if (!(await this.#inserted(r, Number(result.numInsertedOrUpdatedRows ?? 0n))))
      await this.#charge(r.callerHash, slice, -chargedBytes)
    return { kept, storedBytes: deflated.length, chargedBytes }
  }

  // Whether `put`'s insert wrote the row. mysql2 connects with FOUND_ROWS, so a no-op ON DUPLICATE
  // KEY UPDATE counts 1 like an insert: there, the row is read back and compared.
  async #inserted(r: NewIdempotencyRecord, affected: number): Promise<boolean> {
    if (this.#database.dialect !== 'mysql') return affected > 0
    const { db } = this.#database
    const row = await withMappedErrors(this.#database, () =>
      db
        .selectFrom('idempotency_keys')
        .select(['request_hash', 'created_at'])
        .where('key_hash', '=', r.keyHash)
        .executeTakeFirst(),
    )
    return row?.request_hash === r.requestHash && canonicalTime(row.created_at) === r.createdAt
  }

  async #charge(callerHash: string, slice: Timestamp, bytes: number): Promise<void> {
    const insert = this.#database.db.insertInto('idempotency_usage').values({
      caller_hash: callerHash,
      slice_start: slice,
      stored_bytes: bytes,
    })
    await withMappedErrors(this.#database, () =>
      (this.#database.dialect === 'mysql'
        ? insert.onDuplicateKeyUpdate({ stored_bytes: sql`stored_bytes + ${bytes}` })
        : insert.onConflict((oc) =>
            oc
              .columns(['caller_hash', 'slice_start'])
              .doUpdateSet({ stored_bytes: sql`idempotency_usage.stored_bytes + ${bytes}` }),
          )
      ).execute(),
    )
  }

  async usage(callerHash: string, since: Timestamp): Promise<UsageSlice[]> {
    const { db } = this.#database
    const rows = await withMappedErrors(this.#database, () =>
      db
        .selectFrom('idempotency_usage')
        .select(['slice_start', 'stored_bytes'])
        .where('caller_hash', '=', callerHash)
        .where('slice_start', '>=', sliceStart(since))
        .orderBy('slice_start')
        .execute(),
    )
    return rows.map((row) => ({
      start: canonicalTime(row.slice_start),
      bytes: Number(row.stored_bytes),
    }))
  }

  async purge(before: Timestamp): Promise<number> {
    const { db } = this.#database
    const result = await withMappedErrors(this.#database, () =>
      db.deleteFrom('idempotency_keys').where('created_at', '<', before).executeTakeFirst(),
    )
    // A slice goes once all of it is before `before`, i.e. it starts before `before`'s own slice.
    await withMappedErrors(this.#database, () =>
      db.deleteFrom('idempotency_usage').where('slice_start', '<', sliceStart(before)).execute(),
    )
    return Number(result.numDeletedRows)
  }
}
