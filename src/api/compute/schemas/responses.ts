/** The responses every compute route documents besides its success. */
import type { TSchema } from 'typebox'
import { described } from '../../described.js'
import { Fault } from './common.js'

// What any compute route may answer.
const ERRORS: Readonly<Record<number, string>> = {
  400: 'Bad query parameter, microversion string or URL project (`badRequest`).',
  401: 'No or unknown X-Auth-Token (`unauthorized`).',
  403: 'The policy forbids it (`forbidden`).',
  404: 'Unknown server or action, or one of another project (`itemNotFound`).',
  406: 'Microversion outside the supported range (`computeFault`).',
  429:
    'The caller sent requests faster than ACTIONTRAIL_RATE_LIMIT allows (`overLimit`, with ' +
    '`retryAfter`); retry after `Retry-After` seconds.',
  500: 'Unexpected failure; the cause is logged, never shown (`computeFault`).',
  503: 'The store is unavailable (`serviceUnavailable`); safe to retry.',
}

/** A route's response schemas: its own (each with its description), plus every fault it can answer. */
export function computeResponses<T extends Record<number, TSchema>>(
  success: T,
  description = 'Success.',
): Record<number, TSchema> {
  const out: Record<number, TSchema> = {}
  for (const [status, schema] of Object.entries(success))
    out[Number(status)] = described(schema, description)
  for (const [status, text] of Object.entries(ERRORS))
    out[Number(status)] ??= described(Fault, text)
  return out
}
