/**
 * Retention over an opened database (issue 13): archive and purge runs as repeated bounded batches
 * (write programs in write/retention-programs.ts, run by the backend's write executor, each its
 * own transaction), their dry-run counts, the pruning of the Nova follower's bookkeeping, and the
 * lease that lets one node of several run the periodic job (retention/retention-job.ts).
 *
 * Batches go to the write executor directly, not through the group committer: a batch shares no
 * transaction with the API's writes, so a batch that fails (a race with a writer on the server
 * databases) takes no acknowledged write down with it.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'kysely'
import { AppError } from '../domain/errors.js'
import { fromEpochMicros, type Timestamp } from '../domain/timestamp.js'
import type { StoreWrite } from './action-store.js'
import { withMappedErrors, type StoreDatabase } from './store-database.js'
import type { RetentionCounts } from './write/retention-programs.js'

/**
 * Actions (with their events) per batch unless told, when batches are bounded by count only (no
 * `batchMs`). Moving an action costs about 0.5 ms on SQLite (its rows leave some twenty indexes;
 * bench/archive.ts), and writers wait for a whole batch.
 */
export const DEFAULT_BATCH_ACTIONS = 25

/**
 * The most actions a time-bounded batch grows to unless told: the time budget, not this, bounds a
 * batch; this only caps one transaction's size on a machine fast enough to move thousands of
 * actions within the budget.
 */
export const MAX_TIMED_BATCH_ACTIONS = 1000

/**
 * The size of the first time-bounded batch: small, because nothing has been measured yet (its
 * statements are also prepared then, which makes it the slowest per action).
 */
const FIRST_TIMED_BATCH_ACTIONS = 4

/**
 * The size of the next time-bounded batch: the last batch's actions scaled to the budget, at most
 * twice the last size (one fast batch, e.g. of an instance with few rows, does not make the next
 * one huge), at least 1 and at most `max`. A batch that moved nothing ends the run anyway.
 */
export function nextBatchSize(
  last: { size: number; moved: number; elapsedMs: number },
  budgetMs: number,
  max: number,
): number {
  const moved = Math.max(1, last.moved)
  const scaled = last.elapsedMs > 0 ? Math.floor((moved * budgetMs) / last.elapsedMs) : Infinity
  return Math.max(1, Math.min(max, 2 * last.size, scaled))
}

/** How a run goes. */
export interface RetentionRunOptions {
  /** Instances deleted strictly before this time (purge: null for every archived row). */
  before: Timestamp | null
  /** Stop once this many actions have moved (a batch takes at most what is left); no limit when absent. */
  maxRows?: number
  /**
   * Actions per batch (default {@link DEFAULT_BATCH_ACTIONS}); with `batchMs`, the most a batch
   * may grow to (default {@link MAX_TIMED_BATCH_ACTIONS}).
   */
  batchActions?: number
  /**
   * Bound batches by time instead of count: each batch's size is chosen from the previous one's
   * duration so that a batch takes about this many milliseconds ({@link nextBatchSize}). On SQLite
   * a batch runs synchronously and holds the only write lock, so a write that arrives meanwhile
   * waits for it: this is the wait a write can see (issue 13; bench/archive.ts).
   */
  batchMs?: number
  /** Milliseconds now, for the batch durations (default performance.now; tests pass their own). */
  clock?: () => number
  /** Pause between batches, so that writers get the database in between (default 0). */
  pauseMs?: number
  /**
   * The pause after a batch is at least this many times the batch's duration (default 0): 1 gives
   * the archive at most about half of the time, whatever a batch costs. A batch cannot be shorter
   * than its commit (on a busy SQLite disk tens of milliseconds, more than `batchMs`), so without
   * it one-action batches with short pauses held the write lock most of the time and most writes
   * waited for one (measured: write p50 9.8 → 38 ms at load 25, docs/benchmarks.md, issue 13).
   */
  restFactor?: number
  /** Told the running totals after each batch (a progress bar). */
  onBatch?: (totals: RetentionCounts) => void
  /** Stops the run between batches (server shutdown). */
  signal?: AbortSignal
  /**
   * Asked before every batch but the first; false stops the run (the retention job renews its
   * lease here, and stops when another node has taken it).
   */
  keepGoing?: () => Promise<boolean>
}

/** An archive run: its cut-off, and optionally the projects it is limited to or skips. */
export interface ArchiveRunOptions extends RetentionRunOptions {
  before: Timestamp
  /** Only instances of this project. */
  projectId?: string
  /** Not the instances of these projects. */
  exceptProjects?: readonly string[]
}

/** The wall-clock time `offsetMs` from now, as a stored Timestamp. */
export function timestampIn(offsetMs = 0): Timestamp {
  return fromEpochMicros(BigInt(Date.now() + Math.trunc(offsetMs)) * 1000n)
}

const nowTimestamp = () => timestampIn(0)

/** Retention's operations on one database. */
export class RetentionStore {
  readonly #database: StoreDatabase

  constructor(database: StoreDatabase) {
    this.#database = database
  }

  /** Moves deleted instances' history into the shadow tables, batch by batch; the totals moved. */
  archive(options: ArchiveRunOptions): Promise<RetentionCounts> {
    const projects = {
      ...(options.projectId !== undefined ? { projectId: options.projectId } : {}),
      ...(options.exceptProjects?.length ? { exceptProjects: options.exceptProjects } : {}),
    }
    return this.#run(options, (maxActions, at) => ({
      op: 'archive_batch',
      values: { before: options.before, maxActions, at, ...projects },
    }))
  }

  /** Deletes archived rows of instances deleted before `before` (null: all); the totals deleted. */
  purge(options: RetentionRunOptions): Promise<RetentionCounts> {
    return this.#run(options, (maxActions, at) => ({
      op: 'purge_batch',
      values: { before: options.before, maxActions, at },
    }))
  }

  async #run(
    options: RetentionRunOptions,
    batch: (maxActions: number, at: Timestamp) => StoreWrite,
  ): Promise<RetentionCounts> {
    const totals: RetentionCounts = { instances: 0, actions: 0, events: 0 }
    const timed = options.batchMs !== undefined && options.batchMs > 0
    const max = Math.max(
      1,
      Math.trunc(options.batchActions ?? (timed ? MAX_TIMED_BATCH_ACTIONS : DEFAULT_BATCH_ACTIONS)),
    )
    const clock = options.clock ?? (() => performance.now())
    let size = timed ? Math.min(max, FIRST_TIMED_BATCH_ACTIONS) : max
    for (let first = true; ; first = false) {
      if (options.signal?.aborted) break
      if (!first && options.keepGoing && !(await options.keepGoing())) break
      const left = options.maxRows === undefined ? size : options.maxRows - totals.actions
      if (left <= 0) break
      const asked = Math.min(size, left)
      const started = clock()
      const counts = await this.#execute(batch(asked, nowTimestamp()))
      const elapsedMs = clock() - started
      totals.instances += counts.instances ?? 0
      totals.actions += counts.actions ?? 0
      totals.events += counts.events ?? 0
      options.onBatch?.({ ...totals })
      if (!counts.instances && !counts.actions) break
      if (timed)
        size = nextBatchSize(
          { size: asked, moved: counts.actions ?? 0, elapsedMs },
          options.batchMs as number,
          max,
        )
      // Always a turn of the event loop between batches, even without a pause: on SQLite a batch
      // runs synchronously, and the group committer gathers the API's writes in setImmediate.
      const pause = Math.max(options.pauseMs ?? 0, (options.restFactor ?? 0) * elapsedMs)
      if (pause >= 1) await sleep(pause)
      else await new Promise((resolve) => setImmediate(resolve))
    }
    return totals
  }

  /** What an archive before `before` would move (a dry run: reads only). */
  countArchivable(before: Timestamp): Promise<RetentionCounts> {
    return this.#count('instances', 'instance_actions', 'instance_actions_events', before)
  }

  /** What a purge before `before` (null: all) would delete (a dry run: reads only). */
  countPurgeable(before: Timestamp | null): Promise<RetentionCounts> {
    return this.#count(
      'shadow_instances',
      'shadow_instance_actions',
      'shadow_instance_actions_events',
      before,
    )
  }

  async #count(
    instances: 'instances' | 'shadow_instances',
    actions: 'instance_actions' | 'shadow_instance_actions',
    events: 'instance_actions_events' | 'shadow_instance_actions_events',
    before: Timestamp | null,
  ): Promise<RetentionCounts> {
    const db = this.#database.db
    // The same selection as the batches: an instance deleted before the cut-off, and its rows.
    const cut = before === null ? sql`i.deleted_at IS NOT NULL` : sql`i.deleted_at < ${before}`
    const one = async (table: string) => {
      const text =
        table === instances
          ? sql`SELECT COUNT(*) AS n FROM ${sql.table(instances)} i WHERE ${cut}`
          : sql`SELECT COUNT(*) AS n FROM ${sql.table(table)} r
              INNER JOIN ${sql.table(instances)} i ON i.uuid = r.instance_uuid WHERE ${cut}`
      const { rows } = await withMappedErrors(this.#database, () =>
        (text as ReturnType<typeof sql<{ n: number | string }>>).execute(db),
      )
      return Number(rows[0]?.n ?? 0)
    }
    return {
      instances: await one(instances),
      actions: await one(actions),
      events: await one(events),
    }
  }

  /**
   * Deletes Nova message ids and request faults seen before `before` (the follower's bookkeeping,
   * migrations 0010/0011), in bounded batches; the rows deleted per table.
   */
  async pruneNova(before: Timestamp, batchRows = 1000): Promise<Record<string, number>> {
    const totals = { nova_messages: 0, nova_request_faults: 0 }
    for (;;) {
      const counts = await this.#execute({
        op: 'nova_prune',
        values: { before, maxRows: batchRows },
      })
      totals.nova_messages += counts.nova_messages ?? 0
      totals.nova_request_faults += counts.nova_request_faults ?? 0
      if ((counts.nova_messages ?? 0) < batchRows && (counts.nova_request_faults ?? 0) < batchRows)
        return totals
    }
  }

  /**
   * Takes or renews the lease of the retention job for `holder` until `ttlMs` from now: true when
   * `holder` has it. One conditional UPDATE, atomic on every backend: it succeeds when the lease
   * is `holder`'s already or has expired, so of several nodes trying at once exactly one gets an
   * expired lease (the others' UPDATE matches no row once the winner's has committed).
   */
  async takeLease(holder: string, ttlMs: number): Promise<boolean> {
    const now = nowTimestamp()
    const until = timestampIn(ttlMs)
    const result = await withMappedErrors(this.#database, () =>
      this.#database.db
        .updateTable('retention_lease')
        .set({ holder, expires_at: until })
        .where('name', '=', 'retention')
        .where((eb) => eb.or([eb('holder', '=', holder), eb('expires_at', '<', now)]))
        .executeTakeFirst(),
    )
    return Number(result.numUpdatedRows) === 1
  }

  /** Gives the lease up (shutdown), when `holder` has it, so another node need not wait for it. */
  async releaseLease(holder: string): Promise<void> {
    await withMappedErrors(this.#database, () =>
      this.#database.db
        .updateTable('retention_lease')
        .set({ expires_at: '1970-01-01T00:00:00.000000' })
        .where('name', '=', 'retention')
        .where('holder', '=', holder)
        .execute(),
    )
  }

  async #execute(write: StoreWrite): Promise<Record<string, number>> {
    const [outcome] = await this.#database.writeExecutor.execute([write])
    if (!outcome) throw new AppError('internal', 'retention batch produced no outcome')
    if (!outcome.ok) throw outcome.error
    if (outcome.record.kind !== 'retention')
      throw new AppError('internal', `retention batch produced a ${outcome.record.kind}`)
    return outcome.record.counts
  }
}
