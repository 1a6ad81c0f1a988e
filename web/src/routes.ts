/**
 * The page's deep-linkable places, kept in the URL's fragment (`#/…`) so that the server serves one
 * file for all of them and the filters of a view are shareable links. The token is never there.
 */

/** The filters of the recent-actions view, exactly the query API's parameters. */
export const FILTER_KEYS = [
  'instance',
  'project',
  'user',
  'action',
  'result',
  'host',
  'since',
  'until',
] as const

/** One filter's name. */
export type FilterKey = (typeof FILTER_KEYS)[number]

/** Where the page is. */
export type Route =
  | { view: 'actions'; filters: URLSearchParams }
  | { view: 'instance'; uuid: string }
  | { view: 'action'; uuid: string; requestId: string }

/** The route of a fragment (`#/instances/…`); the recent actions for anything unknown. */
export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?', 2)
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent)
  if (parts[0] === 'instances' && parts[1] !== undefined) {
    if (parts[2] === 'actions' && parts[3] !== undefined)
      return { view: 'action', uuid: parts[1], requestId: parts[3] }
    return { view: 'instance', uuid: parts[1] }
  }
  const given = new URLSearchParams(query)
  const filters = new URLSearchParams()
  // Only the known filters, each once: a hand-edited link cannot make the page send anything else.
  for (const key of FILTER_KEYS) {
    const value = given.get(key)
    if (value) filters.set(key, value)
  }
  return { view: 'actions', filters }
}

/** The fragment of a route. */
export function routeHref(route: Route): string {
  switch (route.view) {
    case 'actions': {
      const query = route.filters.toString()
      return query ? `#/actions?${query}` : '#/actions'
    }
    case 'instance':
      return `#/instances/${encodeURIComponent(route.uuid)}`
    case 'action':
      return `#/instances/${encodeURIComponent(route.uuid)}/actions/${encodeURIComponent(route.requestId)}`
  }
}
