/**
 * The request faults of migration 0011 (a Nova `compute.exception`: a failure known only by its
 * request id and host) as the event merges see them: an event merge of a `compute_*` event on a
 * host folds in the fault of its (request, host), when there is one and the event had started by
 * then. Together with the fault's own program (request-fault-program.ts), which fails the events
 * already recorded, the result does not depend on which of the two arrived first.
 */
import type { ActionEvent } from '../../domain/instance-action.js'
import type { Timestamp } from '../../domain/timestamp.js'
import type { EventMerge } from '../action-store.js'
import { canonicalTime } from '../rows.js'
import { get, runToSerialize, type Row, type SqlStep, type StepResult } from './sql-step.js'

/** A kept request fault. */
export interface PendingFault {
  failedAt: Timestamp
  details: string | null
  traceback: string | null
}

/** Only the DB events of compute methods fail with a compute.exception (spec §4.2 "result"). */
export function failsWithRequestFault(event: string, host: string | null): host is string {
  return host !== null && event.startsWith('compute_')
}

/**
 * The host of a request's key row in `nova_request_faults`: never a real host (a fault's host is
 * a non-empty name, domain/action-service.ts), so no fault lookup ever reads it.
 */
const REQUEST_KEY_HOST = ''

/**
 * Takes the request's key until commit: inserts the row (request id, '') into
 * `nova_request_faults` and deletes it again at once, so nothing stays behind (no row to prune,
 * nothing for retention to count). Both a request fault (request-fault-program.ts, first thing)
 * and the merge that creates an action of that request (merge-programs.ts, just before the
 * action's INSERT) take it, so that the two never run in overlapping transactions.
 *
 * Why: under READ COMMITTED neither of two overlapping transactions sees the other's uncommitted
 * rows. The fault's transaction looks for the request's actions and does not see one that another
 * transaction has just inserted; that transaction looks for the fault (withRequestFault) and does
 * not see the uncommitted fault row: both commit and the event stays open (test
 * compute-exception-race.contract.test.ts failed that way on PostgreSQL and MariaDB). Once the
 * action is committed, both sides lock its row (getLocked) and cannot miss each other; the key
 * covers the one action they cannot lock, the uncommitted one.
 *
 * Why an INSERT and a DELETE rather than a lock of a row kept for each request: an insert of a
 * primary key that another transaction has inserted and not yet ended waits for that transaction
 * to end, even when that transaction has deleted the row again (PostgreSQL's unique check waits
 * for the inserter, _bt_check_unique; InnoDB's duplicate check locks the delete-marked record;
 * checked on PostgreSQL 15 and MariaDB 10.11: the second insert waited for the first's commit, then
 * succeeded), so it locks the key exactly as a row lock would, without a row per request to
 * create, prune and race on (a kept row would have to be inserted by whichever side comes first:
 * two such inserts would fail one transaction with a duplicate key, retried as a whole). When the
 * wait ends, the waiter's next statement sees what the other committed: a fresh snapshot per
 * statement. On Galera, where row locks are per node, both transactions write the same key, so
 * the later one should fail certification and be retried (1213) like any conflict (not tested
 * here). SQLite has one writer: there the key changes nothing (2.7-3.4 µs of CPU per action:
 * 20,000 pairs in one transaction on a migrated file, against 0.4-1.6 µs for one primary key
 * lookup; 8-10 µs of wall time each statement in bench:follow's store alone on a loaded machine,
 * 2026-12-07), so its executor skips both statements (runToSerialize).
 *
 * Lock order: the counter (change_head, write/change-feed.ts) stays last, after every row lock
 * of the transaction, so the key adds no cycle with it. Between the key and action row locks the
 * order is not fixed: a fault takes the key, then its actions' rows; a group commit may hold an
 * action of the request (an earlier event of a multi-instance boot) when it creates another
 * action of that request. Such a cycle needs both at once; the server detects it and the executor
 * retries the transaction (40P01, 1213: async-write-executor.ts).
 */
export function* requestKey(
  requestId: string,
  at: Timestamp,
): Generator<SqlStep, void, StepResult> {
  yield runToSerialize(
    'INSERT INTO nova_request_faults (request_id, host, failed_at, seen_at) VALUES (?, ?, ?, ?)',
    requestId,
    REQUEST_KEY_HOST,
    at,
    at,
  )
  yield runToSerialize(
    'DELETE FROM nova_request_faults WHERE request_id = ? AND host = ?',
    requestId,
    REQUEST_KEY_HOST,
  )
}

/** The fault kept for (request, host), if any. */
export function* pendingFault(
  requestId: string,
  host: string,
): Generator<SqlStep, PendingFault | undefined, StepResult> {
  const row = (yield get(
    'SELECT failed_at, details, traceback FROM nova_request_faults WHERE request_id = ? AND host = ?',
    requestId,
    host,
  )) as Row | undefined
  if (!row) return undefined
  return {
    failedAt: canonicalTime(row.failed_at),
    details: (row.details as string | null) ?? null,
    traceback: (row.traceback as string | null) ?? null,
  }
}

/** What an event merge does with the request fault of its (request, host). */
export interface FaultFold {
  /** The merge's values, with the fault folded in when it applies. */
  v: EventMerge
  /**
   * The event's stored failure was this fault's, folded in while the event was open, and the
   * merge shows that the step had ended before the fault: the merge goes on from the event as it
   * was before (open, no result), so that the outcome is the one of the other arrival order.
   */
  reopen: boolean
}

/** The event values an event merge compares against: null when the event does not exist yet. */
export type CurrentEvent = Pick<
  ActionEvent,
  'startTime' | 'finishTime' | 'result' | 'details' | 'traceback'
> | null

/**
 * The fault of `v`'s (request, host) folded into `v`, as if an Error finishing at the fault's time
 * had been merged too, when the event had started by the fault's time and had not finished before
 * it: a step of the same request that ended on that host before the exception (the first steps
 * of a resize on its destination) keeps its own result. A failure the merge itself carries keeps
 * its own texts.
 *
 * Order: when the fault arrives first and the event is still open (no end yet), whether an end
 * dated before the fault is still on its way cannot be known, and a failed step never sends one:
 * the event fails. Should that end arrive after all, `reopen` undoes the fold (the stored failure
 * is recognised as the fault's by its time and texts), so both orders end alike.
 *
 * The lookup costs one primary key read per merge of a `compute_*` event; measured: bench:follow,
 * 4,000 notifications, SQLite, load average 11 on 2 cores, 1,056 and 1,201 notifications/s with
 * it against 1,252 and 980/s without (runs alternated): within the noise.
 */
export function* withRequestFault(
  v: EventMerge,
  current: CurrentEvent,
): Generator<SqlStep, FaultFold, StepResult> {
  const unchanged = { v, reopen: false }
  if (!failsWithRequestFault(v.event, v.host)) return unchanged
  const fault = yield* pendingFault(v.requestId, v.host)
  if (!fault) return unchanged
  // A new event starts at its start, or at its finish when this is an end alone (eventMerge).
  const ownStart = (v.startTime ?? v.finishTime) as Timestamp
  const start = current !== null && current.startTime < ownStart ? current.startTime : ownStart
  if (start > fault.failedAt) return unchanged
  const foldedBefore =
    current !== null &&
    current.result === 'Error' &&
    current.finishTime === fault.failedAt &&
    current.details === fault.details &&
    current.traceback === fault.traceback
  // The step's own finish: what the merge brings, and what is stored unless the fault made it.
  const stored = current === null || foldedBefore ? null : current.finishTime
  const ownFinish =
    stored !== null && (v.finishTime === null || stored > v.finishTime) ? stored : v.finishTime
  if (ownFinish !== null && ownFinish < fault.failedAt) return { v, reopen: foldedBefore }
  const failed = v.result === 'Error'
  return {
    v: {
      ...v,
      // Kept explicit: the finish below must not become a new event's start.
      startTime: current === null ? ownStart : v.startTime,
      finishTime:
        v.finishTime !== null && v.finishTime > fault.failedAt ? v.finishTime : fault.failedAt,
      result: 'Error',
      details: failed ? v.details : fault.details,
      traceback: failed ? v.traceback : fault.traceback,
    },
    reopen: false,
  }
}
