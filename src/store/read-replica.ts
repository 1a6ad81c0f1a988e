/**
 * The reads that may be served by a read replica (ACTIONTRAIL_DB_READ: a PostgreSQL hot standby):
 * the query API's searches, exports and the stream's catch-up. Everything else (the Nova API,
 * the write API's own look-ups, readiness) reads the primary, and nothing is ever written through
 * here. Each read goes to the replica while its lag check says it is usable, and to the primary
 * otherwise; a read the replica fails (it went down, or cancelled the query for a recovery
 * conflict) is answered by the primary at once and the replica is left out until its next check,
 * so a replica going away costs no failed request.
 */
import { AppError } from '../domain/errors.js'
import type { ActionStore } from './action-store.js'
import type { ChangeFeed } from './change-feed.js'
import { errorChain } from './server-errors.js'

/**
 * The reads a replica may serve. `exportLinesOfActions` only where the backend builds those
 * lines (SQLite, which has no replica): routed reads leave it out, and an export then uses the views.
 */
export type QueryReads = Pick<
  ActionStore,
  | 'searchActions'
  | 'searchEvents'
  | 'listInstances'
  | 'listEventsOfActions'
  | 'exportLinesOfActions'
> &
  Pick<ChangeFeed, 'readChanges' | 'actionsByIds' | 'eventsByIds'>

/** Whether the replica may be used now, and what to do when a read on it failed. */
export interface ReplicaHealth {
  usable(): boolean
  markDown(): void
}

/** Reads counted by where they were served, for the metrics. */
export interface ReadCounts {
  replica: number
  primary: number
}

// 40001 on a standby: "canceling statement due to conflict with recovery" (WAL replay needed
// rows the query still read). The primary answers the same read without that conflict.
const RECOVERY_CONFLICT = '40001'

/** True when a read on the replica failed for a reason the primary does not share. */
function replicaFailure(err: unknown): boolean {
  return (
    (err instanceof AppError && err.code === 'store_unavailable') ||
    errorChain(err).some((e) => e.code === RECOVERY_CONFLICT)
  )
}

/** Routes the replica-eligible reads between a replica and the primary. */
export class ReplicaReads implements QueryReads {
  readonly #primary: QueryReads
  readonly #replica: QueryReads
  readonly #health: ReplicaHealth
  readonly counts: ReadCounts = { replica: 0, primary: 0 }

  constructor(primary: QueryReads, replica: QueryReads, health: ReplicaHealth) {
    this.#primary = primary
    this.#replica = replica
    this.#health = health
  }

  /**
   * The reads bound to the node chosen now, for a sequence of reads that must see one state, e.g.
   * a stream page's changes and then their rows (rows read from a replica behind the node that
   * gave the changes would be missing). A failed replica read still falls back to the primary,
   * which is never behind.
   */
  pinned(): QueryReads {
    const useReplica = this.#health.usable()
    return this.#view(() => useReplica)
  }

  /** Whether the replica is used for reads now. */
  usesReplica(): boolean {
    return this.#health.usable()
  }

  readonly #routed = this.#view(() => this.#health.usable())
  searchActions = this.#routed.searchActions
  searchEvents = this.#routed.searchEvents
  listInstances = this.#routed.listInstances
  listEventsOfActions = this.#routed.listEventsOfActions
  readChanges = this.#routed.readChanges
  actionsByIds = this.#routed.actionsByIds
  eventsByIds = this.#routed.eventsByIds

  /** The reads, each sent where `useReplica` says at its call. */
  #view(useReplica: () => boolean): QueryReads {
    const route = <T>(read: (r: QueryReads) => Promise<T>) => this.#route(useReplica(), read)
    return {
      searchActions: (search) => route((r) => r.searchActions(search)),
      searchEvents: (search) => route((r) => r.searchEvents(search)),
      listInstances: (filter) => route((r) => r.listInstances(filter)),
      listEventsOfActions: (ids, options) => route((r) => r.listEventsOfActions(ids, options)),
      readChanges: (after, limit) => route((r) => r.readChanges(after, limit)),
      actionsByIds: (ids) => route((r) => r.actionsByIds(ids)),
      eventsByIds: (ids) => route((r) => r.eventsByIds(ids)),
    }
  }

  async #route<T>(useReplica: boolean, read: (reads: QueryReads) => Promise<T>): Promise<T> {
    if (useReplica) {
      try {
        const result = await read(this.#replica)
        this.counts.replica++
        return result
      } catch (err) {
        if (!replicaFailure(err)) throw err
        this.#health.markDown()
      }
    }
    this.counts.primary++
    return read(this.#primary)
  }
}
