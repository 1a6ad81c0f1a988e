/**
 * The contract for remembered answers to write requests sent with an Idempotency-Key (the write
 * API's retry safety, src/api/v1/idempotency.ts). It is kept apart from the ActionStore because it
 * holds HTTP answers, not audit data: the audit trail's contract says nothing about status codes
 * and response bodies, and a caller that only reads or writes history never sees this one.
 * Every backend implements it on the database its ActionStore uses (kysely-idempotency-store.ts).
 */
import type { Timestamp } from '../domain/timestamp.js'

/** A remembered answer to a write request sent with an Idempotency-Key. */
export interface IdempotencyRecord {
  /** Digest of the caller and the key. */
  keyHash: string
  /** Digest of the request (method, path, body) the key was first used with. */
  requestHash: string
  status: number
  body: string
  createdAt: Timestamp
}

/** Persistent storage of remembered answers, by key digest. */
export interface IdempotencyStore {
  /** The remembered answer for a key digest, if any (expired ones included). */
  get(keyHash: string): Promise<IdempotencyRecord | undefined>
  /** Remembers an answer; a concurrent first use of the same key keeps the earlier record. */
  put(record: IdempotencyRecord): Promise<void>
  /** Forgets answers created before `before`; returns how many. */
  purge(before: Timestamp): Promise<number>
}
