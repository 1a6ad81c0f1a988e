/**
 * The contract for remembered answers to write requests sent with an Idempotency-Key (the write
 * API's retry safety, src/api/v1/idempotency.ts). It is kept apart from the ActionStore because it
 * holds HTTP answers, not audit data: the audit trail's contract says nothing about status codes
 * and response bodies, and a caller that only reads or writes history never sees this one.
 * Every backend implements it on the database its ActionStore uses (kysely-idempotency-store.ts).
 *
 * Answers are kept compressed, and each caller's remembered bytes are counted so the API can cap
 * them (issue 9: one 300 KB batch of invalid operations stored an 11.6 MB answer for 24 hours).
 */
import type { Timestamp } from '../domain/timestamp.js'

/** A remembered answer to a write request sent with an Idempotency-Key. */
export interface IdempotencyRecord {
  /** Digest of the caller and the key. */
  keyHash: string
  /** Digest of the request (method, path, body) the key was first used with. */
  requestHash: string
  status: number
  /**
   * The answer's body, byte for byte; `undefined` when it was over the size the caller allowed at
   * `put` and only the request digest, the status and the size were kept (a marker).
   */
  body: string | undefined
  /** What the answer takes in storage (compressed), whether it was kept or not. */
  storedBytes: number
  createdAt: Timestamp
}

/** An answer to remember. */
export interface NewIdempotencyRecord {
  keyHash: string
  requestHash: string
  status: number
  body: string
  createdAt: Timestamp
  /** Digest of the caller (user and project), whose usage the record is counted against. */
  callerHash: string
}

/** How `put` treats the answer's size. */
export interface PutLimits {
  /** Largest stored (compressed) answer kept; a larger one is remembered as a marker only. */
  maxStoredBytes: number
  /**
   * Bytes counted against the caller for the row itself, besides the stored answer: the two
   * digests, the time and the indexes. Without it, floods of tiny answers would be free.
   */
  recordOverheadBytes: number
}

/** What `put` remembered. */
export interface PutOutcome {
  /** False when the answer was over `maxStoredBytes` and only a marker was kept. */
  kept: boolean
  /** The compressed size of the answer. */
  storedBytes: number
  /** What was counted against the caller (the kept answer, if any, plus the row overhead). */
  chargedBytes: number
}

/**
 * Usage is counted per caller in slices of this length, by the creation time of the records: a
 * whole slice is forgotten once its newest possible record has expired, so a caller's usage is
 * the sum of a handful of rows whatever the number of records (a per-write SUM over the records
 * would grow with the caller's write rate).
 */
export const USAGE_SLICE_MICROS = 60n * 60n * 1_000_000n

/** The bytes remembered for a caller in one slice of time. */
export interface UsageSlice {
  /** Start of the slice; it holds records created in [start, start + USAGE_SLICE_MICROS). */
  start: Timestamp
  bytes: number
}

/** Persistent storage of remembered answers, by key digest. */
export interface IdempotencyStore {
  /** The remembered answer for a key digest, if any (expired ones included). */
  get(keyHash: string): Promise<IdempotencyRecord | undefined>
  /**
   * Remembers an answer, compressed, and counts it against its caller; an answer whose compressed
   * size is over `limits.maxStoredBytes` is remembered as a marker (digest, status, size). A
   * concurrent first use of the same key keeps the earlier record.
   */
  put(record: NewIdempotencyRecord, limits: PutLimits): Promise<PutOutcome>
  /** The caller's usage slices that may hold records created at or after `since`, oldest first. */
  usage(callerHash: string, since: Timestamp): Promise<UsageSlice[]>
  /**
   * Forgets answers created before `before`, and the usage slices that can only count such
   * answers; returns how many answers.
   */
  purge(before: Timestamp): Promise<number>
}
