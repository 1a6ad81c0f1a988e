/**
 * What the write executor needs to know about PostgreSQL: `$n` placeholders, `RETURNING id` for
 * inserted keys, the action row lock, and which SQLSTATEs are worth a retry.
 */
import type { ServerSql } from '../write/async-write-executor.js'
import { errorChain, isNetworkError } from '../server-errors.js'

// Connection exceptions (class 08), too many connections, shutdown / not yet accepting.
const UNAVAILABLE_STATES = /^(08...|25006|53300|57P01|57P02|57P03)$/
// Serialization failure, deadlock, lock timeout, and a unique key another node inserted first
// (the programs look before they insert, so only a concurrent writer can cause one).
const RACE_STATES = new Set(['40001', '40P01', '55P03', '23505'])
// pg reports a lost or timed-out connection by message, without a SQLSTATE.
const LOST =
  /Connection terminated|connection error|timeout exceeded when trying to connect|Client was closed/i

/** True for failures of the connection or server rather than of the statement. */
export function isPostgresUnavailable(err: unknown): boolean {
  if (isNetworkError(err)) return true
  return errorChain(err).some(
    (e) =>
      (typeof e.code === 'string' && UNAVAILABLE_STATES.test(e.code)) ||
      (e.code === undefined && typeof e.message === 'string' && LOST.test(e.message)),
  )
}

/** Translates `?` placeholders to `$1, $2, …` (program statements hold no `?` in literals). */
export function numberPlaceholders(sql: string): string {
  let n = 0
  return sql.replace(/\?/g, () => `$${++n}`)
}

/**
 * Names of the write path's statements (text → name), for the pool to run them as named prepared
 * statements (postgres-database.ts). Filled by `translate`, which the executor calls once per
 * distinct statement: the programs have a few dozen texts (chunkSizes keeps multi-row ones to
 * nine sizes), so the map stays small. The same text gets the same name in every pool.
 */
export const PREPARED_WRITES = new Map<string, string>()

function prepared(text: string): string {
  if (!PREPARED_WRITES.has(text)) PREPARED_WRITES.set(text, `at_w${PREPARED_WRITES.size + 1}`)
  return text
}

/** The PostgreSQL part of the write executor. */
export const POSTGRES_SQL: ServerSql = {
  name: 'PostgreSQL',
  // Explicit, whatever default_transaction_isolation says: every statement sees what was
  // committed before it started, so a read after a row lock sees the previous holder's writes.
  isolation: 'read committed',
  translate: (sql, { returnsId }) =>
    prepared(numberPlaceholders(returnsId ? `${sql} RETURNING id` : sql)),
  // NO KEY UPDATE: excludes other lockers and writers of the row, but not the key-share locks that
  // inserting an event (its foreign key) takes.
  lockActionSql: 'SELECT id FROM instance_actions WHERE id = ? FOR NO KEY UPDATE',
  advanceHeadSql: ['UPDATE change_head SET last = last + ? WHERE id = 1 RETURNING last, link'],
  insertId: (result) => Number(result.rows[0]?.id ?? 0),
  isRetryable: (err) =>
    isPostgresUnavailable(err) ||
    errorChain(err).some((e) => typeof e.code === 'string' && RACE_STATES.has(e.code)),
}
