/**
 * One Nova server's history as nova-api shows it, turned into ActionTrail write operations.
 *
 * Every action and event is written as a merge (store ActionMerge, EventMerge), the writes the
 * follower uses too, so that the API import, the database import and the follower converge on one
 * record whatever their order (docs/nova-integration.md, "Three sources, one history"): an event
 * is identified by (action, event, host), so one the follower recorded first is completed, not
 * duplicated, and a name Nova recorded replaces the follower's guess (recorded-name.ts).
 *
 * What the API cannot tell, and how it is rebuilt (docs/operations.md, "Backfill from Nova's API"):
 * - Nova keeps an action's `finish_time` but never shows it. `updated_at` (2.58+) is the time of the
 *   action's last write; when it is later than every start and event time shown, the last write was
 *   the action's finish, and the action is finished at `updated_at`. Otherwise it stays unfinished
 *   (ActionTrail's updated_at is then its last event time, which is Nova's updated_at).
 * - Nova's created_at (the listing order) is not shown: an action's and an event's start time
 *   stand for it (Nova sets both from one clock reading).
 * - Spec §3.3 rule 7: the actions the list shows twice under one request id (`confirmResize`, then
 *   `delete`) are one, named after the newest (recorded-name.ts).
 */
import type { DerivedOperation } from '../../domain/merge-operation.js'
import type { EventResult } from '../../domain/instance-action.js'
import { requestName } from '../recorded-name.js'

/** A server of `GET /servers/detail`. */
export interface NovaServer {
  id: string
  name: string
  tenant_id: string
  user_id: string
}

/** An action of the list. */
export interface NovaAction {
  action: string
  instance_uuid: string
  request_id: string
  user_id: string | null
  project_id: string | null
  start_time: string
  message: string | null
  updated_at?: string | null
}

/** An event of `show`. */
export interface NovaEvent {
  event: string
  start_time: string
  finish_time: string | null
  result: string | null
  traceback?: string | null
  host?: string | null
  details?: string | null
}

/** An action with its events, oldest event first. */
export interface NovaActionWithEvents extends NovaAction {
  events: NovaEvent[]
}

/** Nova's result text as ActionTrail stores it (`Success`/`Error`; anything else is an error). */
function resultOf(result: string | null): EventResult {
  return result === 'Success' ? 'Success' : 'Error'
}

const earliest = (a: string, b: string) => (b < a ? b : a)

/** The event's merge: what Nova shows of it (failure texts only with a failure, as Nova). */
function eventMerge(
  key: { instanceUuid: string; requestId: string },
  e: NovaEvent,
): DerivedOperation {
  const result = e.finish_time === null ? null : resultOf(e.result)
  return {
    op: 'event_merge',
    input: {
      ...key,
      event: e.event,
      host: e.host ?? null,
      startTime: e.start_time,
      finishTime: e.finish_time,
      result,
      ...(result === 'Error' ? { details: e.details ?? null, traceback: e.traceback ?? null } : {}),
      sourceCreatedAt: e.start_time,
    },
  }
}

/**
 * The write operations that record `server` and its `actions` (oldest first). A deleted server is
 * registered and then marked deleted, so its history stays readable as in Nova (2.21+).
 */
export function historyOperations(
  server: NovaServer,
  deleted: boolean,
  actions: readonly NovaActionWithEvents[],
): DerivedOperation[] {
  const ops: DerivedOperation[] = [
    {
      op: 'instance_put',
      input: {
        uuid: server.id,
        name: server.name,
        projectId: server.tenant_id,
        userId: server.user_id,
      },
    },
  ]
  const byRequest = new Map<string, NovaActionWithEvents[]>()
  for (const a of actions) {
    const list = byRequest.get(a.request_id) ?? []
    if (list.length === 0) byRequest.set(a.request_id, list)
    list.push(a)
  }
  for (const [requestId, group] of byRequest) {
    const key = { instanceUuid: server.id, requestId }
    const newest = group[group.length - 1] as NovaActionWithEvents
    const startTime = group.map((a) => a.start_time).reduce(earliest)
    // Oldest first, so that the events' ids follow their times (the show's order at equal times).
    const events = group
      .flatMap((a) => a.events)
      .map((e, index) => ({ e, index }))
      .sort((x, y) =>
        x.e.start_time !== y.e.start_time
          ? x.e.start_time < y.e.start_time
            ? -1
            : 1
          : x.index - y.index,
      )
      .map(({ e }) => e)
    const times = [startTime, ...events.flatMap((e) => [e.start_time, e.finish_time ?? ''])]
    const last = times.reduce((max, t) => (t > max ? t : max))
    const updated = group.map((a) => a.updated_at ?? '').reduce((max, t) => (t > max ? t : max))
    ops.push({
      op: 'action_merge',
      input: {
        ...key,
        ...requestName(group.map((a) => a.action)),
        userId: newest.user_id,
        projectId: newest.project_id,
        startTime,
        finishTime: updated > last ? updated : null,
        sourceCreatedAt: startTime,
      },
    })
    for (const e of events) ops.push(eventMerge(key, e))
  }
  if (deleted) ops.push({ op: 'instance_delete', input: { uuid: server.id } })
  return ops
}
