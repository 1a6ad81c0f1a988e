/**
 * The query string of `GET /v1/actions`, parsed from the raw URL so that a repeated single-valued
 * parameter is caught (a parsed object would silently keep one value), into a store search. Every
 * refusal is `invalid_input` with a message naming the parameter.
 */
import { AppError } from '../../domain/errors.js'
import { parseTimestamp, type Timestamp } from '../../domain/timestamp.js'
import type { ActionResultFilter, ActionSearch } from '../../store/action-store.js'
import type { QueryParams } from '../compute/query-params.js'

/** Page size when `limit` is absent. */
export const DEFAULT_LIMIT = 50
/** The largest page: bounds the work and the answer of one request. */
export const MAX_LIMIT = 1000

const SINGLE = [
  'instance',
  'project',
  'owner_project',
  'user',
  'request_id',
  'result',
  'host',
  'since',
  'until',
  'limit',
  'cursor',
  'include',
] as const
const REPEATABLE = ['action'] as const
const RESULTS: readonly ActionResultFilter[] = ['success', 'error', 'running']

/** The filters and paging of a parsed action query (access restrictions are added later). */
export interface ActionQueryParams {
  /** The search without position or access filters. */
  search: Omit<ActionSearch, 'after'>
  cursor?: string
  includeEvents: boolean
  /** The filters in a canonical text: a cursor is valid only for the same filters. */
  scope: string
}

function bad(message: string): AppError {
  return new AppError('invalid_input', message)
}

function time(name: string, value: string): Timestamp {
  const t = parseTimestamp(value)
  if (t === undefined) throw bad(`Invalid ${name}: '${value}' is not an ISO 8601 time.`)
  return t
}

/**
 * Refuses unknown parameters, repeated single-valued ones and empty values, naming the parameter.
 */
export function checkQueryParams(
  params: QueryParams,
  single: readonly string[],
  repeatable: readonly string[] = [],
): void {
  const known = new Set<string>([...single, ...repeatable])
  for (const [name, values] of params) {
    if (!known.has(name)) throw bad(`Unknown query parameter '${name}'.`)
    if (values.length > 1 && !repeatable.includes(name))
      throw bad(`Query parameter '${name}' may be given only once.`)
    for (const v of values) if (v === '') throw bad(`Query parameter '${name}' is empty.`)
  }
}

/** Parses `limit`: 1 to MAX_LIMIT, DEFAULT_LIMIT when absent. */
export function parseLimit(limit: string | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT
  if (!/^\d{1,7}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_LIMIT)
    throw bad(`Invalid limit: '${limit}' is not an integer from 1 to ${MAX_LIMIT}.`)
  return Number(limit)
}

/** Parses and checks the parameters. */
export function parseActionQuery(params: QueryParams): ActionQueryParams {
  checkQueryParams(params, SINGLE, REPEATABLE)
  const one = (name: (typeof SINGLE)[number]): string | undefined => params.get(name)?.[0]
  const search: Omit<ActionSearch, 'after'> = { limit: parseLimit(one('limit')) }
  type Search = Omit<ActionSearch, 'after'>
  const set = <K extends keyof Search>(key: K, value: Search[K] | undefined): void => {
    if (value !== undefined) search[key] = value
  }
  set('instanceUuid', one('instance'))
  set('projectId', one('project'))
  set('ownerProjectId', one('owner_project'))
  set('userId', one('user'))
  set('requestId', one('request_id'))
  set('host', one('host'))
  set('actions', params.get('action'))
  const result = one('result')
  if (result !== undefined) {
    if (!(RESULTS as readonly string[]).includes(result))
      throw bad(`Invalid result: '${result}' is not one of ${RESULTS.join(', ')}.`)
    search.result = result as ActionResultFilter
  }
  const since = one('since')
  const until = one('until')
  if (since !== undefined) search.since = time('since', since)
  if (until !== undefined) search.until = time('until', until)
  if (search.since !== undefined && search.until !== undefined && search.since > search.until)
    throw bad(`Invalid since: ${since} is later than until (${until}).`)
  const include = one('include')
  if (include !== undefined && include !== 'events')
    throw bad(`Invalid include: '${include}' (the only value is 'events').`)
  const cursor = one('cursor')
  // Every filter but the page size and the cursor itself; the same filters give the same text.
  const scope = JSON.stringify(
    [...params]
      .filter(([name]) => name !== 'cursor' && name !== 'limit' && name !== 'include')
      .map(([name, values]) => [name, name === 'action' ? [...values].sort() : values])
      .sort(([a], [b]) => String(a).localeCompare(String(b))),
  )
  return {
    search,
    ...(cursor !== undefined ? { cursor } : {}),
    includeEvents: include === 'events',
    scope,
  }
}
