/**
 * Structural comparison of a JSON response with a Nova API sample: the same keys at every level,
 * the same JSON types (null is its own type), arrays of the same length compared item by item.
 * Returns the list of differences, each with its JSON path, so a failure names every mismatch.
 */

/** JSON type name of a value: string, number, boolean, null, array or object. */
export function jsonType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/** Options of shapeDiff. */
export interface ShapeOptions {
  /** Keys whose values must also be equal to the sample's (constants of the scenario). */
  sameValue?: ReadonlySet<string>
  /** String formats (e.g. Nova's datetime): where a sample string matches one, ours must too. */
  formats?: readonly RegExp[]
}

/** Differences between `actual` and the `sample` shape; empty when they match. */
export function shapeDiff(
  actual: unknown,
  sample: unknown,
  opts: ShapeOptions = {},
  path = '$',
): string[] {
  const ta = jsonType(actual)
  const ts = jsonType(sample)
  if (ta !== ts) return [`${path}: type ${ta}, sample has ${ts}`]
  if (ts === 'array') {
    const a = actual as unknown[]
    const s = sample as unknown[]
    if (a.length !== s.length) return [`${path}: ${a.length} items, sample has ${s.length}`]
    return s.flatMap((item, i) => shapeDiff(a[i], item, opts, `${path}[${i}]`))
  }
  if (ts === 'object') {
    const a = actual as Record<string, unknown>
    const s = sample as Record<string, unknown>
    const diffs: string[] = []
    for (const key of Object.keys(s)) if (!(key in a)) diffs.push(`${path}.${key}: missing`)
    for (const key of Object.keys(a)) if (!(key in s)) diffs.push(`${path}.${key}: not in sample`)
    for (const key of Object.keys(s)) {
      if (!(key in a)) continue
      diffs.push(...shapeDiff(a[key], s[key], opts, `${path}.${key}`))
      if (
        opts.sameValue?.has(key) &&
        jsonType(s[key]) !== 'object' &&
        jsonType(s[key]) !== 'array' &&
        a[key] !== s[key]
      ) {
        diffs.push(
          `${path}.${key}: value ${JSON.stringify(a[key])}, sample has ${JSON.stringify(s[key])}`,
        )
      }
    }
    return diffs
  }
  if (ts === 'string') {
    const format = opts.formats?.find((f) => f.test(sample as string))
    if (format && !format.test(actual as string))
      return [`${path}: ${JSON.stringify(actual)} does not match ${format}`]
  }
  return []
}
