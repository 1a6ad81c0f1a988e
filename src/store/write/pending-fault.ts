/**
 * The request faults of migration 0011 (a Nova `compute.exception`: a failure known only by its
 * request id and host) as the event merges see them: an event merge of a `compute_*` event on a
 * host folds in the fault of its (request, host), when there is one and the event had started by
 * then. Together with the fault's own program (request-fault-program.ts), which fails the events
 * already recorded, the result does not depend on which of the two arrived first.
 */
import type { Timestamp } from '../../domain/timestamp.js'
import type { EventMerge } from '../action-store.js'
import { canonicalTime } from '../rows.js'
import { get, type Row, type SqlStep, type StepResult } from './sql-step.js'

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

/**
 * `v` with the fault of its (request, host) folded in, as if an Error finishing at the fault's
 * time had been merged too: when the event (of `currentStart`, null when it does not exist yet)
 * had started by the fault's time. A failure the merge itself carries keeps its own texts. The
 * lookup costs one primary key read per merge of a `compute_*` event; measured: bench:follow,
 * 4,000 notifications, SQLite, load average 11 on 2 cores, 1,056 and 1,201 notifications/s with
 * it against 1,252 and 980/s without (runs alternated): within the noise.
 */
export function* withRequestFault(
  v: EventMerge,
  currentStart: Timestamp | null,
): Generator<SqlStep, EventMerge, StepResult> {
  if (!failsWithRequestFault(v.event, v.host)) return v
  const fault = yield* pendingFault(v.requestId, v.host)
  // A new event starts at its start, or at its finish when this is an end alone (eventMerge).
  const ownStart = (v.startTime ?? v.finishTime) as Timestamp
  const start = currentStart !== null && currentStart < ownStart ? currentStart : ownStart
  if (!fault || start > fault.failedAt) return v
  const failed = v.result === 'Error'
  return {
    ...v,
    // Kept explicit: the finish below must not become a new event's start.
    startTime: currentStart === null ? ownStart : v.startTime,
    finishTime:
      v.finishTime !== null && v.finishTime > fault.failedAt ? v.finishTime : fault.failedAt,
    result: 'Error',
    details: failed ? v.details : fault.details,
    traceback: failed ? v.traceback : fault.traceback,
  }
}
