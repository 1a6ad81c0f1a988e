/**
 * The write path on better-sqlite3: programs run synchronously inside one `BEGIN IMMEDIATE`
 * transaction with cached prepared statements — no round trips, no query compilation on the hot
 * path. Programs fail before their first write, so a failed write needs no savepoint.
 *
 * Waiting for the write lock is asynchronous. SQLite's own busy handler sleeps inside the call,
 * which in Node blocks the event loop: while another process held the lock, every read of the
 * server stalled for the whole busy timeout. The connection therefore has no busy timeout; a
 * `BEGIN IMMEDIATE` that finds the lock taken fails at once (nothing ran) and is tried again after
 * a timer, until the lock wait is over, then the writes fail with `store_unavailable`. Reads keep
 * being served meanwhile (WAL readers take no write lock), and later writes queue behind this one
 * in the group committer, so the order of writes is kept.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Database as Native, Statement } from 'better-sqlite3'
import { AppError } from '../../domain/errors.js'
import type { WriteOutcome } from '../../domain/write-operation.js'
import type { StoreWrite } from '../action-store.js'
import type { Row, SqlStep, StepResult, WriteProgram } from '../write/sql-step.js'
import { commitChanges, PendingChanges } from '../write/change-feed.js'
import { PendingTouches } from '../write/pending-touches.js'
import type { ExecuteOptions, WriteExecutor } from '../write/write-executor.js'
import { BoundedActionIdCache } from '../write/action-id-cache.js'
import { writeProgram } from '../write/write-programs.js'
import { mapSqliteError } from './sqlite-errors.js'
import type { SqliteFileIdentity } from './sqlite-file-identity.js'

/** How long writes wait for a write lock another connection holds, unless told. */
export const DEFAULT_LOCK_WAIT_MS = 5000

// Pauses between attempts at the lock: short at first (most locks are held for one commit), then
// capped so that a released lock is taken within 25 ms. An attempt costs a few microseconds.
const FIRST_PAUSE_MS = 1
const MAX_PAUSE_MS = 25

/** Options of the SQLite write executor. */
export interface SqliteWriteOptions {
  /**
   * Milliseconds a write waits, from when it was queued, for a write lock another connection holds;
   * then it fails with `store_unavailable` (HTTP 503 with Retry-After). Default 5000.
   */
  lockWaitMs?: number
  /**
   * The database files' identity, checked before and after each transaction: nothing is written
   * into, or acknowledged from, a lost file.
   */
  files?: SqliteFileIdentity
  /**
   * Extend the hash chain (default true). Off only to measure what the chain costs (bench:ingest):
   * a store written without it does not verify.
   */
  chain?: boolean
}

// The change feed's position counter (write/change-feed.ts); RETURNING needs SQLite 3.35+.
const ADVANCE_HEAD_SQL = 'UPDATE change_head SET last = last + ? WHERE id = 1 RETURNING last, link'

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}

/** WriteExecutor over a native better-sqlite3 connection (which must have no busy timeout). */
export class SqliteWriteExecutor implements WriteExecutor {
  readonly #native: Native
  readonly #lockWaitMs: number
  readonly #files: SqliteFileIdentity | undefined
  readonly #statements = new Map<string, Statement>()
  readonly #cache = new BoundedActionIdCache()
  readonly #touches = new PendingTouches()
  readonly #changes = new PendingChanges()
  readonly #batch: (ops: readonly StoreWrite[]) => WriteOutcome[]

  constructor(
    native: Native,
    { lockWaitMs = DEFAULT_LOCK_WAIT_MS, files, chain = true }: SqliteWriteOptions = {},
  ) {
    this.#native = native
    this.#lockWaitMs = lockWaitMs
    this.#files = files
    const batch = native.transaction((ops: readonly StoreWrite[]) => {
      const outcomes = ops.map((op) => this.#runOne(op))
      this.#applyTouches()
      // Last: the change rows and their positions (a single writer: commit order is this order).
      this.#run(commitChanges(this.#changes.drain(), chain), { wrote: true })
      return outcomes
    })
    this.#batch = (ops) => batch.immediate(ops)
  }

  async execute(ops: readonly StoreWrite[], options: ExecuteOptions = {}): Promise<WriteOutcome[]> {
    const deadline = (options.queuedAt ?? performance.now()) + this.#lockWaitMs
    for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, MAX_PAUSE_MS)) {
      try {
        // Before: nothing is written into a lost file. After: committed, but acknowledged only if
        // it went to the file everyone else opens (the file may go during the transaction).
        this.#files?.assertIntact()
        const outcomes = this.#batch(ops)
        this.#files?.assertIntact()
        return outcomes
      } catch (err) {
        this.#cache.clear()
        this.#touches.clear()
        this.#changes.clear()
        // Busy with no transaction left open: the lock was not had and nothing ran (or it was
        // rolled back), so trying the whole transaction again is safe.
        if (!isBusy(err) || this.#native.inTransaction) throw mapSqliteError(err)
        if (performance.now() + pause > deadline) {
          throw new AppError(
            'store_unavailable',
            `database locked by another connection for more than ${this.#lockWaitMs} ms`,
            { cause: err },
          )
        }
        await sleep(pause)
      }
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
    if (s.mode === 'change') {
      this.#changes.add(s.change)
      return undefined
    }
    if (s.mode === 'advance')
      return this.#statement(ADVANCE_HEAD_SQL).get(s.count) as Row | undefined
    if (s.mode === 'get') {
      if (s.readsActions) this.#applyTouches()
      if (s.all) return this.#statement(s.sql).all(...s.params) as Row[]
      return this.#statement(s.sql).get(...s.params) as Row | undefined
    }
    // The single writer needs no serializing statement (sql-step.ts runToSerialize).
    if (s.serializesOnly) return { changes: 0, insertId: 0 }
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
