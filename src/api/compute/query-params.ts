/**
 * Query strings as Nova sees them: every parameter is a list (a name may repeat), decoded with `+`
 * as space. Parsed from the raw URL so that repetition and order are preserved.
 */

/** Parameter name → values in request order; insertion order is first appearance. */
export type QueryParams = Map<string, string[]>

/** Parses the query part of a raw request URL. */
export function parseQuery(rawUrl: string): QueryParams {
  const q = rawUrl.indexOf('?')
  const params: QueryParams = new Map()
  if (q < 0) return params
  for (const [k, v] of new URLSearchParams(rawUrl.slice(q + 1))) {
    const list = params.get(k)
    if (list) list.push(v)
    else params.set(k, [v])
  }
  return params
}
