/**
 * The closed set of failure codes the domain can report. The API edge maps each code to an HTTP
 * status (the table in error-status.ts, which the client reads too) and a Nova fault body in
 * exactly one place (src/api/errors.ts); nothing else decides status codes.
 */
export type ErrorCode =
  | 'invalid_input'
  | 'unauthorized'
  | 'forbidden'
  | 'instance_not_found'
  | 'action_not_found'
  | 'event_not_found'
  | 'marker_not_found'
  | 'conflict'
  | 'not_acceptable'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'request_timeout'
  | 'request_header_fields_too_large'
  | 'not_found'
  | 'method_not_allowed'
  | 'idempotency_key_reused'
  | 'idempotency_answer_not_kept'
  | 'idempotency_quota_exceeded'
  | 'rate_limited'
  | 'store_unavailable'
  | 'identity_unavailable'
  | 'too_many_streams'
  | 'overloaded'
  | 'internal'

/** The one error type of ActionTrail: a stable `code` plus a message that is safe to show. */
export class AppError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AppError'
    this.code = code
  }
}

/** True when `err` is an AppError, optionally with the given code. */
export function isAppError(err: unknown, code?: ErrorCode): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code)
}
