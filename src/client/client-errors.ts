/**
 * What the client throws. Every failure is an AppError, so code written against the local
 * ActionService (`isAppError(err, 'action_not_found')`, the recorder's `gracefulExit`) behaves the
 * same against a remote server; the subclasses add what only HTTP knows.
 */
import { CODE_BY_STATUS, STATUS_BY_CODE } from '../domain/error-status.js'
import { AppError, type ErrorCode } from '../domain/errors.js'
import { wireErrorOf, type WireError } from './wire.js'

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(STATUS_BY_CODE, code)
}

// Used when the server's code is missing (Nova-format faults of /v2.1, a proxy's HTML page) or is
// one this client does not know yet (a newer server): the status still says what kind of failure it is.
function codeForStatus(status: number): ErrorCode {
  const known = CODE_BY_STATUS[status]
  if (known) return known
  if (status === 502 || status === 504) return 'store_unavailable'
  return status >= 500 ? 'internal' : 'invalid_input'
}

/**
 * The server answered with an error status (a 4xx, or a 5xx that outlasted the retries), or a
 * batch operation failed. `code` is the server's code when it is one of ActionTrail's ErrorCodes;
 * `serverCode` is always the code exactly as sent (e.g. `idempotency_key_reused`).
 */
export class ClientHttpError extends AppError {
  /** The HTTP status (or the batch result's status). */
  readonly status: number
  /** The server's error code as sent; derived from the status when the body had none. */
  readonly serverCode: string
  /** The server's `x-openstack-request-id`, for finding the request in the server's logs. */
  readonly serverRequestId: string | undefined

  constructor(
    status: number,
    serverCode: string | undefined,
    message: string,
    serverRequestId?: string,
  ) {
    const code =
      serverCode !== undefined && isErrorCode(serverCode) ? serverCode : codeForStatus(status)
    super(code, message)
    this.name = 'ClientHttpError'
    this.status = status
    this.serverCode = serverCode ?? code
    this.serverRequestId = serverRequestId
  }

  /** The error of one failed batch result. */
  static fromWire(
    status: number,
    error: WireError | undefined,
    serverRequestId?: string,
  ): ClientHttpError {
    return new ClientHttpError(
      status,
      error?.code,
      error?.message || `batch operation failed with status ${status}`,
      serverRequestId,
    )
  }

  /**
   * The error of a non-2xx answer: `/v1`'s `{"error": …}`, a Nova fault `{"<name>": {code,
   * message}}`, or (from a proxy, say) anything else, of which a short single-line excerpt is kept.
   */
  static fromAnswer(
    status: number,
    body: unknown,
    text: string,
    serverRequestId?: string,
  ): ClientHttpError {
    if (typeof body === 'object' && body !== null) {
      const record = body as Record<string, unknown>
      const v1 = wireErrorOf(record.error)
      if (v1) return new ClientHttpError(status, v1.code, v1.message, serverRequestId)
      const [fault] = Object.values(record)
      if (
        typeof fault === 'object' &&
        fault !== null &&
        typeof (fault as { message?: unknown }).message === 'string'
      ) {
        return new ClientHttpError(
          status,
          undefined,
          (fault as { message: string }).message,
          serverRequestId,
        )
      }
    }
    const excerpt = text.replace(/\s+/g, ' ').trim().slice(0, 200)
    return new ClientHttpError(status, undefined, excerpt || `HTTP ${status}`, serverRequestId)
  }
}

/**
 * No answer from the server within the retries: the connection failed or was reset, or every
 * attempt timed out. Code `store_unavailable`, the code the local writer uses when its store
 * cannot be reached; the last underlying failure is the `cause`.
 */
export class ClientNetworkError extends AppError {
  /** How many requests were made. */
  readonly attempts: number
  /** True when the last attempt failed by timing out. */
  readonly timedOut: boolean

  constructor(message: string, attempts: number, timedOut: boolean, cause: unknown) {
    super('store_unavailable', message, { cause })
    this.name = 'ClientNetworkError'
    this.attempts = attempts
    this.timedOut = timedOut
  }
}

/** A call made after `close()`. Code `internal`: it is a programming error of the caller. */
export class ClientClosedError extends AppError {
  constructor(what: string) {
    super('internal', `${what} is closed`)
    this.name = 'ClientClosedError'
  }
}
