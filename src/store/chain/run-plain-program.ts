/**
 * Runs a program of plain statements (`get` and `run` steps only) on a Kysely connection, outside
 * the write executors: for the migration that seals existing history (0013) and for verify's
 * readers, which have no write transaction of their own. Statements are written with `?`
 * placeholders as every program's; PostgreSQL's are numbered here.
 */
import { CompiledQuery, type Kysely } from 'kysely'
import { dialectOf } from '../dialect.js'
import { numberPlaceholders } from '../postgres/postgres-sql.js'
import type { Row, StepResult, WriteProgram } from '../write/sql-step.js'

/** Runs one `?`-placeholder statement on `db` and returns its rows. */
export async function queryRows(
  db: Kysely<unknown>,
  text: string,
  params: readonly unknown[] = [],
): Promise<Row[]> {
  const sqlText = dialectOf(db) === 'postgres' ? numberPlaceholders(text) : text
  const { rows } = await db.executeQuery<Row>(CompiledQuery.raw(sqlText, [...params]))
  return rows
}

/** Runs `program` on `db` step by step (plain `get` and `run` steps only). */
export async function runPlainProgram<T>(
  db: Kysely<unknown>,
  program: WriteProgram<T>,
): Promise<T> {
  let step = program.next()
  while (!step.done) {
    const s = step.value
    let result: StepResult
    if (s.mode === 'get') {
      const rows = await queryRows(db, s.sql, s.params)
      result = s.all ? rows : rows[0]
    } else if (s.mode === 'run') {
      const sqlText = dialectOf(db) === 'postgres' ? numberPlaceholders(s.sql) : s.sql
      const r = await db.executeQuery(CompiledQuery.raw(sqlText, [...s.params]))
      result = { changes: Number(r.numAffectedRows ?? 0n), insertId: 0 }
    } else throw new Error(`plain program: unexpected ${s.mode} step`)
    step = program.next(result)
  }
  return step.value
}
