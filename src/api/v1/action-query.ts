/**
 * The query string of `GET /v1/actions`, parsed from the raw URL so that a repeated single-valued
 * parameter is caught (a parsed object would silently keep one value), into a store search. Every
 * refusal is `invalid_input` with a message naming the parameter.
 */
import { AppError } from '../../domain/errors.js'
import type { QueryParams } from '../compute/query-params.js'
import { parseCommonSearch, type CommonSearch, type ParsedSearch } from './search-params.js'

export { checkQueryParams, DEFAULT_LIMIT, MAX_LIMIT, parseLimit } from './search-params.js'

const SINGLE = ['include'] as const
const REPEATABLE = ['action'] as const

/** The filters and paging of a parsed action query (access restrictions are added later). */
export interface ActionQueryParams extends ParsedSearch<CommonSearch> {
  includeEvents: boolean
}

function bad(message: string): AppError {
  return new AppError('invalid_input', message)
}

/** Parses and checks the parameters. */
export function parseActionQuery(params: QueryParams): ActionQueryParams {
  const parsed = parseCommonSearch(params, {
    single: SINGLE,
    repeatable: REPEATABLE,
    unscoped: ['include'],
    route: 'actions',
  })
  const include = params.get('include')?.[0]
  if (include !== undefined && include !== 'events')
    throw bad(`Invalid include: '${include}' (the only value is 'events').`)
  return { ...parsed, includeEvents: include === 'events' }
}
