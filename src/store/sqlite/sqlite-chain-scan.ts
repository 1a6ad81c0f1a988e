/**
 * SQLite's reader for `verifyChain` (store/chain/chain-reader.ts): prepared statements on the
 * native better-sqlite3 handle in raw mode, rows as arrays, digests computed from the arrays.
 *
 * Why: through Kysely's SQLite driver every row is an object with one property per column, and
 * building and collecting those objects was most of verify's CPU profile (issue 13, 50,000–67,000
 * records/s). A raw row is one array, and the record's statement selects the kind first and the
 * digest columns in encoding order, so the array, once its values are canonical, IS the
 * canonical encoding's array: `JSON.stringify(row)` gives the bytes canonical-record.ts would
 * (sqlite-chain-scan.test.ts checks them against it, odd values included).
 */
import type BetterSqlite3 from 'better-sqlite3'
import {
  ACTION_DIGEST_COLUMNS,
  EVENT_DIGEST_COLUMNS,
} from '../../security/chain/canonical-record.js'
import { sha256 } from '../../security/chain/sha256.js'
import type { ChainReader, ChangeTuple, RecordTable } from '../chain/chain-reader.js'
import { canonicalTime } from '../rows.js'

/** How one column of a digest's encoding is made canonical (as canonical-record.ts does). */
const enum Cell {
  /** `Number(v)` */
  Id,
  /** `String(v)`, null kept */
  Text,
  /** canonicalTime(v) */
  Time,
  /** canonicalTime(v), null kept */
  TimeOrNull,
}

const TIME_COLUMNS = new Set(['start_time', 'created_at'])
const TIME_OR_NULL_COLUMNS = new Set(['finish_time', 'updated_at'])
const ID_COLUMNS = new Set(['id', 'action_id'])

/** The cells of a row as selected: the kind first, then the digest columns. */
const cellsOf = (columns: readonly string[]): Cell[] => [
  Cell.Text,
  ...columns.map((c) =>
    ID_COLUMNS.has(c)
      ? Cell.Id
      : TIME_COLUMNS.has(c)
        ? Cell.Time
        : TIME_OR_NULL_COLUMNS.has(c)
          ? Cell.TimeOrNull
          : Cell.Text,
  ),
]

const ACTION_CELLS = cellsOf(ACTION_DIGEST_COLUMNS)
const EVENT_CELLS = cellsOf(EVENT_DIGEST_COLUMNS)

/**
 * The digest of a raw row `[kind, ...digest columns]` (made canonical in place); '' when a time
 * column holds something that is not a time (canonical-record.ts throws there).
 */
export function rawRowDigest(row: unknown[], cells: readonly Cell[]): string {
  for (let i = 1; i < row.length; i++) {
    const v = row[i]
    switch (cells[i]) {
      case Cell.Id:
        if (typeof v !== 'number') row[i] = Number(v)
        break
      case Cell.Text:
        if (v !== null && typeof v !== 'string') row[i] = v === undefined ? null : String(v)
        break
      case Cell.TimeOrNull:
        if (v === null || v === undefined) {
          row[i] = null
          break
        }
      // falls through: a time
      case Cell.Time:
        // The common case (SQLite stores canonical text): nothing to do, as canonicalTime.
        if (typeof v === 'string' && v.length === 26 && v.charCodeAt(10) === 84) break
        try {
          row[i] = canonicalTime(v)
        } catch {
          return ''
        }
    }
  }
  return sha256(JSON.stringify(row))
}

/** The digest of a raw action row `['action', ...ACTION_DIGEST_COLUMNS]`. */
export const rawActionDigest = (row: unknown[]): string => rawRowDigest(row, ACTION_CELLS)

/** The digest of a raw event row `['event', ...EVENT_DIGEST_COLUMNS]`. */
export const rawEventDigest = (row: unknown[]): string => rawRowDigest(row, EVENT_CELLS)

/** The statement selecting a table's digest columns, kind first (for {@link rawRowDigest}). */
const recordSelect = (table: RecordTable): string =>
  table.endsWith('_events')
    ? `SELECT 'event', ${EVENT_DIGEST_COLUMNS.join(', ')} FROM ${table}`
    : `SELECT 'action', ${ACTION_DIGEST_COLUMNS.join(', ')} FROM ${table}`

/** A reader over `native` (statements prepared on first use, for one verify). */
export function sqliteChainReader(native: BetterSqlite3.Database): ChainReader {
  const statements = new Map<string, BetterSqlite3.Statement>()
  const raw = (sqlText: string): BetterSqlite3.Statement => {
    let s = statements.get(sqlText)
    if (!s) {
      s = native.prepare(sqlText).raw(true)
      statements.set(sqlText, s)
    }
    return s
  }
  return {
    head: () => {
      const row = native.prepare('SELECT last, link FROM change_head WHERE id = 1').get() as
        | { last: unknown; link: unknown }
        | undefined
      return Promise.resolve(row)
    },
    changesBelow: (before, limit) =>
      Promise.resolve(
        raw(
          'SELECT position, kind, action_id, event_id, digest, link FROM changes ' +
            'WHERE position < ? ORDER BY position DESC LIMIT ?',
        ).all(before, limit) as ChangeTuple[],
      ),
    digestsOf: (table, ids) => Promise.resolve(digestsOf(raw, table, ids)),
    idsAbove: (table, after, limit) =>
      Promise.resolve(
        raw(
          `SELECT id, ${table === 'instance_actions' ? 'id' : 'action_id'} FROM ${table} ` +
            'WHERE id > ? ORDER BY id LIMIT ?',
        ).all(after, limit) as [number, number][],
      ),
  }
}

function digestsOf(
  raw: (sqlText: string) => BetterSqlite3.Statement,
  table: RecordTable,
  ids: readonly number[],
): Map<number, string> {
  const digests = new Map<number, string>()
  if (ids.length === 0) return digests
  const digestOf = table.endsWith('_events') ? rawEventDigest : rawActionDigest
  const sorted = Float64Array.from(ids).sort()
  const min = sorted[0]!
  const max = sorted[sorted.length - 1]!
  if (max - min + 1 > 2 * ids.length) {
    // Sparse ids: one seek each (cheap on SQLite, no round trip).
    const byId = raw(`${recordSelect(table)} WHERE id = ?`)
    for (const id of sorted) {
      const row = byId.get(id) as unknown[] | undefined
      if (row) digests.set(id, digestOf(row))
    }
    return digests
  }
  // Dense ids: one range read in id order, merged with the sorted ids so that only the rows
  // asked for are hashed.
  const rows = raw(`${recordSelect(table)} WHERE id BETWEEN ? AND ? ORDER BY id`).all(min, max) as
    unknown[][]
  let k = 0
  for (const row of rows) {
    const id = row[1] as number
    while (k < sorted.length && sorted[k]! < id) k++
    if (k === sorted.length) break
    if (sorted[k] === id) digests.set(id, digestOf(row))
  }
  return digests
}
