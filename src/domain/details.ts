/**
 * Nova's rule for an event's public `details`: the safe message of a known error, otherwise only
 * the error's class name (so arbitrary exception text never reaches a reader), cut to 255 UTF-8
 * bytes without splitting a character.
 */
import { isAppError } from './errors.js'

/** Maximum size of `details` in UTF-8 bytes. */
export const MAX_DETAILS_BYTES = 255

/**
 * Marks an error whose message is written for the public, the counterpart of a Nova exception's
 * `format_message()`. Errors of other classes contribute only their class name.
 */
export class PublicError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes on a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text
  let bytes = 0
  let out = ''
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8')
    if (bytes + size > maxBytes) break
    bytes += size
    out += ch
  }
  return out
}

/**
 * The `details` value for a failure: a string is used as is; a PublicError or AppError gives its
 * message; anything else gives its class name (`Error` for non-objects).
 */
export function failureDetails(failure: unknown): string {
  let text: string
  if (typeof failure === 'string') text = failure
  else if (failure instanceof PublicError || isAppError(failure)) text = failure.message
  else if (failure instanceof Error) text = failure.constructor.name || failure.name || 'Error'
  else if (failure !== null && typeof failure === 'object')
    text = failure.constructor?.name ?? 'Object'
  else text = 'Error'
  return truncateUtf8(text, MAX_DETAILS_BYTES)
}
