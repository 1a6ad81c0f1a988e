/** The responses every compute route documents besides its success. */
import type { TSchema } from 'typebox'
import { Fault } from './common.js'

// What any compute route may answer: bad query or microversion, no token, policy, unknown server
// or action, unsupported microversion, an unexpected failure, the store unavailable.
const ERROR_STATUSES = [400, 401, 403, 404, 406, 500, 503] as const

/** A route's response schemas: its own, plus every fault it can answer. */
export function computeResponses<T extends Record<number, TSchema>>(success: T): T & Record<number, TSchema> {
  const out: Record<number, TSchema> = { ...success }
  for (const status of ERROR_STATUSES) out[status] ??= Fault
  return out as T & Record<number, TSchema>
}
