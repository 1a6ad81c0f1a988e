/**
 * Why an attempt failed, which decides whether the request is sent again. Checks go by `name`
 * and `code` rather than `instanceof`, because the failure may come from another realm (a fetch
 * injected from outside a sandbox or a worker), whose TypeError is not this realm's TypeError.
 */

/**
 * - `network`: no complete answer arrived (refused, reset, DNS failure, a body cut short).
 * - `timeout`: no complete answer within the attempt's time limit.
 * - `retryable_status`: the server answered with a status worth another try (see statusKind).
 * - `final`: anything else — a 4xx is the server's considered answer to this exact request, and a
 *   request that cannot be sent (an invalid header value) fails the same way every time.
 */
export type FailureKind = 'network' | 'timeout' | 'retryable_status' | 'final'

// Codes of connections that failed or broke before an answer arrived. Most reach us as fetch's
// TypeError (whose `cause` has the code); an injected fetch may throw them directly.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])

function field(value: unknown, key: 'name' | 'code' | 'message' | 'cause'): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[key]
    : undefined
}

function text(value: unknown, key: 'name' | 'code' | 'message'): string | undefined {
  const v = field(value, key)
  return typeof v === 'string' ? v : undefined
}

/**
 * The kind of an answer's status, for statuses of 400 and above: 408 (request timeout), 429 (too
 * many requests) and every 5xx but 501 (not implemented, which no retry changes) are retryable.
 * Retrying writes is safe: each logical call keeps one Idempotency-Key and its explicit times.
 */
export function statusKind(status: number): 'retryable_status' | 'final' {
  if (status === 408 || status === 429) return 'retryable_status'
  return status >= 500 && status !== 501 ? 'retryable_status' : 'final'
}

/** The kind of a value thrown by fetch or by reading the answer's body. */
export function thrownKind(err: unknown): 'network' | 'timeout' | 'final' {
  // AbortSignal.timeout() aborts with a DOMException named TimeoutError.
  if (text(err, 'name') === 'TimeoutError') return 'timeout'
  const cause = field(err, 'cause')
  // fetch rejects every transport failure as a TypeError ("fetch failed" before an answer,
  // "terminated" while reading one, "Failed to fetch"/"NetworkError…"/"Load failed" in
  // browsers), undici's with the socket error as its cause. A TypeError without a cause and
  // with another message is a bad request (e.g. an invalid header value): sending it again cannot help.
  if (text(err, 'name') === 'TypeError') {
    const message = text(err, 'message') ?? ''
    return cause !== undefined ||
      /^(fetch failed|terminated|failed to fetch|load failed)$|^networkerror/i.test(message)
      ? 'network'
      : 'final'
  }
  if (/socket hang up/i.test(text(err, 'message') ?? '')) return 'network'
  const code = text(err, 'code') ?? text(cause, 'code')
  return code !== undefined && NETWORK_CODES.has(code) ? 'network' : 'final'
}

/** A one-line description of a thrown failure for error messages: message, cause and code. */
export function describeThrown(err: unknown): string {
  if (thrownKind(err) === 'timeout') return 'timed out'
  const cause = field(err, 'cause')
  const code = text(err, 'code') ?? text(cause, 'code')
  const message = text(err, 'message') ?? String(err)
  const causeMessage = text(cause, 'message')
  return [message, causeMessage && causeMessage !== message ? causeMessage : undefined, code]
    .filter(Boolean)
    .join(': ')
}
