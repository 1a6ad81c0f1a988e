/**
 * The write path on pooled server databases (PostgreSQL, MariaDB/MySQL): the same programs as on
 * SQLite (write-programs.ts), run step by step inside one Kysely transaction. What differs between
 * the servers (placeholders, how an inserted id comes back, the row lock, which failures are
 * transient) comes from a small {@link ServerSql} that each dialect folder supplies.
 *
 * Several nodes write to one database, so a transaction can lose a race: a deadlock, a
 * serialization failure, or a unique key that another node inserted first (two nodes starting the
 * same action). The whole transaction is then tried again a bounded number of times; the programs
 * look before they write, so the retry sees the other node's row and answers from it.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { CompiledQuery, type IsolationLevel, type Kysely, type QueryResult, type Transaction } from 'kysely'
import { AppError } from '../../domain/errors.js'
import type { WriteOutcome } from '../../domain/write-operation.js'
import type { StoreWrite } from '../action-store.js'
import type { Database } from '../schema.js'
import { BoundedActionIdCache } from './action-id-cache.js'
import { PendingTouches } from './pending-touches.js'
import { readsActions, type Row, type SqlStep, type StepResult, type WriteProgram } from './sql-step.js'
import type { WriteExecutor } from './write-executor.js'
import { writeProgram } from './write-programs.js'

/** What a server dialect tells the executor. */
export interface ServerSql {
  /** Backend name, for messages. */
  name: string
  /** Isolation level of write transactions, when the session default is not already right. */
  isolation?: IsolationLevel
  /**
   * A program statement (with `?` placeholders) as this server runs it. Called once per distinct
   * statement; the result is cached.
   */
  translate(sql: string): string
  /** Statement (with one `?`, the action id) that locks an action row until commit. */
  lockActionSql: string
  /** The id of the row an INSERT created. */
  insertId(result: QueryResult<Row>): number
  /** True when trying the whole transaction again may succeed. */
  isRetryable(err: unknown): boolean
}

/** Options of the executor. */
export interface AsyncWriteExecutorOptions {
  /** Attempts per transaction before giving up with `store_unavailable` (default 5). */
  maxAttempts?: number
  /** Upper bound of the first backoff in milliseconds; doubles per attempt (default 10). */
  backoffMs?: number
}

const INSERT = /^INSERT INTO /

/** WriteExecutor over a Kysely instance on a pooled server database. */
export class AsyncWriteExecutor implements WriteExecutor {
  readonly #db: Kysely<Database>
  readonly #sql: ServerSql
  readonly #maxAttempts: number
  readonly #backoffMs: number
  readonly #translated = new Map<string, string>()
  readonly #cache = new BoundedActionIdCache()
  readonly #touches = new PendingTouches()
  /** Actions locked by the current transaction (locks last until commit). */
  readonly #locked = new Set<number>()

  constructor(db: Kysely<Database>, sql: ServerSql, { maxAttempts = 5, backoffMs = 10 }: AsyncWriteExecutorOptions = {}) {
    this.#db = db
    this.#sql = sql
    this.#maxAttempts = Math.max(1, maxAttempts)
    this.#backoffMs = backoffMs
  }

  async execute(ops: readonly StoreWrite[]): Promise<WriteOutcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        let tx = this.#db.transaction()
        if (this.#sql.isolation) tx = tx.setIsolationLevel(this.#sql.isolation)
        return await tx.execute((trx) => this.#runAll(trx, ops))
      } catch (err) {
        // Cached ids may name rows that were rolled back; pending touches belong to the old
        // transaction.
        this.#cache.clear()
        this.#touches.clear()
        this.#locked.clear()
        if (!this.#sql.isRetryable(err)) throw err
        if (attempt >= this.#maxAttempts) {
          throw new AppError('store_unavailable', `${this.#sql.name} write failed after ${attempt} attempts`, { cause: err })
        }
        // Full jitter, so that two nodes that collided do not collide again in lock step.
        await sleep(Math.random() * this.#backoffMs * 2 ** (attempt - 1))
      }
    }
  }

  async #runAll(trx: Transaction<Database>, ops: readonly StoreWrite[]): Promise<WriteOutcome[]> {
    this.#locked.clear()
    const outcomes: WriteOutcome[] = []
    for (const op of ops) outcomes.push(await this.#runOne(trx, op))
    await this.#applyTouches(trx)
    return outcomes
  }

  async #runOne(trx: Transaction<Database>, op: StoreWrite): Promise<WriteOutcome> {
    const state = { wrote: false }
    try {
      return await this.#run(trx, writeProgram(op, this.#cache), state)
    } catch (err) {
      // As on SQLite: an expected failure before any write changed nothing and is this write's
      // outcome; after a write it would leave the write half-applied, so the transaction fails.
      if (err instanceof AppError && !state.wrote) return { ok: false, error: err }
      throw err
    }
  }

  async #run<T>(trx: Transaction<Database>, program: WriteProgram<T>, state: { wrote: boolean }): Promise<T> {
    let step = program.next()
    while (!step.done) {
      if (step.value.mode !== 'get') state.wrote = true
      step = program.next(await this.#exec(trx, step.value))
    }
    return step.value
  }

  async #applyTouches(trx: Transaction<Database>): Promise<void> {
    for (const step of this.#touches.drain()) await this.#exec(trx, step)
  }

  async #exec(trx: Transaction<Database>, s: SqlStep): Promise<StepResult> {
    if (s.mode === 'touch') {
      this.#touches.add(s.actionId, s.updatedAt, s.failed)
      return undefined
    }
    if (s.mode === 'get') {
      if (readsActions(s.sql)) await this.#applyTouches(trx)
      if (s.lockAction !== undefined && !this.#locked.has(s.lockAction)) {
        await this.#query(trx, this.#sql.lockActionSql, [s.lockAction])
        this.#locked.add(s.lockAction)
      }
      return (await this.#query(trx, s.sql, s.params)).rows[0]
    }
    const result = await this.#query(trx, s.sql, s.params)
    return {
      changes: Number(result.numAffectedRows ?? 0n),
      insertId: INSERT.test(s.sql) ? this.#sql.insertId(result) : 0,
    }
  }

  #query(trx: Transaction<Database>, sql: string, params: readonly unknown[]): Promise<QueryResult<Row>> {
    let text = this.#translated.get(sql)
    if (text === undefined) {
      text = this.#sql.translate(sql)
      this.#translated.set(sql, text)
    }
    return trx.executeQuery<Row>(CompiledQuery.raw(text, [...params]))
  }
}
