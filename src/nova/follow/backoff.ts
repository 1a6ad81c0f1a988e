/** Exponential backoff with full jitter, for reconnections and requeued messages. */

/** Bounds of a backoff. */
export interface Backoff {
  initialMs: number
  maxMs: number
}

/**
 * The wait before attempt `attempt` (0-based): a random time up to min(max, initial·2^attempt),
 * at least half of it, so that followers restarted together do not reconnect in step.
 */
export function backoffDelay(backoff: Backoff, attempt: number, random = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}
