/**
 * Nova's notification samples (test/fixtures/nova-notifications, copied from nova's
 * doc/notification_samples) with their `$ref`s resolved the way Nova's test helper does (spec
 * nova-notifications.md §1.8), wrapped in the oslo 2.0 envelope with the keys the samples lack.
 */
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where the samples are. */
export const SAMPLES_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'nova-notifications',
)

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

function merge(base: Json, over: Json): Json {
  if (
    typeof base === 'object' &&
    base !== null &&
    !Array.isArray(base) &&
    typeof over === 'object' &&
    over !== null &&
    !Array.isArray(over)
  ) {
    const out: { [key: string]: Json } = { ...base }
    for (const [k, v] of Object.entries(over)) out[k] = k in out ? merge(out[k] as Json, v) : v
    return out
  }
  return over
}

function resolve(value: Json, dir: string): Json {
  if (Array.isArray(value)) return value.map((v) => resolve(v, dir))
  if (typeof value !== 'object' || value === null) return value
  const { $ref: ref, ...rest } = value
  const overrides: { [key: string]: Json } = {}
  for (const [k, v] of Object.entries(rest)) overrides[k] = resolve(v, dir)
  if (typeof ref !== 'string') return overrides
  const file = join(dir, ref.replace(/#$/, ''))
  const target = resolve(JSON.parse(readFileSync(file, 'utf8')) as Json, dirname(file))
  return merge(target, overrides)
}

/** The sample file names (top level). */
export function sampleNames(): string[] {
  return readdirSync(SAMPLES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
}

/** A sample, resolved. */
export function loadSample(name: string): Record<string, Json> {
  return resolve(
    JSON.parse(readFileSync(join(SAMPLES_DIR, name), 'utf8')) as Json,
    SAMPLES_DIR,
  ) as Record<string, Json>
}

/** What to add to a sample to make it a message as it travels. */
export interface Envelope {
  messageId?: string
  /** Envelope timestamp, `YYYY-MM-DD HH:MM:SS[.ffffff]`. */
  timestamp?: string
  context?: Record<string, Json>
  /** Overrides merged into `payload.nova_object.data`. */
  data?: Record<string, Json>
  publisherId?: string
  eventType?: string
}

/** A message body (oslo 2.0 envelope) made from a sample. */
export function novaBody(sample: Record<string, Json>, e: Envelope = {}): Buffer {
  let payload = sample.payload as Json
  if (e.data) payload = merge(payload, { 'nova_object.data': e.data })
  const inner: Record<string, Json> = {
    ...sample,
    payload,
    message_id: e.messageId ?? randomUUID(),
    timestamp: e.timestamp ?? '2026-03-01 10:00:00.000000',
    _unique_id: randomUUID().replace(/-/g, ''),
    ...(e.publisherId ? { publisher_id: e.publisherId } : {}),
    ...(e.eventType ? { event_type: e.eventType } : {}),
  }
  for (const [k, v] of Object.entries(e.context ?? {})) inner[`_context_${k}`] = v
  return Buffer.from(
    JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) }),
  )
}
