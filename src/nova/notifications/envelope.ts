/**
 * The AMQP body of a Nova notification (spec nova-notifications.md §1.4, §1.5): the oslo
 * messaging v2 envelope `{"oslo.version": "2.0", "oslo.message": "<JSON text>"}` or, from the v1
 * driver, the message itself. The result holds only what the follower uses; the request context
 * is already whitelisted (context.ts), so nothing secret leaves this module.
 */
import { parseTimestamp, type Timestamp } from '../../domain/timestamp.js'
import { pickContext, type NovaContext } from './context.js'

/** A notification, unwrapped. */
export interface NovaMessage {
  messageId: string
  /** `<binary>:<host>` (versioned) or `<service>.<host>` (legacy). */
  publisherId: string
  eventType: string
  priority: string
  payload: Readonly<Record<string, unknown>>
  /** The envelope timestamp (the publisher's clock, UTC). */
  timestamp: Timestamp
  context: NovaContext
}

/** The body as a message, or why it cannot be one (a poison message). */
export type EnvelopeResult = { ok: true; message: NovaMessage } | { ok: false; reason: string }

const MESSAGE_ID = /^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$/
// Python's str(datetime): a space, no zone, and no fraction when the microseconds are 0.
const ENVELOPE_TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?$/

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/**
 * A Nova time (envelope `timestamp`, `_context_timestamp`, payload date-times) as a canonical UTC
 * Timestamp: every form Nova sends has no zone or `Z`, and all are UTC. Undefined when invalid.
 */
export function parseNovaTime(value: unknown): Timestamp | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined
  if (
    !ENVELOPE_TIME.test(value) &&
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$/.test(value)
  )
    return undefined
  return parseTimestamp(value)
}

/** Unwraps a message body; never throws. */
export function parseEnvelope(body: Buffer): EnvelopeResult {
  const outer = parseJson(body.toString('utf8'))
  if (!isObject(outer)) return { ok: false, reason: 'body is not a JSON object' }
  let inner: unknown = outer
  if ('oslo.version' in outer || 'oslo.message' in outer) {
    if (outer['oslo.version'] !== '2.0')
      return { ok: false, reason: 'unsupported oslo.version (only 2.0 is understood)' }
    const text = outer['oslo.message']
    if (typeof text !== 'string') return { ok: false, reason: 'oslo.message is not a string' }
    inner = parseJson(text)
    if (!isObject(inner)) return { ok: false, reason: 'oslo.message is not a JSON object' }
  }
  const m = inner as Record<string, unknown>
  const { message_id: messageId, publisher_id: publisherId, event_type: eventType } = m
  if (typeof messageId !== 'string' || !MESSAGE_ID.test(messageId))
    return { ok: false, reason: 'missing or malformed message_id' }
  if (typeof eventType !== 'string' || eventType === '' || eventType.length > 255)
    return { ok: false, reason: 'missing or malformed event_type' }
  if (typeof publisherId !== 'string' || publisherId.length > 255)
    return { ok: false, reason: 'missing or malformed publisher_id' }
  const timestamp = parseNovaTime(m.timestamp)
  if (!timestamp) return { ok: false, reason: 'missing or malformed timestamp' }
  const payload = isObject(m.payload) ? m.payload : {}
  return {
    ok: true,
    message: {
      messageId,
      publisherId,
      eventType,
      priority: typeof m.priority === 'string' ? m.priority : '',
      payload,
      timestamp,
      context: pickContext(m),
    },
  }
}
