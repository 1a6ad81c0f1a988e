/**
 * The one place where failures become HTTP answers: AppError codes → status, framework client
 * errors → status and code, anything else → a 500 whose cause is logged, never shown. Each API
 * surface renders an ErrorAnswer in its own body format (compute/faults.ts, v1/error-body.ts) and
 * installs its handlers with `installErrorFormat`.
 */
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply } from 'fastify'
import { CODE_BY_STATUS, STATUS_BY_CODE } from '../domain/error-status.js'
import { isAppError, type AppError, type ErrorCode } from '../domain/errors.js'

/** The text returned for any unexpected failure; the cause goes to the (redacted) log only. */
export const UNEXPECTED_ERROR_MESSAGE = 'Unexpected API Error. Please contact the administrator'

/** The text returned when the store is unavailable (503). */
export const SERVICE_UNAVAILABLE_MESSAGE = 'The service is unavailable.'

/**
 * `Retry-After` (seconds) of every 503: the store was busy or unreachable (a write has already
 * waited its lock wait, 5 s by default, before this answer), so an immediate retry would mostly
 * meet the same; a second lets a short external lock or a failover pass without stretching a
 * client's retries (its backoff adds to this).
 */
export const RETRY_AFTER_SECONDS = 1

/**
 * A failure as the API reports it: HTTP status, a stable machine-readable code (an ErrorCode, or
 * one derived from a framework error) and a message that is safe to show.
 */
export interface ErrorAnswer {
  status: number
  code: string
  message: string
}

/** The answer for an AppError; the message of a 5xx is replaced, since it may describe internals. */
export function appErrorAnswer(err: AppError): ErrorAnswer {
  const status = STATUS_BY_CODE[err.code]
  if (status < 500) return { status, code: err.code, message: err.message }
  return {
    status,
    code: err.code,
    message: status === 503 ? SERVICE_UNAVAILABLE_MESSAGE : UNEXPECTED_ERROR_MESSAGE,
  }
}

/** The answer for a failure nobody expected (the cause is logged, never shown). */
export const INTERNAL_ANSWER: Readonly<ErrorAnswer> = {
  status: 500,
  code: 'internal',
  message: UNEXPECTED_ERROR_MESSAGE,
}

// Fastify's own client errors that have an ActionTrail code of their own.
const CODE_BY_FRAMEWORK_CODE: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_VALIDATION: 'invalid_input',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_input',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_input',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_input',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
}

/**
 * The answer for one of Fastify's own client errors (bad JSON, body too large, wrong media type,
 * schema validation), which keep their 4xx status and message; undefined for anything else.
 */
export function clientErrorAnswer(err: {
  statusCode?: number
  code?: string
  message: string
}): ErrorAnswer | undefined {
  const status = err.statusCode
  if (status === undefined || status < 400 || status >= 500) return undefined
  const code =
    (err.code !== undefined ? CODE_BY_FRAMEWORK_CODE[err.code] : undefined) ??
    CODE_BY_STATUS[status] ??
    // A rarer framework error keeps a code derived from its own (FST_ERR_FOO_BAR → foo_bar).
    (err.code ? err.code.replace(/^FST_ERR_/, '').toLowerCase() : 'client_error')
  return { status, code, message: err.message }
}

/** The answer for an unknown path or method. */
export const NOT_FOUND_ANSWER: Readonly<ErrorAnswer> = {
  status: 404,
  code: 'not_found',
  message: 'The resource could not be found.',
}

/** The answer for any thrown value: typed errors keep their code, the rest is a logged 500. */
export function answerFor(err: unknown, log: FastifyBaseLogger): ErrorAnswer {
  if (isAppError(err)) {
    const answer = appErrorAnswer(err)
    if (answer.status >= 500) log.error({ err }, 'request failed')
    return answer
  }
  // Fastify's own client errors (bad JSON, body too large, wrong media type, schema validation)
  // keep their 4xx status and message.
  const client = clientErrorAnswer(err as FastifyError)
  if (client) return client
  log.error({ err }, 'unexpected error')
  return INTERNAL_ANSWER
}

/** Renders an answer in one surface's body format. */
export type ErrorRenderer = (reply: FastifyReply, answer: ErrorAnswer) => FastifyReply

/**
 * Makes every error and unknown path of this encapsulated scope answer in `render`'s format: the
 * surface's error handler and not-found handler.
 */
export function installErrorFormat(app: FastifyInstance, render: ErrorRenderer): void {
  app.setErrorHandler((err, request, reply) => {
    const answer = answerFor(err, request.log)
    if (answer.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS))
    return render(reply, answer)
  })
  app.setNotFoundHandler((_request, reply) => render(reply, NOT_FOUND_ANSWER))
}
