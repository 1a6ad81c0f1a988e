/**
 * How often a failed request is tried again and how long the client waits in between:
 * exponential backoff with full jitter, and the server's `Retry-After` honoured.
 */

/** Options of a RetryPolicy. */
export interface RetryPolicyOptions {
  /** Retries after the first attempt. Default 5. */
  retries?: number
  /** Base of the exponential backoff: retry n waits up to `backoffMs * 2^n`. Default 100. */
  backoffMs?: number
  /** Cap of the jittered backoff. Default 5000. */
  maxBackoffMs?: number
  /**
   * Longest `Retry-After` the client waits for. A server asking for more gets its answer passed
   * on at once (as a ClientHttpError) rather than a retry it has refused in advance. Default 30000.
   */
  maxRetryAfterMs?: number
}

/** What a RetryPolicy draws its jitter from; injectable so that tests can pin it. */
export interface RetryPolicyDeps {
  /** A uniform number in [0, 1). Default Math.random. */
  random?: () => number
}

// 2^30 × any sane base is far beyond every cap; the bound only keeps 2^attempt finite.
const MAX_EXPONENT = 30

/**
 * The retry schedule of one client.
 *
 * Full jitter (a uniform wait in `[0, min(maxBackoffMs, backoffMs·2^attempt)]`) spreads the
 * retries of many clients that failed together, instead of sending them back in waves. A
 * `Retry-After` is a lower bound: the client waits that long plus the jittered backoff, so
 * clients told the same date do not all return at the same instant either.
 */
export class RetryPolicy {
  /** Retries after the first attempt. */
  readonly retries: number
  readonly #backoffMs: number
  readonly #maxBackoffMs: number
  readonly #maxRetryAfterMs: number
  readonly #random: () => number

  constructor(options: RetryPolicyOptions = {}, deps: RetryPolicyDeps = {}) {
    this.retries = Math.max(0, options.retries ?? 5)
    this.#backoffMs = Math.max(0, options.backoffMs ?? 100)
    this.#maxBackoffMs = Math.max(0, options.maxBackoffMs ?? 5_000)
    this.#maxRetryAfterMs = Math.max(0, options.maxRetryAfterMs ?? 30_000)
    this.#random = deps.random ?? Math.random
  }

  /** The upper bound of the jittered wait before retry `attempt` (0 for the first retry). */
  ceiling(attempt: number): number {
    return Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** Math.min(attempt, MAX_EXPONENT))
  }

  /**
   * The wait before retry `attempt`, given what the server asked for in `Retry-After` (ms), or
   * `undefined` when the server asked for longer than `maxRetryAfterMs`: then do not retry.
   */
  delay(attempt: number, retryAfterMs?: number): number | undefined {
    if (retryAfterMs !== undefined && retryAfterMs > this.#maxRetryAfterMs) return undefined
    return (retryAfterMs ?? 0) + this.#random() * this.ceiling(attempt)
  }
}
