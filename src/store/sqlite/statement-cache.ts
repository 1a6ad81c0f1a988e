/**
 * Prepared statements kept by SQL text for Kysely's SQLite dialect, which prepares every query it
 * runs again. Why: the same few dozen statements serve every read (the query API's searches, the
 * compute API's list and show, the stream's reads of changed rows), and SQLite compiles each one
 * anew: 31 µs for the stream's 100-row `id IN (…)` read, against 29 µs to run it for its ids
 * alone (tmp micro-benchmark, 2026-12-07).
 *
 * A statement still stepping (an open `iterate`, Kysely's streamed queries) cannot be run again
 * until it finishes: while it is busy, a second one is prepared for the caller and not kept.
 */
import type { Database as Native, Statement } from 'better-sqlite3'

/**
 * Statements kept (least recently used dropped first). The texts vary with the number of ids of
 * an `IN (…)` list and with the filters of a search, so the set is open; a few hundred cover what
 * a server runs repeatedly, at a few kilobytes each.
 */
export const STATEMENT_CACHE_SIZE = 500

/** Returns `prepare(sql)` for `native` that reuses the statement last prepared for the text. */
export function cachedPrepare(
  native: Native,
  capacity = STATEMENT_CACHE_SIZE,
): (sqlText: string) => Statement {
  const kept = new Map<string, Statement>()
  return (sqlText) => {
    const found = kept.get(sqlText)
    if (found) {
      if (found.busy) return native.prepare(sqlText)
      // Most recently used last: a Map iterates in insertion order.
      kept.delete(sqlText)
      kept.set(sqlText, found)
      return found
    }
    const statement = native.prepare(sqlText)
    kept.set(sqlText, statement)
    if (kept.size > capacity) kept.delete(kept.keys().next().value as string)
    return statement
  }
}
