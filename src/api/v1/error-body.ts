/** ActionTrail's own error format, used by every /v1 route: `{"error": {"status", "code", "message"}}`. */
import type { FastifyReply } from 'fastify'
import type { ErrorAnswer } from '../errors.js'

/** Content type of every /v1 response, errors included. */
export const V1_CONTENT_TYPE = 'application/json; charset=utf-8'

/** The /v1 error body. */
export function v1ErrorBody(answer: ErrorAnswer): { error: ErrorAnswer } {
  return { error: { status: answer.status, code: answer.code, message: answer.message } }
}

/** Sends an answer in the /v1 format. */
export function sendV1Error(reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  return reply.code(answer.status).type(V1_CONTENT_TYPE).send(v1ErrorBody(answer))
}
