/**
 * A token bucket (issue 14 item 7): `burst` tokens at most, refilled continuously at `rate` tokens
 * per second; each request takes one. Time is passed in (milliseconds), so the bucket is pure and
 * its tests need no clock.
 */

/** A bucket's settings. */
export interface BucketSettings {
  /** Tokens added per second (> 0; fractions allowed: 0.5 is one request every two seconds). */
  rate: number
  /** The most tokens a bucket holds, i.e. the longest burst of requests let through at once (≥ 1). */
  burst: number
}

/** The outcome of taking a token: taken, or refused with how long until one is there. */
export type Take = { ok: true } | { ok: false; retryAfterMs: number }

/** One caller's bucket. A new bucket is full: a caller's first burst is never refused. */
export class TokenBucket {
  #tokens: number
  #at: number

  constructor(
    private readonly settings: BucketSettings,
    nowMs: number,
  ) {
    this.#tokens = settings.burst
    this.#at = nowMs
  }

  /** Takes one token if there is one; otherwise says how long until there is. */
  take(nowMs: number): Take {
    this.#refill(nowMs)
    if (this.#tokens >= 1) {
      this.#tokens -= 1
      return { ok: true }
    }
    return { ok: false, retryAfterMs: ((1 - this.#tokens) / this.settings.rate) * 1000 }
  }

  /**
   * True when the bucket has refilled to its burst by `nowMs`: forgetting it then loses nothing,
   * since a bucket made anew starts full.
   */
  isFull(nowMs: number): boolean {
    this.#refill(nowMs)
    return this.#tokens >= this.settings.burst
  }

  #refill(nowMs: number): void {
    // A clock that steps back (NTP) neither adds nor removes tokens.
    const elapsed = Math.max(0, nowMs - this.#at)
    this.#at = Math.max(this.#at, nowMs)
    this.#tokens = Math.min(
      this.settings.burst,
      this.#tokens + (elapsed / 1000) * this.settings.rate,
    )
  }
}

/** `Retry-After` in whole seconds, at least 1 (a 0 would invite an immediate retry). */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000))
}
