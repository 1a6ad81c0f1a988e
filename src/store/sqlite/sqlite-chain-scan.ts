/**
 * SQLite's reader for `verifyChain` (store/chain/chain-reader.ts): prepared statements on the
 * native better-sqlite3 handle in raw mode (rows as arrays, not objects).
 *
 * Why: through Kysely's SQLite driver every row is an object with one property per column, and
 * building and collecting those objects was most of verify's CPU profile (issue 13, 50,000–67,000
 * records/s). Here a record is read as one string SQLite builds (`json_array` of the kind and the
 * digest columns, in encoding order), and a change row brings its link's JSON the same way; each
 * is trusted only when its SHA-256 is the one the chain holds, else the row is read as cells and
 * made canonical the exact way (rawRowDigest, the same values as canonical-record.ts) before
 * anything is reported. Measured: 2.0–2.3× less CPU per verify (docs/benchmarks.md).
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

/**
 * The statement selecting a table's id and its row as SQLite's `json_array` of the kind and the
 * digest columns: one string per row, built in C, instead of 13 or 14 cells each made a
 * JavaScript value. It is the canonical encoding whenever the cells hold what ActionTrail writes
 * (canonical times, texts, integer ids; SQLite quotes strings as JSON.stringify does); when it
 * does not give the entry's digest, the row is hashed the exact way before anything is reported.
 * A match is exact: both texts are JSON, so equal bytes mean equal values, already canonical.
 */
const recordJsonSelect = (table: RecordTable): string =>
  table.endsWith('_events')
    ? `SELECT id, json_array('event', ${EVENT_DIGEST_COLUMNS.join(', ')}) FROM ${table}`
    : `SELECT id, json_array('action', ${ACTION_DIGEST_COLUMNS.join(', ')}) FROM ${table}`

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
        { last: unknown; link: unknown } | undefined
      return Promise.resolve(row)
    },
    changesBelow: (before, limit) => {
      try {
        // The link's JSON built by SQLite: 25 % less CPU for the links than JSON.stringify and a
        // fresh buffer per entry (bench, 120,000 entries, interleaved).
        return Promise.resolve(
          raw(
            'SELECT position, kind, action_id, event_id, digest, link, ' +
              'json_array(position, kind, action_id, event_id, digest) FROM changes ' +
              'WHERE position < ? ORDER BY position DESC LIMIT ?',
          ).all(before, limit) as ChangeTuple[],
        )
      } catch {
        // json_array refuses a BLOB cell (a change row altered): this page without the JSON.
        return Promise.resolve(
          raw(
            'SELECT position, kind, action_id, event_id, digest, link FROM changes ' +
              'WHERE position < ? ORDER BY position DESC LIMIT ?',
          ).all(before, limit) as ChangeTuple[],
        )
      }
    },
    digestsOf: (table, ids, expected) => Promise.resolve(digestsOf(raw, table, ids, expected)),
    countRows: (table) =>
      Promise.resolve(Number(native.prepare(`SELECT count(*) FROM ${table}`).pluck().get())),
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
  expected: readonly string[],
): (string | undefined)[] {
  const digests = new Array<string | undefined>(ids.length).fill(undefined)
  if (ids.length === 0) return digests
  const exact = table.endsWith('_events') ? rawEventDigest : rawActionDigest
  const byId = raw(`${recordSelect(table)} WHERE id = ?`)
  /** The exact digest of row `id` (canonical-record.ts's encoding from the cells). */
  const exactDigest = (id: number): string | undefined => {
    const row = byId.get(id) as unknown[] | undefined
    return row && exact(row)
  }
  /** Takes the JSON's digest when it is the expected one, else the exact one. */
  const take = (i: number, json: unknown) => {
    const digest = typeof json === 'string' ? sha256(json) : ''
    digests[i] = digest !== '' && digest === expected[i] ? digest : exactDigest(ids[i]!)
  }
  let min = Infinity
  let max = -Infinity
  for (const id of ids) {
    if (id < min) min = id
    if (id > max) max = id
  }
  try {
    if (max - min + 1 > 2 * ids.length) {
      // Sparse ids: one seek each (cheap on SQLite, no round trip).
      const one = raw(`${recordJsonSelect(table)} WHERE id = ?`)
      for (let i = 0; i < ids.length; i++) {
        const row = one.get(ids[i]) as [number, unknown] | undefined
        if (row) take(i, row[1])
      }
    } else {
      // Dense ids (the usual case: a page of entries covers records written together): one range
      // read; an index by id offset (at most twice the ids) says which rows were asked for, so
      // that only those are hashed. Ids are distinct (verify asks for each record once).
      const at = new Int32Array(max - min + 1).fill(-1)
      for (let i = 0; i < ids.length; i++) at[ids[i]! - min] = i
      const rows = raw(`${recordJsonSelect(table)} WHERE id BETWEEN ? AND ?`).all(min, max) as [
        number,
        unknown,
      ][]
      for (const row of rows) {
        const i = at[row[0] - min]!
        if (i >= 0) take(i, row[1])
      }
    }
  } catch {
    // json_array refuses a BLOB cell (a row altered behind ActionTrail's back): hash these rows
    // the exact way.
    for (let i = 0; i < ids.length; i++) digests[i] = exactDigest(ids[i]!)
  }
  return digests
}
