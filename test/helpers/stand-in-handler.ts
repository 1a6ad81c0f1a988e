/**
 * A deliberately simple notification handler for the follower's broker-level tests (broker
 * restart, requeue, prefetch), where what is checked is delivery — every acked message recorded,
 * none twice — not Nova's mapping (src/nova/notifications/, tested in notification-mapping and the
 * handler contract tests). `instance.<family>.start` starts the action `<family>` (dashes for
 * underscores) and the event `compute_<family>`; `.end` / `.error` finish that event (Success /
 * Error). Dedupe on `message_id` is per process.
 */
import type { ActionService } from '../../src/domain/action-service.js'
import { isAppError } from '../../src/domain/errors.js'
import type { WriteOperation } from '../../src/domain/write-operation.js'
import type {
  HandleResult,
  NotificationHandler,
} from '../../src/nova/notifications/notification-handler.js'

/** The writer tag of records derived from notifications (shown to admins, see docs/identity.md). */
export const NOTIFICATIONS_WRITER = 'nova-notifications'

const SEEN_LIMIT = 100_000

function field(data: Record<string, unknown>, name: string): string | undefined {
  const value = data[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

// Envelope `timestamp` is `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC (spec §1.5).
function isoTime(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined
  return /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?$/.test(text)
    ? `${text.replace(' ', 'T')}Z`
    : undefined
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

/** The stand-in handler over a service. */
export class StandInNotificationHandler implements NotificationHandler {
  readonly #service: ActionService
  readonly #seen = new Set<string>()

  constructor(service: ActionService) {
    this.#service = service
  }

  async handle(body: Buffer): Promise<HandleResult> {
    const outer = asObject(parseJson(body.toString('utf8')))
    if (!outer) return { kind: 'poison', reason: 'body is not a JSON object' }
    let message = outer
    if ('oslo.message' in outer) {
      if (outer['oslo.version'] !== '2.0') return { kind: 'poison', reason: 'unknown oslo.version' }
      const inner = asObject(
        typeof outer['oslo.message'] === 'string' ? parseJson(outer['oslo.message']) : undefined,
      )
      if (!inner) return { kind: 'poison', reason: 'oslo.message is not a JSON object' }
      message = inner
    }
    const eventType = typeof message.event_type === 'string' ? message.event_type : ''
    const m = /^instance\.([a-z_]+)\.(start|end|error)$/.exec(eventType)
    if (!m) return { kind: 'ignored', reason: 'not an instance step notification' }
    const [, family = '', phase] = m
    const data = asObject(asObject(message.payload)?.['nova_object.data'])
    const uuid = data && field(data, 'uuid')
    const requestId = data && (field(data, 'request_id') ?? field(message, '_context_request_id'))
    if (!data || !uuid || !requestId)
      return { kind: 'poison', reason: 'payload lacks the instance uuid or request id' }
    const messageId = field(message, 'message_id')
    if (messageId && this.#seen.has(messageId)) return { kind: 'duplicate' }
    const time = isoTime(message.timestamp)
    const host =
      typeof message.publisher_id === 'string' ? message.publisher_id.split(':')[1] : undefined
    const event = `compute_${family}`
    const fault = asObject(asObject(data.fault)?.['nova_object.data'])
    const finish: WriteOperation = {
      op: 'event_finish',
      input: {
        instanceUuid: uuid,
        requestId,
        event,
        result: phase === 'error' ? 'Error' : 'Success',
        ...(time ? { finishTime: time } : {}),
        ...(phase === 'error'
          ? {
              details: (fault && field(fault, 'exception_message')) ?? null,
              traceback: (fault && field(fault, 'traceback')) ?? null,
            }
          : {}),
        writer: NOTIFICATIONS_WRITER,
      },
    }
    const start: WriteOperation = {
      op: 'event_start',
      input: {
        instanceUuid: uuid,
        requestId,
        event,
        host: host ?? null,
        ...(time ? { startTime: time } : {}),
        writer: NOTIFICATIONS_WRITER,
      },
    }
    const head: WriteOperation[] = [
      {
        op: 'instance_put',
        input: {
          uuid,
          name: field(data, 'display_name') ?? uuid,
          projectId: field(data, 'tenant_id') ?? '',
          userId: field(data, 'user_id') ?? '',
        },
      },
      {
        op: 'action_start',
        input: {
          instanceUuid: uuid,
          action: family.replaceAll('_', '-'),
          requestId,
          userId: field(data, 'action_initiator_user') ?? null,
          projectId: field(data, 'action_initiator_project') ?? null,
          ...(time ? { startTime: time } : {}),
          writer: NOTIFICATIONS_WRITER,
        },
      },
    ]
    let outcomes = await this.#service.apply([...head, phase === 'start' ? start : finish])
    // An end or error whose start never arrived (lost, or not emitted): record the event whole.
    if (outcomes[2] && !outcomes[2].ok && outcomes[2].error.code === 'event_not_found')
      outcomes = await this.#service.apply([start, finish])
    for (const outcome of outcomes) {
      if (outcome.ok) continue
      if (isAppError(outcome.error, 'invalid_input') || isAppError(outcome.error, 'conflict'))
        return { kind: 'poison', reason: `rejected: ${outcome.error.code}` }
      throw outcome.error
    }
    if (messageId) {
      if (this.#seen.size >= SEEN_LIMIT) this.#seen.clear()
      this.#seen.add(messageId)
    }
    return { kind: 'applied', writes: outcomes.length }
  }
}
