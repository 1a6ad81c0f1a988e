/**
 * The caps on what Idempotency-Keys may make the server remember (issue 9: one 300 KB batch of
 * invalid operations stored an 11.6 MB answer for 24 hours, and each keyed no-op finish of an
 * event with large details stored 66 KB). Answers are stored compressed (store/deflated-text.ts),
 * and two caps bound what is left:
 *
 * - per key, the stored (compressed) answer: over it, the key keeps only the request digest, the
 *   status and the size (a marker), and a retry is told so (409 `idempotency_answer_not_kept`)
 *   instead of running again;
 * - per caller (user and project), the total of the answers remembered over the last 24 hours:
 *   over it, new keyed requests are refused (429 `idempotency_quota_exceeded` with Retry-After)
 *   before they run. Evicting the caller's oldest answers instead would break what those keys
 *   promised: a retry of an evicted key would silently run again.
 */
import { AppError } from '../../domain/errors.js'
import { fromEpochMicros, toEpochMicros, type Timestamp } from '../../domain/timestamp.js'
import { USAGE_SLICE_MICROS, type UsageSlice } from '../../store/idempotency-store.js'

/** The caps, in bytes. */
export interface IdempotencyLimits {
  /**
   * Largest compressed answer remembered for one key. The default, 256 KiB, keeps every answer
   * to a single write (at most ~140 KB even uncompressed: 64 KB of details and a 64 KB
   * traceback) and batch answers of up to ~25 MB of repeated errors (measured ~300×).
   */
  maxAnswerBytes: number
  /**
   * Most a caller may have remembered at once (compressed answers plus `recordOverheadBytes`
   * each). The default, 256 MiB, is about a million keyed single writes a day (measured: ~110
   * bytes per compressed action answer, plus the overhead), or 1,000 answers at the per-key cap.
   */
  maxCallerBytes: number
  /** Counted per remembered key besides its answer: two 64-byte digests, a time, index entries. */
  recordOverheadBytes: number
}

/** The caps used unless the application is given others. */
export const DEFAULT_IDEMPOTENCY_LIMITS: Readonly<IdempotencyLimits> = Object.freeze({
  maxAnswerBytes: 256 * 1024,
  maxCallerBytes: 256 * 1024 * 1024,
  recordOverheadBytes: 256,
})

/** The most one keyed request can add to its caller's usage. */
export function worstCharge(limits: IdempotencyLimits): number {
  return limits.maxAnswerBytes + limits.recordOverheadBytes
}

/**
 * Seconds until enough of the caller's oldest slices expire (each `ttlMicros` after its end) for
 * `excess` bytes to be free again; 1 when the slices cannot free them (requests still in flight
 * hold the room, and end soon).
 */
export function retryAfterSeconds(
  slices: readonly UsageSlice[],
  excess: number,
  now: Timestamp,
  ttlMicros: bigint,
): number {
  let freed = 0
  for (const slice of slices) {
    freed += slice.bytes
    if (freed >= excess) {
      const expires = toEpochMicros(slice.start) + USAGE_SLICE_MICROS + ttlMicros
      const wait = expires - toEpochMicros(now)
      return wait <= 0n ? 1 : Number((wait + 999_999n) / 1_000_000n)
    }
  }
  return 1
}

/** The start of the window of answers still remembered at `now`. */
export function windowStart(now: Timestamp, ttlMicros: bigint): Timestamp {
  return fromEpochMicros(toEpochMicros(now) - ttlMicros + 1n)
}

/** The caps with defaults filled in; `invalid_input` for caps that cannot work. */
export function checkedLimits(limits: Partial<IdempotencyLimits> = {}): IdempotencyLimits {
  const out = { ...DEFAULT_IDEMPOTENCY_LIMITS, ...limits }
  for (const [name, value] of Object.entries(out)) {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new AppError(
        'invalid_input',
        `idempotency limit ${name} must be a whole number of bytes`,
      )
  }
  // A caller must have room for at least one answer of the largest kind.
  if (out.maxCallerBytes < worstCharge(out))
    throw new AppError(
      'invalid_input',
      `the idempotency total per caller must be at least the per-key cap + ${out.recordOverheadBytes} bytes`,
    )
  return out
}
