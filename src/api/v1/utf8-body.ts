/**
 * Decoding of /v1 request bodies. Fastify's `parseAs: 'string'` decodes leniently, turning invalid
 * UTF-8 into U+FFFD, so two different byte strings could become one stored id; the write API
 * refuses such a body instead.
 */
import { AppError } from '../../domain/errors.js'

// `fatal` throws on invalid UTF-8; `ignoreBOM` keeps a leading BOM in the text, as the string
// parser did, so the idempotency hash and the NDJSON first-line handling see the same text.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The message of the `invalid_input` answered to a body that is not valid UTF-8. */
export const INVALID_UTF8_MESSAGE = 'The request body is not valid UTF-8'

/** The body as text; throws `invalid_input` when it is not valid UTF-8. */
export function decodeUtf8Body(body: Buffer): string {
  try {
    return decoder.decode(body)
  } catch {
    throw new AppError('invalid_input', INVALID_UTF8_MESSAGE)
  }
}
