/**
 * What the write executor needs to know about MariaDB/MySQL: `?` placeholders as they are,
 * `insertId` for inserted keys, the action row lock, and which error numbers are worth a retry.
 */
import type { ServerSql } from '../write/async-write-executor.js'
import { errorChain, isNetworkError } from '../server-errors.js'

// Too many connections, server shutdown, Galera node not ready, connection killed (MariaDB 1927,
// MySQL 4031 idle disconnect), client-side connect/lost errors.
const UNAVAILABLE_ERRNOS = new Set([1040, 1053, 1047, 1927, 4031, 2002, 2003, 2006, 2013])
// Deadlock, lock wait timeout, duplicate key (a concurrent writer inserted first: the programs
// look before they insert), "record has changed since last read" (MariaDB snapshot isolation).
const RACE_ERRNOS = new Set([1213, 1205, 1062, 1020])
const LOST_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
])
const LOST = /connection is in closed state|Pool is closed/i

/** True for failures of the connection or server rather than of the statement. */
export function isMysqlUnavailable(err: unknown): boolean {
  if (isNetworkError(err)) return true
  return errorChain(err).some(
    (e) =>
      (typeof e.errno === 'number' && UNAVAILABLE_ERRNOS.has(e.errno)) ||
      (typeof e.code === 'string' && LOST_CODES.has(e.code)) ||
      (e.code === undefined && typeof e.message === 'string' && LOST.test(e.message)),
  )
}

/** The MariaDB/MySQL part of the write executor. */
export const MYSQL_SQL: ServerSql = {
  name: 'MariaDB/MySQL',
  // The session is READ COMMITTED already (set when the connection is created), which saves the
  // extra round trip of a per-transaction SET TRANSACTION.
  translate: (sql) => sql,
  lockActionSql: 'SELECT id FROM instance_actions WHERE id = ? FOR UPDATE',
  // No RETURNING on UPDATE: LAST_INSERT_ID(expr) stores the new value in the session, where the
  // next statement reads it without touching the row again.
  advanceHeadSql: [
    'UPDATE change_head SET last = LAST_INSERT_ID(last + ?) WHERE id = 1',
    // The row this transaction has just updated (and locked): its own version, so the latest link.
    'SELECT LAST_INSERT_ID() AS last, link FROM change_head WHERE id = 1',
  ],
  insertId: (result) => Number(result.insertId ?? 0n),
  isRetryable: (err) =>
    isMysqlUnavailable(err) ||
    errorChain(err).some((e) => typeof e.errno === 'number' && RACE_ERRNOS.has(e.errno)),
}
