/**
 * One change as the stream sends it: the change's position with the current rows of its action
 * (and event), its SSE message for each kind of caller (built once per change, whatever the number
 * of subscribers), and whether a subscriber's filter matches it.
 */
import type { ActionEvent, InstanceAction } from '../../../domain/instance-action.js'
import { queryEventView, type EventVisibility } from '../query-common.js'
import { actionView } from '../views.js'
import type { StreamFilter } from './stream-query.js'

/** A subscriber's filter with its access scope. */
export interface SubscriberFilter extends StreamFilter {
  /** Non-admins: only instances owned by this project (set from the caller, not the URL). */
  scopeProject?: string
  /** What the caller may see of events (the policy's answer, asked once per stream). */
  visibility: EventVisibility
}

/** A loaded change. */
export class StreamItem {
  readonly position: number
  readonly instanceUuid: string
  readonly ownerProject: string
  /** The action now; undefined when it is gone (archived or purged since): nobody gets it. */
  readonly action: InstanceAction | undefined
  /** Set for an event change. */
  readonly event: ActionEvent | undefined
  /** The message per visibility (index: internals + 2 × details), built on first use. */
  #texts: (string | undefined)[] = [undefined, undefined, undefined, undefined]

  constructor(
    change: { position: number; instanceUuid: string; ownerProject: string },
    action: InstanceAction | undefined,
    event: ActionEvent | undefined,
  ) {
    this.position = change.position
    this.instanceUuid = change.instanceUuid
    this.ownerProject = change.ownerProject
    this.action = action
    this.event = event
  }

  /** Whether a subscriber with this filter gets the change. */
  matches(f: SubscriberFilter): boolean {
    const a = this.action
    if (!a) return false
    if (this.event ? !f.eventMessages : !f.actionMessages) return false
    if (f.scopeProject !== undefined && this.ownerProject !== f.scopeProject) return false
    if (f.ownerProjectId !== undefined && this.ownerProject !== f.ownerProjectId) return false
    if (f.instanceUuid !== undefined && a.instanceUuid !== f.instanceUuid) return false
    if (f.projectId !== undefined && a.projectId !== f.projectId) return false
    if (f.userId !== undefined && a.userId !== f.userId) return false
    if (f.requestId !== undefined && a.requestId !== f.requestId) return false
    if (f.actions !== undefined && !f.actions.has(a.action)) return false
    if (f.host !== undefined && this.event?.host !== f.host) return false
    return true
  }

  /** The SSE message (ending with its blank line) for a caller who sees this much of events. */
  text(visibility: EventVisibility): string {
    const i = (visibility.internals ? 1 : 0) + (visibility.details ? 2 : 0)
    return (this.#texts[i] ??= this.#render(visibility))
  }

  #render(visibility: EventVisibility): string {
    const a = this.action
    if (!a) return ''
    const data = this.event
      ? {
          instance_uuid: a.instanceUuid,
          request_id: a.requestId,
          action: a.action,
          event: queryEventView(this.event, visibility),
        }
      : { action: actionView(a) }
    // JSON has no raw line breaks, so one `data:` line carries the whole message.
    return `id: ${this.position}\nevent: ${this.event ? 'event' : 'action'}\ndata: ${JSON.stringify(data)}\n\n`
  }
}
