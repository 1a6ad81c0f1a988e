/**
 * The query string of `GET /v1/events` (see search-params.ts for what it shares with
 * `GET /v1/actions`): `event` (repeatable) names the event; `action` is the parent action's name.
 */
import type { QueryParams } from '../compute/query-params.js'
import { parseCommonSearch, type CommonSearch, type ParsedSearch } from './search-params.js'

/** The common filters plus event names. */
export interface EventQuerySearch extends CommonSearch {
  events?: readonly string[]
}

/** Parses and checks the parameters; every refusal is `invalid_input` naming the parameter. */
export function parseEventQuery(params: QueryParams): ParsedSearch<EventQuerySearch> {
  const parsed: ParsedSearch<EventQuerySearch> = parseCommonSearch(params, {
    single: [],
    repeatable: ['action', 'event'],
    route: 'events',
  })
  const events = params.get('event')
  if (events !== undefined) parsed.search.events = events
  return parsed
}
