/**
 * How `verifyChain` reads the database, behind one interface so that verify-chain.ts stays free
 * of any backend: the default reads through Kysely (every backend, rows as objects); a backend
 * may offer a faster one with the database it opens (StoreDatabase.chainReader; SQLite:
 * store/sqlite/sqlite-chain-scan.ts, arrays from the native handle). Verify's speed on SQLite was
 * bound by building the driver's row objects and collecting them (docs/benchmarks.md, issue 13).
 */
import type { Kysely } from 'kysely'
import {
  ACTION_DIGEST_COLUMNS,
  actionDigest,
  EVENT_DIGEST_COLUMNS,
  eventDigest,
} from '../../security/chain/canonical-record.js'
import { rowsById } from '../write/change-feed.js'
import type { Row } from '../write/sql-step.js'
import { queryRows, runPlainProgram } from './run-plain-program.js'

/**
 * A change row: `[position, kind, action_id, event_id, digest, link]`, as stored, and optionally
 * the JSON a link covers (`[position, kind, action_id, event_id, digest]`, chain-link.ts) built
 * by the database: verify trusts it only when the link it gives matches the stored one.
 */
export type ChangeTuple = readonly [unknown, unknown, unknown, unknown, unknown, unknown, unknown?]

/** The tables whose records the chain covers (live, and retention's shadow copies). */
export type RecordTable =
  | 'instance_actions'
  | 'instance_actions_events'
  | 'shadow_instance_actions'
  | 'shadow_instance_actions_events'

/** What verify reads. Every method reads committed rows; none writes. */
export interface ChainReader {
  /** The `change_head` row (last position and link), if any. */
  head(): Promise<{ last: unknown; link: unknown } | undefined>
  /** Up to `limit` change rows with a position below `before`, highest first. */
  changesBelow(before: number, limit: number): Promise<ChangeTuple[]>
  /**
   * The digest (canonical-record.ts) of the row of `table` with id `ids[i]`, at index i;
   * undefined where there is no such row. A row whose columns no longer hold what ActionTrail writes (a mangled time)
   * has the digest '' (it matches no entry). `expected[i]` is the digest the chain holds for
   * `ids[i]` ('' if none): a reader may take a shortcut that is only trusted when it gives the
   * expected digest, and must give the exact digest otherwise.
   */
  digestsOf(
    table: RecordTable,
    ids: readonly number[],
    expected: readonly string[],
  ): Promise<(string | undefined)[]>
  /**
   * The number of rows of a live table, where the backend counts much faster than it lists ids
   * (SQLite counts in C); absent where it does not, and then verify lists ids as before.
   */
  countRows?(table: 'instance_actions' | 'instance_actions_events'): Promise<number>
  /** Rows per page this reader reads best (default: verify's 5000). */
  readonly pageSize?: number
  /** Up to `limit` live rows' `[id, action_id]` with an id above `after`, in id order. */
  idsAbove(
    table: 'instance_actions' | 'instance_actions_events',
    after: number,
    limit: number,
  ): Promise<(readonly [number, number])[]>
}

const isAction = (table: RecordTable) => !table.endsWith('_events')

/** The reader of every backend: statements through Kysely, rows as objects. */
export function kyselyChainReader(db: Kysely<unknown>): ChainReader {
  return {
    head: async () =>
      (await queryRows(db, 'SELECT last, link FROM change_head WHERE id = 1'))[0] as
        { last: unknown; link: unknown } | undefined,
    changesBelow: async (before, limit) =>
      (
        await queryRows(
          db,
          'SELECT position, kind, action_id, event_id, digest, link FROM changes ' +
            `WHERE position < ? ORDER BY position DESC LIMIT ${Math.trunc(limit)}`,
          [before],
        )
      ).map((r) => [r.position, r.kind, r.action_id, r.event_id, r.digest, r.link] as const),
    digestsOf: async (table, ids) => {
      // Every digest is computed the exact way: no shortcut to check against `expected`.
      const action = isAction(table)
      const rows = await rowsNear(
        db,
        table,
        action ? ACTION_DIGEST_COLUMNS : EVENT_DIGEST_COLUMNS,
        ids,
      )
      const digestOf = action ? actionDigest : eventDigest
      // A range read may return rows not asked for: only those asked for are hashed.
      return ids.map((id) => {
        const row = rows.get(id)
        return row && safeDigest(digestOf, row)
      })
    },
    idsAbove: async (table, after, limit) =>
      (
        await queryRows(
          db,
          `SELECT id${table === 'instance_actions' ? ', id AS action_id' : ', action_id'} ` +
            `FROM ${table} WHERE id > ? ORDER BY id LIMIT ${Math.trunc(limit)}`,
          [after],
        )
      ).map((r) => [Number(r.id), Number(r.action_id)] as const),
  }
}

/**
 * The rows of `table` with the given ids: one range read when the ids are dense (the usual case:
 * a page of entries covers records written together), else lookups by primary key. A range read
 * costs one index walk instead of one seek per id.
 */
async function rowsNear(
  database: Kysely<unknown>,
  table: string,
  columns: readonly string[],
  ids: readonly number[],
): Promise<Map<number, Row>> {
  if (ids.length === 0) return new Map()
  let min = Infinity
  let max = -Infinity
  for (const id of ids) {
    if (id < min) min = id
    if (id > max) max = id
  }
  if (max - min + 1 > 2 * ids.length)
    return runPlainProgram(database, rowsById(table, columns, ids))
  const rows = await queryRows(
    database,
    `SELECT ${columns.join(', ')} FROM ${table} WHERE id BETWEEN ? AND ?`,
    [min, max],
  )
  const byId = new Map<number, Row>()
  for (const row of rows) byId.set(Number(row.id), row)
  return byId
}

/** The row's digest; '' when a column no longer holds what ActionTrail writes (a mangled time). */
function safeDigest(digestOf: (row: Row) => string, row: Row): string {
  try {
    return digestOf(row)
  } catch {
    return ''
  }
}
