/**
 * Nova versioned notifications as they arrive on RabbitMQ (messagingv2 envelope, spec
 * nova-notifications.md §1.4–1.6), shaped like Nova's documentation samples but built here so the
 * tests depend on nothing outside the repository.
 */
import { randomUUID } from 'node:crypto'

/** What varies between notifications. */
export interface NotificationSpec {
  /** e.g. `instance.reboot.start`. */
  eventType: string
  uuid: string
  /** `req-<uuid>`. */
  requestId: string
  /** The compute host (publisher_id `nova-compute:<host>`). */
  host?: string
  /** Envelope timestamp, `YYYY-MM-DD HH:MM:SS.ffffff` (UTC). */
  timestamp?: string
  messageId?: string
  projectId?: string
  userId?: string
  /** A fault for `.error`: the exception's message and traceback. */
  fault?: { message: string; traceback: string }
}

/** The owner project and user of the test instances (32 hex digits, as Keystone's). */
export const NOVA_PROJECT = '6f70656e737461636b20342065766572'
export const NOVA_USER = 'a1b2c3d4e5f60718293a4b5c6d7e8f90'

/** The envelope timestamp of `date`, as oslo.messaging writes it. */
export function envelopeTime(date = new Date()): string {
  return date.toISOString().replace('T', ' ').replace('Z', '000')
}

/** The inner message (what `oslo.message` holds). */
export function innerMessage(spec: NotificationSpec): Record<string, unknown> {
  const project = spec.projectId ?? NOVA_PROJECT
  const user = spec.userId ?? NOVA_USER
  const isError = spec.eventType.endsWith('.error')
  return {
    message_id: spec.messageId ?? randomUUID(),
    publisher_id: `nova-compute:${spec.host ?? 'cmp-1'}`,
    event_type: spec.eventType,
    priority: isError ? 'ERROR' : 'INFO',
    timestamp: spec.timestamp ?? envelopeTime(),
    _unique_id: randomUUID().replaceAll('-', ''),
    _context_request_id: spec.requestId,
    _context_user_id: user,
    _context_project_id: project,
    payload: {
      'nova_object.name': 'InstanceActionPayload',
      'nova_object.namespace': 'nova',
      'nova_object.version': '1.9',
      'nova_object.data': {
        uuid: spec.uuid,
        display_name: 'some-server',
        host: spec.host ?? 'cmp-1',
        state: 'active',
        tenant_id: project,
        user_id: user,
        request_id: spec.requestId,
        action_initiator_user: user,
        action_initiator_project: project,
        created_at: '2026-01-05T10:00:00Z',
        deleted_at: null,
        fault: spec.fault
          ? {
              'nova_object.name': 'ExceptionPayload',
              'nova_object.namespace': 'nova',
              'nova_object.version': '1.1',
              'nova_object.data': {
                exception: 'VirtualInterfaceCreateException',
                exception_message: spec.fault.message,
                function_name: '_do_build_and_run_instance',
                module_name: 'nova.compute.manager',
                traceback: spec.fault.traceback,
              },
            }
          : null,
      },
    },
  }
}

/** The AMQP body: the messagingv2 envelope around the inner message's JSON. */
export function notificationBody(spec: NotificationSpec): Buffer {
  return Buffer.from(
    JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(innerMessage(spec)) }),
    'utf8',
  )
}

/** The routing key Nova publishes `eventType` with. */
export function routingKeyOf(eventType: string): string {
  return eventType.endsWith('.error')
    ? 'versioned_notifications.error'
    : 'versioned_notifications.info'
}

/** `req-<uuid>`. */
export function newRequestId(): string {
  return `req-${randomUUID()}`
}
