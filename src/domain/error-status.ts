/**
 * The HTTP status of each error code. It lives in the domain, not at the API edge, because two
 * ends need the same table: the server (src/api/errors.ts) answers with it, and the standalone
 * client (src/client/) reads it to tell ActionTrail's codes from others; the client may load no
 * server code. Nothing here imports anything with side effects.
 */
import type { ErrorCode } from './errors.js'

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
  request_timeout: 408,
  request_header_fields_too_large: 431,
  idempotency_key_reused: 422,
  idempotency_answer_not_kept: 409,
  idempotency_quota_exceeded: 429,
  rate_limited: 429,
  store_unavailable: 503,
  identity_unavailable: 503,
  too_many_streams: 503,
  overloaded: 503,
  internal: 500,
}

/**
 * The code that stands for a status when nothing more precise is known: a framework's own client
 * error on the server, a body without an ActionTrail code on the client.
 */
export const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'invalid_input',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  431: 'request_header_fields_too_large',
  422: 'invalid_input',
  503: 'store_unavailable',
}
