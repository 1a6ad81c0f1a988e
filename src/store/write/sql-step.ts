/**
 * The write path is written once as programs (generators) that yield SQL steps and receive their
 * results. A runner executes the steps: synchronously on better-sqlite3 inside one transaction
 * with a prepared-statement cache, or asynchronously on a pooled driver. The logic of every write
 * therefore exists once, whatever the backend.
 */

/** A row as returned by the driver. */
export type Row = Record<string, unknown>

/**
 * One step of a program. `get` and `run` are statements with `?` placeholders (runners translate
 * for their dialect). What a runner must do around a statement is declared by the program through
 * the builders below, never inferred from the SQL text: `readsActions` (apply pending touches
 * first), `lockAction` (lock the action's row first, on server databases) and `returnsId` (report
 * the generated key of an INSERT). `touch` records that an action changed (its `updated_at`, and
 * whether an event failed): runners coalesce touches of one action within a transaction into a
 * single UPDATE, applied before anything reads actions again and before commit, because a batch
 * that carries a whole action lifecycle would otherwise rewrite the same action row and index
 * entry many times.
 */
export type SqlStep =
  | {
      mode: 'get'
      sql: string
      params: readonly unknown[]
      readsActions: boolean
      lockAction?: number
      /** Every row (an array), not only the first. */
      all?: boolean
    }
  | {
      mode: 'run'
      sql: string
      params: readonly unknown[]
      returnsId: boolean
      /** The INSERT creates an action row: see {@link insertActionReturningId}. */
      createsAction?: boolean
      /** The statement only makes concurrent writers wait: see {@link runToSerialize}. */
      serializesOnly?: boolean
    }
  | { mode: 'touch'; actionId: number; updatedAt: string; failed: boolean }
  | { mode: 'change'; change: ChangeNote }
  | { mode: 'advance'; count: number }

/**
 * A change to an action or event, noted by a program when it changed a visible row; the executor
 * gives the transaction's notes their positions when it commits (change-feed.ts). `archive` and
 * `purge` (issue 13, retention-programs.ts) are noted once per action moved to the shadow tables
 * or deleted from them, with its events (an action's latest change says where its events are);
 * readers of the feed that show records (the stream) skip them.
 */
export interface ChangeNote {
  kind: 'action' | 'event' | 'archive' | 'purge'
  actionId: number
  /** The event's id; null for an action. */
  eventId: number | null
  instanceUuid: string
  /** When the change happened (the write's own time). */
  at: string
  /**
   * The project owning the instance, when the program knows it and the instance row may be gone
   * by commit (purge deletes shadow instances); otherwise commitChanges looks it up.
   */
  ownerProject?: string
  /**
   * The record's digest columns (security/chain/canonical-record.ts) exactly as this transaction
   * stored them, when the program holds every one of them: the hash chain's digest is then
   * computed from these values instead of from a read-back of the row at commit (the read-back of
   * events was about three quarters of the chain's SQL time on SQLite, 2026-12-07). Only where the
   * values written are the values stored (no column default, merge or database-side
   * normalization in between); a later note of the same record replaces it, or drops it when it
   * has none, so the digest is always of the record's last state in the transaction.
   */
  stored?: Readonly<Record<string, unknown>>
}

/** What a `run` step reports. */
export interface RunResult {
  changes: number
  /** The generated key of the inserted row for an {@link insertReturningId} step; 0 for any other. */
  insertId: number
}

/**
 * Result of a step: a row (or undefined) for `get`, every row for {@link getAll}, counts for
 * `run`, nothing for `touch` and `change`, `{ last, link }` (the new value of the position
 * counter, the chain's link before it) for `advance`.
 */
export type StepResult = Row | Row[] | undefined | RunResult

/** A write program: yields steps, receives their results, returns its outcome. */
export type WriteProgram<T> = Generator<SqlStep, T, StepResult>

/** A `get` step that reads no action rows (instances, events). */
export function get(sql: string, ...params: unknown[]): SqlStep {
  return { mode: 'get', sql, params, readsActions: false }
}

/** A `get` step that reads no action rows and reports every row it finds (an array). */
export function getAll(sql: string, ...params: unknown[]): SqlStep {
  return { mode: 'get', sql, params, readsActions: false, all: true }
}

/**
 * A `get` step that reads action rows. The runner first applies the pending touches, so that the
 * row read carries every earlier write of the transaction (its updated_at and "Error" message),
 * and so that a later touch is not overwritten by one recorded before it.
 */
export function getActions(sql: string, ...params: unknown[]): SqlStep {
  return { mode: 'get', sql, params, readsActions: true }
}

/**
 * A `get` step (of event rows) that must not race with other writers of the same action. On
 * server databases, where several nodes write at once, the executor first locks the action's row
 * until commit (`SELECT … FOR UPDATE`, once per action and transaction) and then reads with a
 * fresh snapshot, so the read sees whatever the previous holder of the lock committed: two nodes
 * cannot both finish one event, nor both insert a retried event start. Locking the parent rather
 * than the rows read also covers rows that do not exist yet. SQLite's write transaction already
 * excludes every other writer, so its executor runs this as a plain `get`.
 */
export function getLocked(actionId: number, sql: string, ...params: unknown[]): SqlStep {
  return { mode: 'get', sql, params, readsActions: false, lockAction: actionId }
}

/**
 * {@link getLocked} of a statement that reads the locked action's row too: the runner applies the
 * pending touches first, as for {@link getActions}.
 */
export function getLockedAction(actionId: number, sql: string, ...params: unknown[]): SqlStep {
  return { mode: 'get', sql, params, readsActions: true, lockAction: actionId }
}

/** {@link getLocked}, reporting every row it finds (an array). */
export function getAllLocked(actionId: number, sql: string, ...params: unknown[]): SqlStep {
  return { mode: 'get', sql, params, readsActions: false, lockAction: actionId, all: true }
}

/** A `touch` step: the action's updated_at becomes `updatedAt`; `failed` sets message "Error". */
export function touch(actionId: number, updatedAt: string, failed = false): SqlStep {
  return { mode: 'touch', actionId, updatedAt, failed }
}

/** A `run` step whose result is only its count of changed rows. */
export function run(sql: string, ...params: unknown[]): SqlStep {
  return { mode: 'run', sql, params, returnsId: false }
}

/**
 * A `run` step whose only purpose is to make concurrent writers of other transactions wait (it
 * changes nothing that stays: pending-fault.ts requestKey). A runner whose write transaction
 * already excludes every other writer (SQLite's) may skip it; the program must not use its result.
 */
export function runToSerialize(sql: string, ...params: unknown[]): SqlStep {
  return { mode: 'run', sql, params, returnsId: false, serializesOnly: true }
}

/**
 * An INSERT into a table with a generated integer key, whose new key the program reads back
 * (`RunResult.insertId`): PostgreSQL's runner adds `RETURNING id`, the others read the driver's
 * last insert id.
 */
export function insertReturningId(sql: string, ...params: unknown[]): SqlStep {
  return { mode: 'run', sql, params, returnsId: true }
}

/**
 * The INSERT of a new action row, reporting its key like {@link insertReturningId}. No other
 * transaction can see, let alone lock, a row this one inserted until it commits (a concurrent
 * insert of the same key waits on the unique index and then fails, and is retried), so server
 * runners count the new action as locked by this transaction and skip the `FOR UPDATE` of a later
 * {@link getLocked} of it: one round trip less for each event started in the batch that started
 * its action.
 */
export function insertActionReturningId(sql: string, ...params: unknown[]): SqlStep {
  return { mode: 'run', sql, params, returnsId: true, createsAction: true }
}

/** A `change` step: the program changed this action or event (see ChangeNote). */
export function change(note: ChangeNote): SqlStep {
  return { mode: 'change', change: note }
}

/**
 * An `advance` step: adds `count` to the change position counter and reports its new value and
 * the hash chain's link at the old head as the row `{ last, link }`. Runners implement it per
 * dialect (UPDATE … RETURNING, or LAST_INSERT_ID on MariaDB/MySQL); the row lock it takes lasts
 * until commit (change-feed.ts).
 */
export function advance(count: number): SqlStep {
  return { mode: 'advance', count }
}

/** One column of an {@link updateChanged}: its name, the value it gets, the value it has. */
export type Assignment = readonly [column: string, next: unknown, current: unknown]

/**
 * An UPDATE of row `id` of `table` that assigns only the columns whose value changes; undefined
 * when none does. SQLite rewrites the entry of every index holding an assigned column even when
 * the value stays the same (measured: assigning five indexed columns their own value and a sixth
 * a new one took 4.3× as long as assigning the sixth alone, 100k rows, one index per column), and
 * the actions and events tables have about twenty indexes each.
 */
export function updateChanged(
  table: string,
  id: number,
  assignments: readonly Assignment[],
): SqlStep | undefined {
  const changed = assignments.filter(([, next, current]) => next !== current)
  if (changed.length === 0) return undefined
  return run(
    `UPDATE ${table} SET ${changed.map(([column]) => `${column} = ?`).join(', ')} WHERE id = ?`,
    ...changed.map(([, next]) => next),
    id,
  )
}
