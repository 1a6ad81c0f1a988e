/**
 * A page of a search whose filter is a list of values (`action=a&action=b`), as one ordered,
 * limited subquery per value merged by an outer ORDER BY … LIMIT. `column IN (a, b)` ORDER BY
 * time DESC, id DESC LIMIT n is not an index range in that order: SQLite reads every match of
 * every value through the (column, time, id) index and sorts them all in a temp B-tree (923 ms
 * for action=resize&action=live-migration at 1M actions, docs/benchmarks.md), where each value
 * alone is a range read newest first that stops after a page. So each value gets its own page
 * and the outer query keeps the first `limit` of at most values × limit rows.
 */
import type { Kysely, SelectQueryBuilder } from 'kysely'

/**
 * The distinct values of a repeatable filter, in their first order: `UNION ALL` of one branch per
 * value would return a row twice for a value given twice.
 */
export function distinctValues(values: readonly string[]): string[] {
  return [...new Set(values)]
}

/**
 * `SELECT * FROM (branch₁ UNION ALL branch₂ …) ORDER BY time DESC, id DESC LIMIT limit`, each
 * branch wrapped as a derived table so that its own ORDER BY and LIMIT hold (SQLite allows
 * neither on a compound's member, MariaDB ignores ORDER BY in a union member without one).
 * `time` and `id` are the output column names the branches order by. The keyset position is a
 * filter of every branch, so the pages follow each other exactly as the single query's would.
 */
export function unionOfPages<D, DB, TB extends keyof DB, O>(
  db: Kysely<D>,
  branches: readonly SelectQueryBuilder<DB, TB, O>[],
  time: string,
  id: string,
  limit: number,
): SelectQueryBuilder<DB, TB, O> {
  // Kysely's types cannot follow derived tables named at run time; the rows are the branches' own.
  const d = db as unknown as Kysely<Record<string, Record<string, unknown>>>
  const wrapped = branches.map((b, i) =>
    d
      .selectFrom((b as unknown as SelectQueryBuilder<never, never, object>).as(`b${i}`))
      .selectAll(),
  )
  const [first, ...rest] = wrapped
  if (first === undefined) throw new Error('unionOfPages: no branch')
  const union = rest.reduce((u, b) => u.unionAll(b), first)
  return d
    .selectFrom(union.as('u'))
    .selectAll()
    .orderBy(`u.${time}`, 'desc')
    .orderBy(`u.${id}`, 'desc')
    .limit(limit) as unknown as SelectQueryBuilder<DB, TB, O>
}
