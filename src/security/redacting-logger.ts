/**
 * The one logger of ActionTrail. Every line passes through redaction: user, project and request ids
 * become keyed tags (same id → same tag), the values of secret keys are removed at any depth (the
 * traceback sanitizer's key rules, {@link isSecretKey}: `db_password`, `X-Auth-Token`, `apiKey`, …),
 * and free text is scrubbed of request ids, Keystone-style hex ids and secrets. Stack traces lose
 * their absolute paths (relative to the package or working directory, else the traceback
 * sanitizer's path rule), so a logged error does not give the deployment layout away. Keys and
 * text are first folded as the traceback sanitizer folds them ({@link foldForMatching}), so a
 * zero-width character or a fullwidth spelling (`pass\u200Bword`, `ｐａｓｓｗｏｒｄ`) cannot hide a
 * secret.
 */
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import pino, { type DestinationStream, type Logger } from 'pino'
import { createIdTagger, type IdTagger } from './id-tagger.js'
import { foldForMatching, maskSecrets } from './sanitize-traceback.js'
import { normalizeRoots, relativizePaths } from './sanitize/path-relativizing.js'
import { isSecretKey } from './sanitize/secret-keys.js'

/** Keys whose values are identifiers of people, projects or requests: logged as tags. */
export const ID_KEYS: ReadonlySet<string> = new Set([
  'user_id',
  'userId',
  'project_id',
  'projectId',
  'tenant_id',
  'tenantId',
  'request_id',
  'requestId',
  'reqId',
  'marker',
  'global_request_id',
  'x-openstack-request-id',
  'x-compute-request-id',
])

const REDACTED = '[redacted]'
const REQUEST_ID = /\breq-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi
// Keystone user and project ids are 32 hex digits.
const HEX_ID = /\b[0-9a-f]{32}\b/gi

/** Options of the logger. */
export interface LoggerOptions {
  level?: string
  /** HMAC key for id tags (ACTIONTRAIL_LOG_KEY). */
  key?: string
  /** Where lines go; stdout by default. Tests pass a capturing stream. */
  destination?: DestinationStream
}

// The package's own root (src/security or dist/security, two levels up) and the working directory:
// the stack frames of a logged error are made relative to them.
const STACK_ROOTS = normalizeRoots([
  resolve(fileURLToPath(import.meta.url), '../../..'),
  process.cwd(),
])

/** A stack trace with ids and secrets scrubbed and no absolute path (frames keep file:line:col). */
export function scrubStack(stack: string, tag: IdTagger): string {
  return relativizePaths(scrubText(stack, tag), STACK_ROOTS)
}

/**
 * Replaces ids and secrets inside free text, after folding it as the sanitizer does: the line then
 * shows the folded text, exactly what the rules saw.
 */
export function scrubText(text: string, tag: IdTagger): string {
  return maskSecrets(foldForMatching(text))
    .replace(REQUEST_ID, (m) => tag(m))
    .replace(HEX_ID, (m) => tag(m))
}

/** Deep-copies a log object with ids tagged and secrets removed. */
export function redactValue(value: unknown, tag: IdTagger, depth = 0): unknown {
  if (depth > 8) return '[depth]'
  if (typeof value === 'string') return scrubText(value, tag)
  if (Array.isArray(value)) return value.map((v) => redactValue(v, tag, depth + 1))
  if (value instanceof Error) {
    return {
      type: value.constructor.name,
      message: scrubText(value.message, tag),
      stack: value.stack && scrubStack(value.stack, tag),
    }
  }
  if (value !== null && typeof value === 'object') {
    // A serialized Buffer (`{"type": "Buffer", "data": [71, 69, …]}`), e.g. the `rawPacket` that
    // Node attaches to an HTTP parse error: raw request bytes, headers and tokens included, that no
    // text rule can see. Only its size is kept.
    const bytes = value as { type?: unknown; data?: unknown }
    if (bytes.type === 'Buffer' && Array.isArray(bytes.data)) return `[${bytes.data.length} bytes]`
    const out: Record<string, unknown> = {}
    for (const [rawKey, v] of Object.entries(value)) {
      // Matched and written folded: `pass\u200Bword` is the `password` it is made to look like.
      const k = foldForMatching(rawKey)
      const lower = k.toLowerCase()
      if (isSecretKey(k)) out[k] = REDACTED
      // pino's error serializer has already turned an Error into `{type, message, stack}`.
      else if (k === 'stack' && typeof v === 'string') out[k] = scrubStack(v, tag)
      else if (ID_KEYS.has(k) || ID_KEYS.has(lower)) out[k] = v == null ? v : tag(String(v))
      else out[k] = redactValue(v, tag, depth + 1)
    }
    return out
  }
  return value
}

/**
 * A destination that redacts each JSON line before passing it on. Redacting the serialized line
 * (rather than pino's formatters) also covers child-logger bindings such as fastify's `reqId`,
 * which pino serializes once and never hands to a formatter.
 */
export function redactingDestination(target: DestinationStream, tag: IdTagger): DestinationStream {
  return {
    write(line: string) {
      let out: string
      try {
        out = `${JSON.stringify(redactValue(JSON.parse(line), tag))}\n`
      } catch {
        out = `${scrubText(line.trimEnd(), tag)}\n`
      }
      target.write(out)
    },
    flush() {
      ;(target as { flush?: () => void }).flush?.()
    },
  } as DestinationStream
}

/** Creates the redacting pino logger and the tagger it uses. */
export function createLogger(options: LoggerOptions = {}): { logger: Logger; tag: IdTagger } {
  const tag = createIdTagger(options.key)
  const target = options.destination ?? pino.destination({ fd: 1, sync: false })
  const logger = pino(
    { level: options.level ?? 'info', base: undefined },
    redactingDestination(target, tag),
  )
  return { logger, tag }
}
