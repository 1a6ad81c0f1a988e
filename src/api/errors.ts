/**
 * The one place where failures become HTTP: AppError codes → status, and status → either Nova's
 * fault body `{"<faultName>": {"code", "message"}}` (spec 4.9, every path but /v1) or ActionTrail's
 * own `{"error": {"status", "code", "message"}}` (the /v1 write API). 5xx messages are never
 * returned.
 */
import { STATUS_BY_CODE } from '../domain/error-status.js'
import type { AppError, ErrorCode } from '../domain/errors.js'

export { STATUS_BY_CODE } from '../domain/error-status.js'

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

/** The text returned when the store is unavailable (503). */
export const SERVICE_UNAVAILABLE_MESSAGE = 'The service is unavailable.'

/** Nova's fault body for a status and message. */
export function faultBody(status: number, message: string): Record<string, { code: number; message: string }> {
  return { [FAULT_NAMES[status] ?? 'computeFault']: { code: status, message } }
}

/** Content type of fault responses, as Nova sends it. */
export const FAULT_CONTENT_TYPE = 'application/json; charset=UTF-8'

/** Content type of every /v1 response, errors included. */
export const V1_CONTENT_TYPE = 'application/json; charset=utf-8'

/**
 * A failure as the API reports it: HTTP status, a stable machine-readable code (an ErrorCode, or
 * one derived from a framework error) and a message that is safe to show.
 */
export interface ErrorAnswer {
  status: number
  code: string
  message: string
}

/** The /v1 error body: `{"error": {"status", "code", "message"}}`. */
export function v1ErrorBody(answer: ErrorAnswer): { error: ErrorAnswer } {
  return { error: { status: answer.status, code: answer.code, message: answer.message } }
}

/** True for a path of the /v1 write API, which answers errors in ActionTrail's own format. */
export function isV1Path(path: string): boolean {
  return path === '/v1' || path.startsWith('/v1/')
}

/** The answer for an AppError; the message of a 5xx is replaced, since it may describe internals. */
export function appErrorAnswer(err: AppError): ErrorAnswer {
  const status = STATUS_BY_CODE[err.code]
  if (status < 500) return { status, code: err.code, message: err.message }
  return { status, code: err.code, message: status === 503 ? SERVICE_UNAVAILABLE_MESSAGE : UNEXPECTED_ERROR_MESSAGE }
}

/** The answer for a failure nobody expected (the cause is logged, never shown). */
export const INTERNAL_ANSWER: Readonly<ErrorAnswer> = { status: 500, code: 'internal', message: UNEXPECTED_ERROR_MESSAGE }

// Fastify's own client errors that have an ActionTrail code of their own.
const CODE_BY_FRAMEWORK_CODE: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_VALIDATION: 'invalid_input',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_input',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_input',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_input',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
}

// The generic code for a client status, for framework errors not named above.
const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'invalid_input',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
}

/**
 * The answer for one of Fastify's own client errors (bad JSON, body too large, wrong media type,
 * schema validation), which keep their 4xx status and message; undefined for anything else.
 */
export function clientErrorAnswer(err: { statusCode?: number; code?: string; message: string }): ErrorAnswer | undefined {
  const status = err.statusCode
  if (status === undefined || status < 400 || status >= 500) return undefined
  const code =
    (err.code !== undefined ? CODE_BY_FRAMEWORK_CODE[err.code] : undefined) ??
    CODE_BY_STATUS[status] ??
    // A rarer framework error keeps a code derived from its own (FST_ERR_FOO_BAR → foo_bar).
    (err.code ? err.code.replace(/^FST_ERR_/, '').toLowerCase() : 'client_error')
  return { status, code, message: err.message }
}
