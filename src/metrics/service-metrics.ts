/**
 * The server's Prometheus metrics (issue 14), on a registry of its own (prom-client), so that two
 * servers in one process (tests, embedders) never share counters. Sources that already keep a
 * count (the access audit, the stream hub, the database pool) are read when Prometheus scrapes,
 * through `collect`, instead of being told about each event twice.
 *
 * No label ever holds an id: routes are templates (`/servers/:server_id/os-instance-actions`),
 * operations and outcomes come from closed sets (the write operations, the error codes), and
 * statuses are numbers.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { FollowCounters } from '../nova/follow/follow-counters.js'
import type { CommitObserver } from '../store/write/group-commit.js'

/** Counts that another part of the server keeps, read at scrape time. */
export interface MetricSources {
  /** Requests refused with 401 and 403 since start (the access audit). */
  denied?: () => { 401: number; 403: number }
  /** Open stream subscriptions and those dropped for falling behind since start. */
  stream?: () => { subscribers: number; dropped: number }
  /** Connections of the database pool (server databases; SQLite has one connection). */
  pool?: () => { total: number; idle: number; waiting: number } | undefined
  /** Actions running past their deadline (capped: see `stuckCap`), or undefined when unknown. */
  stuck?: () => Promise<number | undefined>
  /** The read replica (ACTIONTRAIL_DB_READ): its lag, whether it is used, reads by node. */
  replica?: {
    lagMs(): number | undefined
    usable(): boolean
    counts: { replica: number; primary: number }
  }
  /** The Nova notification follower's counts since start (serve with it, or follow-nova). */
  follower?: () => FollowCounters
}

// The follower's outcomes of a message, in the metric's `outcome` label (a closed set).
const FOLLOW_OUTCOMES = {
  applied: 'applied',
  duplicate: 'duplicate',
  ignored: 'ignored',
  deadLettered: 'dead_lettered',
  requeued: 'requeued',
} as const satisfies Partial<Record<keyof FollowCounters, string>>

/** The largest stuck-actions count a scrape looks for (a bounded query on every scrape). */
export const STUCK_CAP = 1000

// Request latencies: from well under a millisecond (a cached read) to a long batch or export.
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
]
// Writes per group commit: 1 (an idle server) up to the committer's 5,000-operation cap.
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 5000]

/** The metrics of one server. */
export class ServiceMetrics implements CommitObserver {
  /** The registry that `/metrics` exposes. */
  readonly registry = new Registry()
  readonly #requests: Histogram<'route' | 'method' | 'status'>
  readonly #writes: Counter<'operation' | 'outcome'>
  readonly #batch: Histogram
  readonly #commit: Histogram<'outcome'>
  readonly #replays: Counter
  readonly #rateLimited: Counter<'surface'>

  constructor(sources: MetricSources = {}) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'actiontrail_' })
    this.#requests = new Histogram({
      name: 'actiontrail_http_request_duration_seconds',
      help: 'HTTP requests by route template, method and status, and how long they took.',
      labelNames: ['route', 'method', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.#writes = new Counter({
      name: 'actiontrail_writes_total',
      help: 'Write operations by operation and outcome (ok, or the error code).',
      labelNames: ['operation', 'outcome'],
      registers,
    })
    this.#batch = new Histogram({
      name: 'actiontrail_group_commit_operations',
      help: 'Write operations per group-commit transaction.',
      buckets: BATCH_BUCKETS,
      registers,
    })
    this.#commit = new Histogram({
      name: 'actiontrail_group_commit_duration_seconds',
      help: 'Time of a group-commit transaction, from its start to its commit (or failure).',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.#replays = new Counter({
      name: 'actiontrail_idempotency_replays_total',
      help: 'Answers replayed for a repeated Idempotency-Key.',
      registers,
    })
    this.#rateLimited = new Counter({
      name: 'actiontrail_rate_limited_total',
      help: 'Requests refused with 429 for exceeding the per-principal rate limit, by API surface.',
      labelNames: ['surface'],
      registers,
    })
    this.attach(sources)
  }

  /**
   * Adds gauges and counters read from `sources` at scrape time; each source can be attached once
   * (the stream hub attaches itself when the stream route is registered).
   */
  attach(sources: MetricSources): void {
    const registers = [this.registry]
    const { denied, stream, pool, stuck, replica, follower } = sources
    if (replica) {
      new Gauge({
        name: 'actiontrail_db_read_replica_usable',
        help: 'The read replica serves the query API (1), or is down or too far behind (0).',
        registers,
        collect() {
          this.set(replica.usable() ? 1 : 0)
        },
      })
      new Gauge({
        name: 'actiontrail_db_read_replica_lag_seconds',
        help: 'How far the read replica is behind the primary (absent while it is down).',
        registers,
        collect() {
          this.reset()
          const lag = replica.lagMs()
          if (lag !== undefined) this.set(lag / 1000)
        },
      })
      new Counter({
        name: 'actiontrail_db_replica_eligible_reads_total',
        help: 'Reads the read replica may serve, by the node that served them (replica, primary).',
        labelNames: ['node'],
        registers,
        collect() {
          this.reset()
          this.inc({ node: 'replica' }, replica.counts.replica)
          this.inc({ node: 'primary' }, replica.counts.primary)
        },
      })
    }
    if (denied)
      new Counter({
        name: 'actiontrail_access_denied_total',
        help: 'Requests refused: 401 (no valid token) and 403 (not allowed by the policy).',
        labelNames: ['status'],
        registers,
        collect() {
          const totals = denied()
          this.reset()
          this.inc({ status: '401' }, totals[401])
          this.inc({ status: '403' }, totals[403])
        },
      })
    if (stream) {
      new Gauge({
        name: 'actiontrail_stream_subscribers',
        help: 'Open GET /v1/stream subscriptions.',
        registers,
        collect() {
          this.set(stream().subscribers)
        },
      })
      new Counter({
        name: 'actiontrail_stream_dropped_total',
        help: 'Stream subscriptions closed because the client fell too far behind (overflow).',
        registers,
        collect() {
          this.reset()
          this.inc(stream().dropped)
        },
      })
    }
    if (pool)
      new Gauge({
        name: 'actiontrail_db_pool_connections',
        help: 'Database pool connections: total open, idle, and requests waiting for one.',
        labelNames: ['state'],
        registers,
        collect() {
          const p = pool()
          if (!p) return
          this.set({ state: 'total' }, p.total)
          this.set({ state: 'idle' }, p.idle)
          this.set({ state: 'waiting' }, p.waiting)
        },
      })
    if (follower) {
      new Counter({
        name: 'actiontrail_nova_messages_received_total',
        help: 'Nova notification messages delivered to the follower (redeliveries included).',
        registers,
        collect() {
          this.reset()
          this.inc(follower().received)
        },
      })
      new Counter({
        name: 'actiontrail_nova_messages_total',
        help:
          'Nova notification messages settled by the follower, by outcome: applied, duplicate, ' +
          'ignored, dead_lettered (moved to the dead-letter queue), requeued (transient failure).',
        labelNames: ['outcome'],
        registers,
        collect() {
          const counts = follower()
          this.reset()
          for (const [key, outcome] of Object.entries(FOLLOW_OUTCOMES))
            this.inc({ outcome }, counts[key as keyof typeof FOLLOW_OUTCOMES])
        },
      })
      new Counter({
        name: 'actiontrail_nova_reconnects_total',
        help: "The follower's reconnections to the broker after a lost connection or failed set-up.",
        registers,
        collect() {
          this.reset()
          this.inc(follower().reconnects)
        },
      })
    }
    if (stuck)
      new Gauge({
        name: 'actiontrail_stuck_actions',
        help: `Actions still running past their stuck deadline (counted up to ${STUCK_CAP}).`,
        registers,
        async collect() {
          const n = await stuck()
          if (n !== undefined) this.set(n)
        },
      })
  }

  /** Notes an answered request (route template, never the URL). */
  request(route: string, method: string, status: number, seconds: number): void {
    this.#requests.observe({ route, method, status: String(status) }, seconds)
  }

  /** Notes an answer replayed for an Idempotency-Key. */
  replayed(): void {
    this.#replays.inc()
  }

  /** Notes a request refused by the rate limit (`surface`: v1, compute or ui; never a path). */
  rateLimited(surface: 'v1' | 'compute' | 'ui'): void {
    this.#rateLimited.inc({ surface })
  }

  /** CommitObserver: one group-commit transaction ended. */
  committed(operations: number, seconds: number, ok: boolean): void {
    this.#batch.observe(operations)
    this.#commit.observe({ outcome: ok ? 'ok' : 'failed' }, seconds)
  }

  /** CommitObserver: one write operation's outcome (ok, or its error code). */
  wrote(operation: string, outcome: string): void {
    this.#writes.inc({ operation, outcome })
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ text: string; contentType: string }> {
    return { text: await this.registry.metrics(), contentType: this.registry.contentType }
  }
}
