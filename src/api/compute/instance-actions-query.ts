/**
 * Validation of the os-instance-actions query string per microversion (Nova's
 * schemas/instance_actions.py), with Nova's exact 400 messages (docs/nova-behaviour.md §6).
 */
import { AppError } from '../../domain/errors.js'
import { parseTimestamp, type Timestamp } from '../../domain/timestamp.js'
import { atLeast, type ApiVersion } from './microversion.js'
import { pyListRepr, pyRepr } from './python-repr.js'
import type { QueryParams } from './query-params.js'

/** Nova's CONF.api.max_limit default. */
export const MAX_LIMIT = 1000

/** The validated list query; `limit` undefined means unbounded (before 2.58). */
export interface ListQuery {
  limit?: number
  marker?: string
  changesSince?: Timestamp
  changesBefore?: Timestamp
}

interface SchemaError {
  depth: number
  message: string
}

function badRequest(message: string): AppError {
  return new AppError('invalid_input', message)
}

function additionalProperties(unknown: string[]): string {
  const names = [...unknown].sort().map(pyRepr)
  return `Additional properties are not allowed (${names.join(', ')} ${names.length === 1 ? 'was' : 'were'} unexpected)`
}

function valueError(name: string, value: string, detail: string): SchemaError {
  return {
    depth: 2,
    message: `Invalid input for query parameters ${name}. Value: ${value}. ${detail}`,
  }
}

// jsonschema's best_match prefers the error with the shortest path: unknown parameters (depth 0),
// then repeated ones (depth 1), then bad values (depth 2); ties keep schema order.
function firstError(errors: SchemaError[]): SchemaError | undefined {
  let best: SchemaError | undefined
  for (const e of errors) if (!best || e.depth < best.depth) best = e
  return best
}

/** Validates and converts the list query for a microversion. Throws `invalid_input` (400). */
export function parseListQuery(params: QueryParams, version: ApiVersion): ListQuery {
  // Before 2.58 every parameter is dropped and the list is unbounded.
  if (!atLeast(version, 58)) return {}
  const allowed = [
    'limit',
    'marker',
    'changes-since',
    ...(atLeast(version, 66) ? ['changes-before'] : []),
  ]
  const errors: SchemaError[] = []
  const unknown = [...params.keys()].filter((k) => !allowed.includes(k))
  if (unknown.length > 0) errors.push({ depth: 0, message: additionalProperties(unknown) })
  const single = new Map<string, string>()
  for (const name of allowed) {
    const values = params.get(name)
    if (!values) continue
    if (values.length > 1) {
      errors.push({
        depth: 1,
        message:
          `Invalid input for query parameters ${name}. ` +
          `Value: ${pyListRepr(values)}. ${pyListRepr(values)} is too long`,
      })
      continue
    }
    const value = values[0] as string
    if (name === 'limit') {
      if (!/^[0-9]*$/.test(value))
        errors.push(valueError(name, value, `${pyRepr(value)} does not match '^[0-9]*$'`))
      else if (value.length < 1)
        errors.push(valueError(name, value, `${pyRepr(value)} is too short`))
    } else if (name === 'changes-since' || name === 'changes-before') {
      if (parseTimestamp(value) === undefined)
        errors.push(valueError(name, value, `${pyRepr(value)} is not a 'date-time'`))
    }
    single.set(name, value)
  }
  const error = firstError(errors)
  if (error) throw badRequest(error.message)

  const query: ListQuery = { limit: MAX_LIMIT }
  const limit = single.get('limit')
  if (limit !== undefined) query.limit = Math.min(Number(limit), MAX_LIMIT)
  const marker = single.get('marker')
  if (marker !== undefined) query.marker = marker
  const since = single.get('changes-since')
  if (since !== undefined) query.changesSince = parseTimestamp(since)
  const before = single.get('changes-before')
  if (before !== undefined) query.changesBefore = parseTimestamp(before)
  if (query.changesSince && query.changesBefore && query.changesBefore < query.changesSince) {
    throw badRequest('The value of changes-since must be less than or equal to changes-before.')
  }
  return query
}

/** Validates the show query: ignored before 2.102, no parameters allowed from 2.102. */
export function checkShowQuery(params: QueryParams, version: ApiVersion): void {
  if (atLeast(version, 102) && params.size > 0)
    throw badRequest(additionalProperties([...params.keys()]))
}
