/**
 * Nova's error format, used by the compute surface (and the root: version discovery and unknown
 * paths): `{"<faultName>": {"code", "message"}}` with the fault name of the status
 * (docs/nova-behaviour.md §10.3).
 */
import type { FastifyReply } from 'fastify'
import type { ErrorAnswer } from '../errors.js'

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

/** Content type of fault responses, as Nova sends it. */
export const FAULT_CONTENT_TYPE = 'application/json; charset=UTF-8'

/** The fault name of a status (`computeFault` for any status without its own). */
export function faultName(status: number): string {
  return FAULT_NAMES[status] ?? 'computeFault'
}

/**
 * Nova's fault body for a status and message; a 413 or 429 with a `Retry-After` repeats it as
 * `retryAfter` (a string), as Nova's `Fault` does.
 */
export function faultBody(
  status: number,
  message: string,
  retryAfter?: string,
): Record<string, { code: number; message: string; retryAfter?: string }> {
  const withRetry = retryAfter !== undefined && (status === 413 || status === 429)
  return { [faultName(status)]: { code: status, message, ...(withRetry ? { retryAfter } : {}) } }
}

/** Sends an answer as a Nova fault. */
export function sendFault(reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  const retryAfter = reply.getHeader('retry-after')
  return reply
    .code(answer.status)
    .type(FAULT_CONTENT_TYPE)
    .send(
      faultBody(
        answer.status,
        answer.message,
        retryAfter === undefined ? undefined : String(retryAfter),
      ),
    )
}
