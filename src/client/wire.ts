/**
 * The JSON shapes the client sends to and reads from ActionTrail's write API (`/v1`) beyond the
 * single endpoints' bodies: batch operations, batch results and error objects. Answers are checked
 * field by field, so that a server of another version fails loudly here rather than handing
 * `undefined` to code typed as string.
 */
import type { BatchResult as ServerBatchResult, V1ErrorObject } from '../api/v1/responses.js'
import type { BatchOperation } from '../api/v1/schemas.js'
import { AppError } from '../domain/errors.js'

// The server's own schema types (src/api/v1), type-only so that the client bundle loads none of it.

/** One operation of `POST /v1/batch`: the body of the matching single endpoint plus `op` and the ids of its path. */
export type WireOp = BatchOperation

/** The `error` member of every `/v1` error body and of failed batch results. */
export type WireError = V1ErrorObject

/** The outcome of one batch operation, in the order the operations were sent. No record body. */
export type BatchResult = ServerBatchResult

function malformed(what: string): AppError {
  return new AppError('internal', `malformed ActionTrail response: ${what}`)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The `results` of a `/v1/batch` answer, checked to hold one result per operation sent. */
export function batchResultsFromBody(body: unknown, expected: number): BatchResult[] {
  if (!isRecord(body) || !Array.isArray(body.results)) throw malformed('no "results" array')
  if (body.results.length !== expected) {
    throw malformed(`${body.results.length} results for ${expected} operations`)
  }
  return body.results.map((r: unknown, i): BatchResult => {
    if (!isRecord(r) || typeof r.status !== 'number') throw malformed(`result ${i} has no status`)
    const error = wireErrorOf(r.error)
    return error ? { status: r.status, error } : { status: r.status }
  })
}

/** A `{status, code, message}` error object, or undefined when `value` is not one. */
export function wireErrorOf(value: unknown): WireError | undefined {
  if (!isRecord(value) || typeof value.code !== 'string') return undefined
  return {
    status: typeof value.status === 'number' ? value.status : 0,
    code: value.code,
    message: typeof value.message === 'string' ? value.message : '',
  }
}
