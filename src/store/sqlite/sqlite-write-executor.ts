/**
 * The write path on better-sqlite3: programs run synchronously inside one `BEGIN IMMEDIATE`
 * transaction with cached prepared statements — no round trips, no query compilation on the hot
 * path. Programs fail before their first write, so a failed write needs no savepoint.
 */
import type { Database as Native, Statement } from 'better-sqlite3'
import { AppError } from '../../domain/errors.js'
import type { WriteOutcome } from '../../domain/write-operation.js'
import type { StoreWrite } from '../action-store.js'
import type { Row, SqlStep, StepResult, WriteProgram } from '../write/sql-step.js'
import { PendingTouches } from '../write/pending-touches.js'
import type { WriteExecutor } from '../write/write-executor.js'
import { BoundedActionIdCache } from '../write/action-id-cache.js'
import { writeProgram } from '../write/write-programs.js'
import { mapSqliteError } from './sqlite-errors.js'

/** WriteExecutor over a native better-sqlite3 connection. */
export class SqliteWriteExecutor implements WriteExecutor {
  readonly #native: Native
  readonly #statements = new Map<string, Statement>()
  readonly #cache = new BoundedActionIdCache()
  readonly #touches = new PendingTouches()
  readonly #batch: (ops: readonly StoreWrite[]) => WriteOutcome[]

  constructor(native: Native) {
    this.#native = native
    const batch = native.transaction((ops: readonly StoreWrite[]) => {
      const outcomes = ops.map((op) => this.#runOne(op))
      this.#applyTouches()
      return outcomes
    })
    this.#batch = (ops) => batch.immediate(ops)
  }

  execute(ops: readonly StoreWrite[]): Promise<WriteOutcome[]> {
    try {
      return Promise.resolve(this.#batch(ops))
    } catch (err) {
      this.#cache.clear()
      this.#touches.clear()
      return Promise.reject(mapSqliteError(err))
    }
  }

  #runOne(op: StoreWrite): WriteOutcome {
    const state = { wrote: false }
    try {
      return this.#run(writeProgram(op, this.#cache), state)
    } catch (err) {
      // An expected failure before any write changed nothing; after a write it would leave the
      // write half-applied, so the whole transaction is rolled back instead.
      if (err instanceof AppError && !state.wrote) return { ok: false, error: err }
      throw err
    }
  }

  #statement(sql: string): Statement {
    let stmt = this.#statements.get(sql)
    if (!stmt) {
      stmt = this.#native.prepare(sql)
      this.#statements.set(sql, stmt)
    }
    return stmt
  }

  #applyTouches(): void {
    for (const step of this.#touches.drain()) this.#exec(step)
  }

  #exec(s: SqlStep): StepResult {
    if (s.mode === 'touch') {
      this.#touches.add(s.actionId, s.updatedAt, s.failed)
      return undefined
    }
    if (s.mode === 'get') {
      if (s.readsActions) this.#applyTouches()
      return this.#statement(s.sql).get(...s.params) as Row | undefined
    }
    const r = this.#statement(s.sql).run(...s.params)
    return { changes: r.changes, insertId: s.returnsId ? Number(r.lastInsertRowid) : 0 }
  }

  #run<T>(program: WriteProgram<T>, state: { wrote: boolean }): T {
    let step = program.next()
    while (!step.done) {
      if (step.value.mode !== 'get') state.wrote = true
      step = program.next(this.#exec(step.value))
    }
    return step.value
  }
}
