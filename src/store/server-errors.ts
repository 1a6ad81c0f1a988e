/**
 * Failure classification shared by the server backends: walking an error's causes, and the
 * network failures every driver reports the same way.
 */
import { AppError } from '../domain/errors.js'

/** Node socket errors after which a new connection may well succeed. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
])

/** The error and its causes (drivers and Kysely wrap errors), at most a few levels deep. */
export function errorChain(err: unknown): Record<string, unknown>[] {
  const chain: Record<string, unknown>[] = []
  let e: unknown = err
  while (typeof e === 'object' && e !== null && chain.length < 5) {
    const o = e as Record<string, unknown>
    chain.push(o)
    e = o.cause
  }
  return chain
}

/** True when the error (or a cause) is a socket-level network failure. */
export function isNetworkError(err: unknown): boolean {
  return errorChain(err).some((e) => typeof e.code === 'string' && NETWORK_CODES.has(e.code))
}

/**
 * A mapper for read failures: the ones `unavailable` recognizes become `store_unavailable`
 * (HTTP 503, worth retrying), anything else is left as it is.
 */
export function unavailableMapper(
  name: string,
  unavailable: (err: unknown) => boolean,
): (err: unknown) => unknown {
  return (err) =>
    err instanceof AppError || !unavailable(err)
      ? err
      : new AppError('store_unavailable', `${name} unavailable`, { cause: err })
}
