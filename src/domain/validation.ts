/**
 * Validation of the identifiers and names that enter the system. Every writer and reader goes
 * through these, so a bad value is rejected with a clear `invalid_input` before it reaches a store.
 */
import { AppError } from './errors.js'

/** Longest string a VARCHAR(255) column of Nova's schema holds. */
export const MAX_NAME_LENGTH = 255

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i
// C0, DEL, C1, bidi overrides and zero-width characters: none belong in an id or a name.
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/

// An unpaired UTF-16 surrogate has no UTF-8 form: drivers store U+FFFD instead, so two different
// ids would collide. With the `u` flag a proper pair is one code point, so only lone ones match.
const LONE_SURROGATE = /\p{Cs}/u

// The native check where the runtime has it (Node ≥ 20): a one-byte string cannot hold a
// surrogate at all, so most texts are answered without a scan. Measured: 7-9 against 20-38 ms per
// million short strings once warm (2026-12-07); the regex was 5 % of the offline import's reader
// thread in a profile of 200k actions (the hash chain checks every text it covers).
const nativeWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean })
  .isWellFormed

/** True when the text has no unpaired UTF-16 surrogate (`String.prototype.isWellFormed`, ES2024). */
export function isWellFormed(value: string): boolean {
  return nativeWellFormed ? nativeWellFormed.call(value) : !LONE_SURROGATE.test(value)
}

/**
 * Removes NUL characters from free text. PostgreSQL text cannot hold U+0000 (the insert fails, and
 * with it the whole batch chunk), and a NUL carries nothing a reader of a failure message needs.
 */
export function stripNul(text: string): string {
  return text.replaceAll('\u0000', '')
}

/** True for a UUID in Nova's accepted forms (hyphenated or 32 hex digits, any case). */
export function isUuid(value: string): boolean {
  return UUID.test(value)
}

/** Canonical lower-case hyphenated form of a UUID, so one instance has one key. */
export function normalizeUuid(value: string): string {
  const hex = value.replace(/-/g, '').toLowerCase()
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** True when the text has no control, bidi-override or zero-width characters. */
export function isPrintable(value: string): boolean {
  return !UNSAFE_CHARS.test(value)
}

/**
 * Checks a name-like field (action, event, host, request id, user or project id): non-empty,
 * printable, at most 255 characters. Throws `invalid_input` naming the field.
 */
export function requireName(field: string, value: unknown, maxLength = MAX_NAME_LENGTH): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new AppError('invalid_input', `${field} must be a non-empty string`)
  }
  if (value.length > maxLength) {
    throw new AppError('invalid_input', `${field} must be at most ${maxLength} characters`)
  }
  if (!isWellFormed(value)) {
    throw new AppError('invalid_input', `${field} must not contain an unpaired surrogate`)
  }
  if (!isPrintable(value)) {
    throw new AppError('invalid_input', `${field} must not contain control characters`)
  }
  return value
}

/**
 * Checks a name that is addressed as a URL path segment once stored (a request id, an event name):
 * {@link requireName}, and not `.` or `..`. Clients resolve those segments before sending (WHATWG
 * URL parsing, `%2E%2E` included), so such an action could never be shown or finished by its URL;
 * found by the write fuzz suite. Throws `invalid_input` naming the field.
 */
export function requireSegmentName(field: string, value: unknown): string {
  const name = requireName(field, value)
  if (name === '.' || name === '..') {
    throw new AppError('invalid_input', `${field} must not be '.' or '..'`)
  }
  return name
}

/**
 * Checks free text (an event's `details` or `traceback`): any string without an unpaired
 * surrogate; `null`/`undefined` pass through as `null`. Throws `invalid_input` naming the field.
 */
export function optionalText(field: string, value: unknown): string | null {
  if (value === null || value === undefined) return null
  const text = String(value)
  if (!isWellFormed(text)) {
    throw new AppError('invalid_input', `${field} must not contain an unpaired surrogate`)
  }
  return text
}

/** Like requireName, but `null`/`undefined` pass through as `null`. */
export function optionalName(
  field: string,
  value: unknown,
  maxLength = MAX_NAME_LENGTH,
): string | null {
  return value === null || value === undefined ? null : requireName(field, value, maxLength)
}

/** Checks and normalizes an instance UUID; throws `invalid_input`. */
export function requireUuid(field: string, value: unknown): string {
  if (typeof value !== 'string' || !isUuid(value)) {
    throw new AppError('invalid_input', `${field} must be a UUID`)
  }
  return normalizeUuid(value)
}
