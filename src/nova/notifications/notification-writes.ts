/**
 * The writes one notification implies (spec nova-notifications.md §4): the instance (owner only,
 * never its display name), the action keyed by (instance, request id) and, for notifications that
 * bracket a DB event, that event keyed by (action, event, host); for a `compute.exception`, the
 * failure of its request and host. Every write is a merge, so the notifications of a request may
 * arrive in any order and any number of times (§5.4); the message id's receipt goes in the same
 * transaction (notification-handler.ts).
 */
import type { DerivedOperation } from '../../domain/merge-operation.js'
import { isUuid } from '../../domain/validation.js'
import type { Timestamp } from '../../domain/timestamp.js'
import type { NovaMessage } from './envelope.js'
import { parseNovaTime } from './envelope.js'
import {
  COMPUTE_TASK_FAILURES,
  INSTANCE_FAMILIES,
  NOT_ACTIONS,
  REQUEST_FAILURE,
  resolveRule,
  type FamilyRule,
} from './event-map.js'

/** The writes of a notification, or why there are none. */
export type NotificationWrites =
  | { kind: 'writes'; ops: DerivedOperation[] }
  | { kind: 'ignored'; reason: string }
  | { kind: 'poison'; reason: string }

type Data = Readonly<Record<string, unknown>>

const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const MAX_ID_LENGTH = 255

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' && value.length <= MAX_ID_LENGTH ? value : null
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}

function objectData(value: unknown): Data | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const data = (value as Record<string, unknown>)['nova_object.data']
  return typeof data === 'object' && data !== null && !Array.isArray(data)
    ? (data as Data)
    : undefined
}

function majorVersion(value: unknown): number | undefined {
  const version = (value as Record<string, unknown> | null)?.['nova_object.version']
  if (typeof version !== 'string') return undefined
  const major = Number(version.split('.')[0])
  return Number.isInteger(major) ? major : undefined
}

function splitEventType(
  eventType: string,
): { rule: FamilyRule; phase: string | null } | { reason: string; poison: boolean } {
  const notAction = NOT_ACTIONS[eventType]
  if (notAction) return { reason: `${eventType}: ${notAction}`, poison: false }
  const parts = eventType.split('.')
  if (parts[0] === 'compute_task' && parts.length === 3 && parts[2] === 'error') {
    const rule = COMPUTE_TASK_FAILURES[parts[1] as string]
    if (rule) return { rule, phase: 'error' }
  }
  if (parts[0] === 'instance' && (parts.length === 2 || parts.length === 3)) {
    const rule = INSTANCE_FAMILIES[parts[1] as string]
    const phase = parts[2] ?? null
    if (rule && (rule.role === 'whole' || rule.role === 'marker') === (phase === null)) {
      if (phase === null || phase === 'start' || phase === 'end' || phase === 'error')
        return { rule, phase }
    }
  }
  return { reason: 'not an instance action notification', poison: false }
}

/** The payload's data when its version is understood, or why it is poison (a string). */
function payloadData(message: NovaMessage): Data | string {
  // A new major version is an incompatible payload: parked, not guessed at (§2.1, §5.4).
  if (majorVersion(message.payload) !== 1)
    return 'unsupported payload version (only 1.x is understood)'
  return objectData(message.payload) ?? 'payload has no nova_object.data'
}

/**
 * The write of a `compute.exception` (§2.5, §4.2 "result", §5.4): an ExceptionPayload with no
 * instance uuid and no method name, correlated by the context's request id and the publisher's
 * host. It fails the `compute_*` events of that request on that host, those recorded and those to
 * come (store RequestFault); without either key there is nothing to correlate it with.
 */
function requestFailureWrites(
  message: NovaMessage,
  writer: string | undefined,
): NotificationWrites {
  const data = payloadData(message)
  if (typeof data === 'string') return { kind: 'poison', reason: data }
  const requestId = message.context.requestId
  if (!requestId || !REQUEST_ID.test(requestId))
    return { kind: 'ignored', reason: `${REQUEST_FAILURE}: no request id to correlate it with` }
  const host = hostOf(message.publisherId)
  if (!host) return { kind: 'ignored', reason: `${REQUEST_FAILURE}: no publisher host` }
  return {
    kind: 'writes',
    ops: [
      {
        op: 'request_fault',
        input: {
          requestId,
          host,
          failedAt: message.timestamp,
          // Raw here; the service sanitizes both texts and cuts details to 255 UTF-8 bytes.
          details: text(data.exception_message) ?? text(data.exception),
          traceback: text(data.traceback),
          ...(writer === undefined ? {} : { writer }),
        },
      },
    ],
  }
}

/** The writes of a message, with `writer` as their writer tag (none: untagged). */
export function notificationWrites(
  message: NovaMessage,
  writer: string | undefined,
): NotificationWrites {
  if (message.eventType === REQUEST_FAILURE) return requestFailureWrites(message, writer)
  const split = splitEventType(message.eventType)
  if ('reason' in split) return { kind: split.poison ? 'poison' : 'ignored', reason: split.reason }
  const data = payloadData(message)
  if (typeof data === 'string') return { kind: 'poison', reason: data }
  const rule = resolveRule(split.rule, data)
  const phase = split.phase
  const failure = rule.role === 'failure'

  const instanceUuid = str(failure ? data.instance_uuid : data.uuid)
  if (!instanceUuid || !isUuid(instanceUuid))
    return { kind: 'poison', reason: 'no valid instance uuid' }

  // §4.1: the payload's request id, else the context's (null payload id: a service context).
  const payloadRequestId = str(data.request_id)
  const requestId = payloadRequestId ?? message.context.requestId
  if (!requestId || !REQUEST_ID.test(requestId))
    return { kind: 'poison', reason: 'no valid request id' }
  const initiatorUser = str(data.action_initiator_user) ?? message.context.userId
  const initiatorProject = str(data.action_initiator_project) ?? message.context.projectId
  // §3.3 rule 9 (team decision: dropped): periodic work with no request of its own has no action in
  // Nova; the power-state sync and the auto-confirm (rule 8) do, under the service's request id.
  if (!failure && payloadRequestId === null && !initiatorProject && !rule.serviceContext)
    return { kind: 'ignored', reason: `${message.eventType}: periodic work outside any request` }

  // The owner: the payload's tenant, or the request spec's for the conductor's failures.
  const ownerData = failure ? objectData(data.request_spec) : data
  const ownerProject = str(failure ? ownerData?.project_id : data.tenant_id)
  const ownerUser = str(ownerData?.user_id)

  const at = message.timestamp
  // §4.2: the action starts at the earliest time known, and before oslo.messaging 14.4.0 the
  // context's timestamp is exactly Nova's start_time (later, it is an emit time: no harm).
  const contextTime = parseNovaTime(message.context.timestamp)
  const startTime: Timestamp = contextTime !== undefined && contextTime < at ? contextTime : at
  const host = hostOf(message.publisherId)
  // The main step's end (or the whole action, a lock) finishes the action; a failure may be
  // rescheduled (create.error, then create.start on another host), so it does not.
  const endsAction =
    rule.role === 'whole' || (phase === 'end' && (rule.role === 'main' || rule.endsAction === true))

  const ops: DerivedOperation[] = []
  if (ownerProject && ownerUser)
    ops.push({
      op: 'instance_ensure',
      input: { uuid: instanceUuid, name: instanceUuid, projectId: ownerProject, userId: ownerUser },
    })
  ops.push({
    op: 'action_merge',
    input: {
      instanceUuid,
      action: rule.action,
      requestId,
      userId: initiatorUser,
      projectId: initiatorProject,
      startTime,
      finishTime: endsAction ? at : null,
      replaces: rule.replaces ?? [],
      ...(writer === undefined ? {} : { writer }),
    },
  })
  const event = phase === 'error' ? (rule.errorEvent ?? rule.event) : rule.event
  if (event !== null && phase !== null) {
    const fault = objectData(failure ? data.reason : data.fault)
    const failed = phase === 'error' || (failure && fault !== undefined)
    ops.push({
      op: 'event_merge',
      input: {
        instanceUuid,
        requestId,
        event,
        host,
        startTime: phase === 'start' ? at : null,
        finishTime: phase === 'start' ? null : at,
        result: phase === 'start' ? null : failed ? 'Error' : 'Success',
        // Raw here; the service sanitizes both texts and cuts details to 255 UTF-8 bytes.
        details: failed ? (text(fault?.exception_message) ?? text(fault?.exception)) : null,
        traceback: failed ? text(fault?.traceback) : null,
        ...(writer === undefined ? {} : { writer }),
      },
    })
  }
  // §5.4: delete.end is sent even when the delete failed; the payload's state says if it happened.
  if (message.eventType === 'instance.delete.end' && data.state === 'deleted' && ownerProject)
    ops.push({ op: 'instance_delete', input: { uuid: instanceUuid } })
  return { kind: 'writes', ops }
}

/** The host of a versioned publisher id (`nova-compute:cmp-17` → `cmp-17`); null when absent. */
export function hostOf(publisherId: string): string | null {
  const i = publisherId.indexOf(':')
  return i < 0 ? null : str(publisherId.slice(i + 1))
}
