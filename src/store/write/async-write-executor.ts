/**
 * The write path on pooled server databases (PostgreSQL, MariaDB/MySQL): the same programs as on
 * SQLite (write-programs.ts), run step by step inside one Kysely transaction. What differs between
 * the servers (placeholders, how an inserted id comes back, the row lock, which failures are
 * transient) comes from a small {@link ServerSql} that each dialect folder supplies.
 *
 * Several nodes write to one database, and one node runs several transactions at once on its
 * pool (`concurrency`), so a transaction can lose a race: a deadlock, a serialization failure, or
 * a unique key that another transaction inserted first (two writers starting the same action).
 * The whole transaction is then tried again a bounded number of times; the programs look before
 * they write, so the retry sees the other transaction's row and answers from it. Everything a
 * transaction learns (locks held, pending touches, new action ids) is its own until it commits.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  CompiledQuery,
  type IsolationLevel,
  type Kysely,
  type QueryResult,
  type Transaction,
} from 'kysely'
import { AppError } from '../../domain/errors.js'
import type { WriteOutcome } from '../../domain/write-operation.js'
import type { StoreWrite } from '../action-store.js'
import type { Database } from '../schema.js'
import { BoundedActionIdCache } from './action-id-cache.js'
import { commitChanges, PendingChanges } from './change-feed.js'
import { PendingTouches } from './pending-touches.js'
import type { Row, SqlStep, StepResult, WriteProgram } from './sql-step.js'
import type { WriteExecutor } from './write-executor.js'
import { writeProgram, type ActionIdCache } from './write-programs.js'

/** What a server dialect tells the executor. */
export interface ServerSql {
  /** Backend name, for messages. */
  name: string
  /** Isolation level of write transactions, when the session default is not already right. */
  isolation?: IsolationLevel
  /**
   * A program statement (with `?` placeholders) as this server runs it; `returnsId` when the step
   * must report the generated key of its INSERT (see sql-step.ts). Called once per distinct
   * statement and flag; the result is cached.
   */
  translate(sql: string, options: { returnsId: boolean }): string
  /** Statement (with one `?`, the action id) that locks an action row until commit. */
  lockActionSql: string
  /**
   * Statements that add `?` (the first statement's one parameter) to the change position counter
   * and, the last one, return its new value as the column `last` (write/change-feed.ts).
   */
  advanceHeadSql: readonly [string, ...string[]]
  /** The id of the row an INSERT created. */
  insertId(result: QueryResult<Row>): number
  /** True when trying the whole transaction again may succeed. */
  isRetryable(err: unknown): boolean
}

/** Options of the executor. */
export interface AsyncWriteExecutorOptions {
  /**
   * Attempts per transaction before giving up with `store_unavailable` (default 5; the setting
   * ACTIONTRAIL_DB_CONFLICT_RETRIES, parsed in open-store.ts).
   */
  maxAttempts?: number
  /** Upper bound of the first backoff in milliseconds; doubles per attempt (default 10). */
  backoffMs?: number
  /** Transactions run at once, each on its own pooled connection (default 1). */
  concurrency?: number
  /** Extend the hash chain (default true; off only for bench:ingest's comparison). */
  chain?: boolean
}

/**
 * Write transactions a node runs at once on a pool of `poolMax` connections: half the pool, so
 * reads always find a connection, and at most 4 (measured on a 2-core machine: 4 at once doubled
 * PostgreSQL's write rate and nearly tripled MariaDB's, docs/benchmarks.md; more was not tried).
 */
export function writeConcurrency(poolMax: number): number {
  return Math.max(1, Math.min(4, Math.floor(poolMax / 2)))
}

/** Action ids of one transaction: read through to the shared cache, published when it commits. */
class TransactionActionIds implements ActionIdCache {
  readonly #shared: BoundedActionIdCache
  readonly #own = new BoundedActionIdCache()

  constructor(shared: BoundedActionIdCache) {
    this.#shared = shared
  }

  get(instanceUuid: string, requestId: string): number | undefined {
    return this.#own.get(instanceUuid, requestId) ?? this.#shared.get(instanceUuid, requestId)
  }

  set(instanceUuid: string, requestId: string, id: number): void {
    this.#own.set(instanceUuid, requestId, id)
  }

  /** After commit: the ids name committed rows, which every later transaction may use. */
  publish(): void {
    this.#shared.absorb(this.#own)
  }
}

/** What one transaction attempt has learnt. */
interface Attempt {
  trx: Transaction<Database>
  ids: TransactionActionIds
  touches: PendingTouches
  /** Change notes, given positions just before commit. */
  changes: PendingChanges
  /** Actions locked by this transaction (locks last until commit). */
  locked: Set<number>
}

/** WriteExecutor over a Kysely instance on a pooled server database. */
export class AsyncWriteExecutor implements WriteExecutor {
  readonly #db: Kysely<Database>
  readonly #sql: ServerSql
  readonly #maxAttempts: number
  readonly #backoffMs: number
  /** Translated statements: those that report their generated key apart from the others. */
  readonly #translated = {
    plain: new Map<string, string>(),
    returningId: new Map<string, string>(),
  }
  /** Action ids of committed rows only (see TransactionActionIds). */
  readonly #ids = new BoundedActionIdCache()
  readonly concurrency: number
  readonly #chain: boolean

  constructor(
    db: Kysely<Database>,
    sql: ServerSql,
    {
      maxAttempts = 5,
      backoffMs = 10,
      concurrency = 1,
      chain = true,
    }: AsyncWriteExecutorOptions = {},
  ) {
    this.#db = db
    this.#sql = sql
    this.#maxAttempts = Math.max(1, maxAttempts)
    this.#backoffMs = backoffMs
    this.concurrency = Math.max(1, Math.trunc(concurrency))
    this.#chain = chain
  }

  async execute(ops: readonly StoreWrite[]): Promise<WriteOutcome[]> {
    for (let attempt = 1; ; attempt++) {
      const ids = new TransactionActionIds(this.#ids)
      try {
        let tx = this.#db.transaction()
        if (this.#sql.isolation) tx = tx.setIsolationLevel(this.#sql.isolation)
        const outcomes = await tx.execute((trx) =>
          this.#runAll(
            {
              trx,
              ids,
              touches: new PendingTouches(),
              changes: new PendingChanges(),
              locked: new Set(),
            },
            ops,
          ),
        )
        // Only here, once COMMIT has returned, are the outcomes anyone's answer. A COMMIT whose
        // connection broke throws instead (lost connection, retryable) although it may have
        // committed: the next attempt then finds the rows and answers from them, because every
        // program looks before it writes (test/store/mysql-failover.test.ts cuts such a COMMIT).
        ids.publish()
        return outcomes
      } catch (err) {
        if (!this.#sql.isRetryable(err)) throw err
        if (attempt >= this.#maxAttempts) {
          throw new AppError(
            'store_unavailable',
            `${this.#sql.name} write failed after ${attempt} attempts`,
            { cause: err },
          )
        }
        // Full jitter, so that two nodes that collided do not collide again in lock step.
        await sleep(Math.random() * this.#backoffMs * 2 ** (attempt - 1))
      }
    }
  }

  async #runAll(a: Attempt, ops: readonly StoreWrite[]): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = []
    for (const op of ops) outcomes.push(await this.#runOne(a, op))
    await this.#applyTouches(a)
    // Last, so that the counter row is locked only from here to the commit (change-feed.ts).
    await this.#run(a, commitChanges(a.changes.drain(), this.#chain), { wrote: true })
    return outcomes
  }

  async #runOne(a: Attempt, op: StoreWrite): Promise<WriteOutcome> {
    const state = { wrote: false }
    try {
      return await this.#run(a, writeProgram(op, a.ids), state)
    } catch (err) {
      // As on SQLite: an expected failure before any write changed nothing and is this write's
      // outcome; after a write it would leave the write half-applied, so the transaction fails.
      if (err instanceof AppError && !state.wrote) return { ok: false, error: err }
      throw err
    }
  }

  async #run<T>(a: Attempt, program: WriteProgram<T>, state: { wrote: boolean }): Promise<T> {
    let step = program.next()
    while (!step.done) {
      if (step.value.mode !== 'get') state.wrote = true
      step = program.next(await this.#exec(a, step.value))
    }
    return step.value
  }

  async #applyTouches(a: Attempt): Promise<void> {
    for (const step of a.touches.drain()) await this.#exec(a, step)
  }

  async #exec(a: Attempt, s: SqlStep): Promise<StepResult> {
    if (s.mode === 'touch') {
      a.touches.add(s.actionId, s.updatedAt, s.failed)
      return undefined
    }
    if (s.mode === 'change') {
      a.changes.add(s.change)
      return undefined
    }
    if (s.mode === 'advance') {
      const [first, ...rest] = this.#sql.advanceHeadSql
      let result = await this.#query(a.trx, first, [s.count])
      for (const text of rest) result = await this.#query(a.trx, text, [])
      return result.rows[0]
    }
    if (s.mode === 'get') {
      if (s.readsActions) await this.#applyTouches(a)
      if (s.lockAction !== undefined && !a.locked.has(s.lockAction)) {
        await this.#query(a.trx, this.#sql.lockActionSql, [s.lockAction])
        a.locked.add(s.lockAction)
      }
      const { rows } = await this.#query(a.trx, s.sql, s.params)
      return s.all ? rows : rows[0]
    }
    const result = await this.#query(a.trx, s.sql, s.params, s.returnsId)
    const insertId = s.returnsId ? this.#sql.insertId(result) : 0
    if (s.createsAction) a.locked.add(insertId)
    return { changes: Number(result.numAffectedRows ?? 0n), insertId }
  }

  #query(
    trx: Transaction<Database>,
    sql: string,
    params: readonly unknown[],
    returnsId = false,
  ): Promise<QueryResult<Row>> {
    const cache = returnsId ? this.#translated.returningId : this.#translated.plain
    let text = cache.get(sql)
    if (text === undefined) {
      text = this.#sql.translate(sql, { returnsId })
      cache.set(sql, text)
    }
    return trx.executeQuery<Row>(CompiledQuery.raw(text, [...params]))
  }
}
