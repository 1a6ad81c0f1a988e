/**
 * A request-rate limit for the Nova importer: requests are spaced at least 1/rate seconds apart,
 * so a backfill of a large cloud never bursts at nova-api (which serves the operators too).
 */

/** Waits until the next request may start. */
export type RateLimiter = () => Promise<void>

/** A limiter allowing `perSecond` requests a second; 0 or Infinity means no limit. */
export function rateLimiter(perSecond: number): RateLimiter {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return () => Promise.resolve()
  const spacing = 1000 / perSecond
  let next = 0
  return async () => {
    const now = Date.now()
    const wait = next - now
    next = Math.max(now, next) + spacing
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  }
}
