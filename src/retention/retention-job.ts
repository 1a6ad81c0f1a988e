/**
 * The retention job of a running server (issue 13): every `intervalMs` it archives the history of
 * instances deleted longer ago than the policy keeps it, purges archived rows past
 * `purgeAfterDays`, and prunes the Nova follower's bookkeeping older than the keep period, all in
 * bounded batches with pauses between them (store/retention-store.ts).
 *
 * Several nodes may share a database: a run starts only on the node that holds the lease row
 * (migration 0012), taken or renewed by a conditional UPDATE before the run and before every
 * batch; a node that finds the lease held elsewhere skips the run, and a node that loses it
 * (paused longer than the lease lasts) stops after its current batch. A batch is a transaction of
 * its own, so two nodes running a batch at once (after such a loss) would still each commit or
 * roll back whole batches: the lease spares work, it does not guard correctness.
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { Logger } from 'pino'
import { DEFAULT_BATCH_ACTIONS, type RetentionStore } from '../store/retention-store.js'
import { timestampIn } from '../store/retention-store.js'
import type { RetentionCounts } from '../store/write/retention-programs.js'
import { RETENTION_REST_FACTOR, type RetentionPolicy } from './retention-policy.js'

const DAY_MS = 86_400_000

/** What one run did, in rows per kind. */
export interface RetentionReport {
  archived: RetentionCounts
  purged: RetentionCounts
  pruned: Record<string, number>
}

/** Options of the job. */
export interface RetentionJobOptions {
  /** This node's name in the lease (default: host, pid and a random suffix). */
  holder?: string
  /** How long a taken lease lasts without renewal (default: the interval, at least a minute). */
  leaseMs?: number
  /** Delay of the first run after start (default 10 s: not in the middle of start-up). */
  firstRunMs?: number
  /**
   * Called after a run's archive and after its purge with what they removed (the server writes a
   * signed checkpoint of it when it has the chain's key: retention-checkpoint.ts). A failure is
   * logged; the run's work stays done.
   */
  onRemoved?: (reason: 'archive' | 'purge', counts: RetentionCounts) => Promise<unknown>
}

const add = (a: RetentionCounts, b: RetentionCounts): RetentionCounts => ({
  instances: a.instances + b.instances,
  actions: a.actions + b.actions,
  events: a.events + b.events,
})

/** Applies a retention policy periodically on one node of those sharing the database. */
export class RetentionJob {
  readonly #store: RetentionStore
  readonly #policy: RetentionPolicy
  readonly #log: Logger
  readonly holder: string
  readonly #leaseMs: number
  readonly #firstRunMs: number
  readonly #onRemoved: RetentionJobOptions['onRemoved']
  readonly #stop = new AbortController()
  #timer: NodeJS.Timeout | undefined
  #running: Promise<RetentionReport | undefined> | undefined

  constructor(
    store: RetentionStore,
    policy: RetentionPolicy,
    log: Logger,
    options: RetentionJobOptions = {},
  ) {
    this.#store = store
    this.#policy = policy
    this.#log = log
    this.holder =
      options.holder ??
      `${hostname().slice(0, 32)}:${process.pid}:${randomBytes(4).toString('hex')}`
    this.#leaseMs = options.leaseMs ?? Math.max(60_000, policy.intervalMs)
    this.#firstRunMs = options.firstRunMs ?? 10_000
    this.#onRemoved = options.onRemoved
  }

  async #removed(reason: 'archive' | 'purge', counts: RetentionCounts): Promise<void> {
    if (!this.#onRemoved || counts.actions + counts.events + counts.instances === 0) return
    await this.#onRemoved(reason, counts).catch((err: unknown) => {
      this.#log.warn(`retention checkpoint not written: ${(err as Error).message}`)
    })
  }

  /** Schedules the runs. */
  start(): void {
    this.#schedule(this.#firstRunMs)
  }

  #schedule(ms: number): void {
    if (this.#stop.signal.aborted) return
    this.#timer = setTimeout(() => {
      void this.runOnce()
        .catch((err: unknown) => {
          // The database may be away; the next run tries again. No ids in the line.
          this.#log.warn({ err }, 'retention run failed; the next run tries again')
        })
        .finally(() => this.#schedule(this.#policy.intervalMs))
    }, ms)
    this.#timer.unref()
  }

  /**
   * One run now, if this node holds (or takes) the lease: what it did, or undefined when another
   * node holds the lease. A run already going is joined, not doubled.
   */
  runOnce(): Promise<RetentionReport | undefined> {
    this.#running ??= this.#run().finally(() => (this.#running = undefined))
    return this.#running
  }

  async #run(): Promise<RetentionReport | undefined> {
    const renew = () => this.#store.takeLease(this.holder, this.#leaseMs)
    if (!(await renew())) return undefined
    const p = this.#policy
    const common = {
      batchActions: p.batchActions,
      batchMs: p.batchMs,
      pauseMs: p.pauseMs,
      restFactor: RETENTION_REST_FACTOR,
      signal: this.#stop.signal,
      keepGoing: renew,
    }
    let archived: RetentionCounts = { instances: 0, actions: 0, events: 0 }
    for (const [projectId, days] of p.keepDaysByProject) {
      const before = timestampIn(-days * DAY_MS)
      archived = add(archived, await this.#store.archive({ ...common, before, projectId }))
    }
    if (p.keepDays !== undefined) {
      const before = timestampIn(-p.keepDays * DAY_MS)
      const exceptProjects = p.keepDaysByProject.map(([project]) => project)
      archived = add(archived, await this.#store.archive({ ...common, before, exceptProjects }))
    }
    await this.#removed('archive', archived)
    let purged: RetentionCounts = { instances: 0, actions: 0, events: 0 }
    if (p.purgeAfterDays !== undefined && !this.#stop.signal.aborted)
      purged = await this.#store.purge({
        ...common,
        before: timestampIn(-p.purgeAfterDays * DAY_MS),
      })
    await this.#removed('purge', purged)
    // The follower's bookkeeping is needed for minutes (redeliveries), never for the keep period.
    const horizon = Math.min(p.keepDays ?? Infinity, ...p.keepDaysByProject.map(([, d]) => d))
    const pruned = this.#stop.signal.aborted
      ? {}
      : await this.#store.pruneNova(
          timestampIn(-horizon * DAY_MS),
          // Rows, not actions: the count-bounded size of before time-bounded archive batches.
          Math.min(p.batchActions, DEFAULT_BATCH_ACTIONS),
        )
    const report = { archived, purged, pruned }
    this.#log.info(report, 'retention run done')
    return report
  }

  /** Stops scheduling, waits for a run in progress to end its batch, and gives the lease up. */
  async stop(): Promise<void> {
    this.#stop.abort()
    clearTimeout(this.#timer)
    await this.#running?.catch(() => undefined)
    await this.#store.releaseLease(this.holder).catch(() => undefined)
  }
}
