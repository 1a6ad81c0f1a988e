/**
 * What a caller sees of actions and events, by microversion and policy (docs/nova-behaviour.md §7, §8, §9).
 * Keys are emitted in the order of Nova's API samples.
 */
import type { ActionEvent, InstanceAction } from '../../../domain/instance-action.js'
import { hostId } from '../../../security/host-id.js'
import { atLeast, type ApiVersion } from '../microversion.js'
import type {
  NovaInstanceAction,
  NovaInstanceActionEvent,
  NovaInstanceActionWithEvents,
} from '../schemas/instance-actions.js'

/** What the caller's policy allows in `show`. */
export interface EventVisibility {
  /** `os-instance-actions:events`: events before 2.51, traceback, host (2.62+). */
  internals: boolean
  /** `os-instance-actions:events:details` (2.84+). */
  details: boolean
}

/** One item of `instanceActions` / the body of `instanceAction` without events. */
export function actionView(a: InstanceAction, v: ApiVersion): NovaInstanceAction {
  // Two literals rather than one object patched afterwards: Nova's key order puts updated_at before
  // user_id, and this runs for every item of a page.
  if (atLeast(v, 58)) {
    return {
      action: a.action,
      instance_uuid: a.instanceUuid,
      message: a.message,
      project_id: a.projectId,
      request_id: a.requestId,
      start_time: a.startTime,
      updated_at: a.updatedAt,
      user_id: a.userId,
    }
  }
  return {
    action: a.action,
    instance_uuid: a.instanceUuid,
    message: a.message,
    project_id: a.projectId,
    request_id: a.requestId,
    start_time: a.startTime,
    user_id: a.userId,
  }
}

/** One event as shown to this caller. */
export function eventView(
  e: ActionEvent,
  action: InstanceAction,
  instanceProject: string,
  v: ApiVersion,
  visibility: EventVisibility,
): NovaInstanceActionEvent {
  const out: NovaInstanceActionEvent = {
    event: e.event,
    start_time: e.startTime,
    finish_time: e.finishTime,
    result: e.result,
  }
  if (visibility.internals) {
    out.traceback = e.traceback
    if (atLeast(v, 62)) out.host = e.host
  }
  if (atLeast(v, 62)) out.hostId = hostId(action.projectId ?? instanceProject, e.host)
  if (atLeast(v, 84) && visibility.details) out.details = e.details
  return out
}

/** The `instanceAction` body of show; `events` is absent before 2.51 without the events policy. */
export function actionWithEventsView(
  a: InstanceAction,
  events: readonly ActionEvent[],
  instanceProject: string,
  v: ApiVersion,
  visibility: EventVisibility,
): NovaInstanceActionWithEvents {
  const out = actionView(a, v)
  if (visibility.internals || atLeast(v, 51)) {
    const shown = events.map((e) => eventView(e, a, instanceProject, v, visibility))
    // Keep Nova's sample key order: events sorts right after action.
    const { action, ...rest } = out
    return { action, events: shown, ...rest }
  }
  return out
}
