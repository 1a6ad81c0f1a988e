/**
 * The write of a request fault (a Nova `compute.exception`, spec nova-notifications.md §2.5 and
 * §5.4): kept in `nova_request_faults` for the events still to come (pending-fault.ts), and merged
 * as a failure into the `compute_*` events of that request on that host already recorded, under
 * every action of the request. Both halves fail exactly the events started by the fault's time and
 * not finished before it, so the outcome is the same whichever of the exception and the events
 * arrives first (pending-fault.ts), and applying it again changes nothing (the event merge is a
 * no-op on an event it already failed).
 */
import type { RequestFault } from '../action-store.js'
import { canonicalTime, canonicalTimeOrNull } from '../rows.js'
import { eventMerge } from './merge-programs.js'
import { failsWithRequestFault, pendingFault, requestKey } from './pending-fault.js'
import { getAll, getAllLocked, run, type Row } from './sql-step.js'
import type { ActionIdCache, Out } from './write-programs.js'

/** Keeps the fault, then fails the events of its request and host that had started by then. */
export function* requestFault(v: RequestFault, cache: ActionIdCache): Out {
  // First: a transaction creating an action of this request either commits before the actions are
  // read below or waits here, and then sees the fault kept here (pending-fault.ts requestKey).
  yield* requestKey(v.requestId, v.createdAt)
  const kept = yield* pendingFault(v.requestId, v.host)
  // One row per (request, host): its latest time (a later exception fails every event an earlier
  // one does, and more) and the first failure's texts, as an event keeps its first failure's.
  if (!kept)
    yield run(
      'INSERT INTO nova_request_faults (request_id, host, failed_at, details, traceback, seen_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?)',
      v.requestId,
      v.host,
      v.failedAt,
      v.details,
      v.traceback,
      v.createdAt,
    )
  else if (kept.failedAt < v.failedAt)
    yield run(
      'UPDATE nova_request_faults SET failed_at = ? WHERE request_id = ? AND host = ?',
      v.failedAt,
      v.requestId,
      v.host,
    )
  const fault = {
    failedAt: kept && kept.failedAt > v.failedAt ? kept.failedAt : v.failedAt,
    details: kept ? kept.details : v.details,
    traceback: kept ? kept.traceback : v.traceback,
  }
  // Every action of the request (instance_actions_request_idx): a multi-instance boot shares one
  // request id, and the exception does not say which instance failed, so each of them that has
  // such an event on that host fails (docs/nova-integration.md).
  const actions = (yield getAll(
    'SELECT id, instance_uuid FROM instance_actions WHERE request_id = ? ORDER BY id',
    v.requestId,
  )) as Row[]
  let failedEvents = 0
  for (const action of actions) {
    const actionId = Number(action.id)
    // Read under the action's lock, as the event merges read: a merge of an event of this action
    // running at the same time either commits before this read or sees the kept fault.
    const events = (yield getAllLocked(
      actionId,
      'SELECT event, start_time, finish_time FROM instance_actions_events WHERE action_id = ? ' +
        'AND host = ? ' +
        'ORDER BY id',
      actionId,
      v.host,
    )) as Row[]
    const names = new Set<string>()
    for (const e of events) {
      const event = e.event as string
      if (!failsWithRequestFault(event, v.host) || names.has(event)) continue
      if (canonicalTime(e.start_time) > fault.failedAt) continue
      // A step that had ended before the exception keeps its own result (pending-fault.ts).
      const finished = canonicalTimeOrNull(e.finish_time)
      if (finished !== null && finished < fault.failedAt) continue
      names.add(event)
      const outcome = yield* eventMerge(
        {
          instanceUuid: action.instance_uuid as string,
          requestId: v.requestId,
          event,
          host: v.host,
          startTime: null,
          finishTime: fault.failedAt,
          result: 'Error',
          details: fault.details,
          traceback: fault.traceback,
          createdAt: v.createdAt,
          ...(v.writer ? { writer: v.writer } : {}),
        },
        cache,
      )
      if (outcome.ok) failedEvents++
    }
  }
  return { ok: true, created: !kept, record: { kind: 'fault', failedEvents } }
}
