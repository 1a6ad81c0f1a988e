/**
 * The one place where failures become HTTP: AppError codes → status, and status → Nova's fault
 * body `{"<faultName>": {"code", "message"}}` (spec 4.9). 5xx messages are never returned.
 */
import type { ErrorCode } from '../domain/errors.js'

/** HTTP status for each error code. */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  invalid_input: 400,
  marker_not_found: 400,
  unauthorized: 401,
  forbidden: 403,
  instance_not_found: 404,
  action_not_found: 404,
  event_not_found: 404,
  not_found: 404,
  method_not_allowed: 405,
  not_acceptable: 406,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  store_unavailable: 503,
  internal: 500,
}

const FAULT_NAMES: Readonly<Record<number, string>> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
}

/** The text returned for any unexpected failure; the cause goes to the (redacted) log only. */
export const UNEXPECTED_ERROR_MESSAGE = 'Unexpected API Error. Please contact the administrator'

/** Nova's fault body for a status and message. */
export function faultBody(status: number, message: string): Record<string, { code: number; message: string }> {
  return { [FAULT_NAMES[status] ?? 'computeFault']: { code: status, message } }
}

/** Content type of fault responses, as Nova sends it. */
export const FAULT_CONTENT_TYPE = 'application/json; charset=UTF-8'
