/**
 * The `Retry-After` header (RFC 9110 §10.2.3): either a number of seconds or an HTTP date.
 */

// delay-seconds is 1*DIGIT: no sign, no fraction, no exponent.
const DELAY_SECONDS = /^\d+$/

/**
 * How many milliseconds from `nowMs` a `Retry-After` value asks the client to wait: `0` for a
 * date already past, `undefined` when the header is absent or is neither form (then the client's
 * own backoff applies).
 *
 * @example
 * ```ts
 * parseRetryAfter('3', Date.now())                              // 3000
 * parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT', Date.now())  // ms until then, or 0
 * ```
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  const text = value?.trim()
  if (!text) return undefined
  if (DELAY_SECONDS.test(text)) return Number(text) * 1000
  // HTTP dates always name the weekday and end in GMT; requiring a letter keeps bare numbers such
  // as "1.5" or "-1", which Date.parse would read as years, from passing as dates.
  if (!/[a-z]/i.test(text)) return undefined
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}
