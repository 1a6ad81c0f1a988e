/**
 * One Nova server's history as nova-api shows it, turned into ActionTrail write operations.
 *
 * What the API cannot tell, and how it is rebuilt (docs/operations.md, "Backfill from Nova's API"):
 * - Nova keeps an action's `finish_time` but never shows it. `updated_at` (2.58+) is the time of the
 *   action's last write; when it is later than every start and event time shown, the last write was
 *   the action's finish, and the action is finished at `updated_at`. Otherwise it stays unfinished
 *   (ActionTrail's updated_at is then its last event time, which is Nova's updated_at).
 * - The writes are replayed in time order (event starts and finishes merged), so that an event name
 *   repeated in one action finishes the right one, and ActionTrail's `updated_at` and "Error"
 *   message come out as Nova's.
 */
import type { WriteOperation } from '../../domain/write-operation.js'
import type { EventResult } from '../../domain/instance-action.js'

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

interface Step {
  time: string
  finish: boolean
  index: number
  op: WriteOperation
}

/** Nova's result text as ActionTrail stores it (`Success`/`Error`; anything else is an error). */
function resultOf(result: string | null): EventResult {
  return result === 'Success' ? 'Success' : 'Error'
}

/**
 * The write operations that record `server` and its `actions` (oldest first). A deleted server is
 * registered and then marked deleted, so its history stays readable as in Nova (2.21+).
 */
export function historyOperations(
  server: NovaServer,
  deleted: boolean,
  actions: readonly NovaActionWithEvents[],
): WriteOperation[] {
  const ops: WriteOperation[] = [
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
  for (const a of actions) {
    const key = { instanceUuid: server.id, requestId: a.request_id }
    ops.push({
      op: 'action_start',
      input: {
        ...key,
        action: a.action,
        userId: a.user_id,
        projectId: a.project_id,
        startTime: a.start_time,
      },
    })
    const steps: Step[] = []
    a.events.forEach((e, index) => {
      steps.push({
        time: e.start_time,
        finish: false,
        index,
        op: {
          op: 'event_start',
          input: { ...key, event: e.event, host: e.host ?? null, startTime: e.start_time },
        },
      })
      if (e.finish_time !== null) {
        const result = resultOf(e.result)
        steps.push({
          time: e.finish_time,
          finish: true,
          index,
          op: {
            op: 'event_finish',
            input: {
              ...key,
              event: e.event,
              result,
              finishTime: e.finish_time,
              // ActionTrail keeps details and tracebacks of failures only (Nova has none otherwise).
              ...(result === 'Error'
                ? { details: e.details ?? null, traceback: e.traceback ?? null }
                : {}),
            },
          },
        })
      }
    })
    // Canonical timestamps sort as text; at equal times a start goes before a finish.
    steps.sort((x, y) =>
      x.time !== y.time
        ? x.time < y.time
          ? -1
          : 1
        : x.finish !== y.finish
          ? x.finish
            ? 1
            : -1
          : x.index - y.index,
    )
    ops.push(...steps.map((s) => s.op))
    const last = steps.reduce((max, s) => (s.time > max ? s.time : max), a.start_time)
    if (a.updated_at && a.updated_at > last)
      ops.push({ op: 'action_finish', input: { ...key, finishTime: a.updated_at } })
  }
  if (deleted) ops.push({ op: 'instance_delete', input: { uuid: server.id } })
  return ops
}
