/**
 * What `GET /v1/actions` and `GET /v1/events` parse alike (action-query.ts, event-query.ts): the
 * filters both take, the time field, `state=stuck`, the page size, and the canonical scope text a
 * cursor is bound to. Parsed from the raw URL so that a repeated single-valued parameter is
 * caught; every refusal is `invalid_input` naming the parameter.
 */
import { AppError } from '../../domain/errors.js'
import { parseTimestamp, type Timestamp } from '../../domain/timestamp.js'
import type { ActionResultFilter, ActionSearch, QueryTimeField } from '../../store/action-store.js'
import type { QueryParams } from '../compute/query-params.js'

/** Page size when `limit` is absent. */
export const DEFAULT_LIMIT = 50
/** The largest page: bounds the work and the answer of one request. */
export const MAX_LIMIT = 1000

/** Single-valued parameters common to both searches. */
export const COMMON_SINGLE = [
  'instance',
  'project',
  'owner_project',
  'user',
  'request_id',
  'result',
  'host',
  'since',
  'until',
  'time_field',
  'state',
  'limit',
  'cursor',
  'archived',
] as const

/**
 * The parameters `archived=true` allows (issue 13): each is served on the shadow tables by an
 * index of migration 0012 (filter, start_time, id), so a page of archived history stays an index
 * range read. `include` is the actions route's display option.
 */
const ARCHIVED_PARAMETERS = new Set([
  'archived',
  'instance',
  'owner_project',
  'request_id',
  'since',
  'until',
  'limit',
  'cursor',
  'include',
])

const RESULTS: readonly ActionResultFilter[] = ['success', 'error', 'running']
const TIME_FIELDS: readonly QueryTimeField[] = ['start_time', 'updated_at']
/** The values of `state`: only `stuck` (unfinished past its deadline) so far. */
const STATES = ['stuck'] as const

/**
 * The common filters as a search, without position or deadlines: the store's ActionSearch (the one
 * definition of these fields), whose `ownerProjectId` access restrictions set later.
 */
export type CommonSearch = Omit<ActionSearch, 'stuck' | 'after'>

/** A parsed search request. */
export interface ParsedSearch<S> {
  search: S
  /** `state=stuck` was asked for: the caller adds the deadlines at its clock's now. */
  stuck: boolean
  cursor?: string
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

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw bad(`Invalid ${name}: '${value}' is not one of ${allowed.join(', ')}.`)
  return value as T
}

/**
 * Checks the parameters (the common ones plus `single`/`repeatable`) and parses the common ones.
 * `route` and the parameters in `unscoped` (display options such as `include`) are left out of
 * the scope text with `cursor` and `limit`; `route` prefixes it so that a cursor of one route is
 * refused by the other.
 */
export function parseCommonSearch(
  params: QueryParams,
  options: {
    single: readonly string[]
    repeatable: readonly string[]
    unscoped?: readonly string[]
    route: string
  },
): ParsedSearch<CommonSearch> {
  checkQueryParams(params, [...COMMON_SINGLE, ...options.single], options.repeatable)
  const one = (name: string): string | undefined => params.get(name)?.[0]
  const search: CommonSearch = { limit: parseLimit(one('limit')) }
  const set = <K extends keyof CommonSearch>(key: K, value: CommonSearch[K] | undefined): void => {
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
  if (result !== undefined) search.result = oneOf('result', result, RESULTS)
  const timeField = one('time_field')
  if (timeField !== undefined) search.timeField = oneOf('time_field', timeField, TIME_FIELDS)
  const state = one('state')
  if (state !== undefined) oneOf('state', state, STATES)
  const since = one('since')
  const until = one('until')
  if (since !== undefined) search.since = time('since', since)
  if (until !== undefined) search.until = time('until', until)
  if (search.since !== undefined && search.until !== undefined && search.since > search.until)
    throw bad(`Invalid since: ${since} is later than until (${until}).`)
  const archived = one('archived')
  if (archived !== undefined && oneOf('archived', archived, ['true', 'false']) === 'true') {
    search.archived = true
    for (const [name] of params)
      if (!ARCHIVED_PARAMETERS.has(name))
        throw bad(
          `Query parameter '${name}' is not supported with archived=true ` +
            `(only instance, owner_project, request_id, since and until).`,
        )
  }
  const cursor = one('cursor')
  const skip = new Set(['cursor', 'limit', ...(options.unscoped ?? [])])
  const repeatable = new Set(options.repeatable)
  // Every filter but the page size and the cursor itself; the same filters give the same text.
  const filters = JSON.stringify(
    [...params]
      .filter(([name]) => !skip.has(name))
      .map(([name, values]) => [name, repeatable.has(name) ? [...values].sort() : values])
      .sort(([a], [b]) => String(a).localeCompare(String(b))),
  )
  return {
    search,
    stuck: state === 'stuck',
    ...(cursor !== undefined ? { cursor } : {}),
    scope: options.route === 'actions' ? filters : `${options.route}\n${filters}`,
  }
}
