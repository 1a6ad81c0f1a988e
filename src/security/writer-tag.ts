/**
 * Writer tags: which principal wrote an action or event, as stored and shown to admins. A tag is
 * `w:` + the first 16 hex digits of HMAC-SHA256(key, user id): the same writer always gets the
 * same tag (so admins can tell writers apart and follow one), while the raw user id is never
 * stored with the record nor derivable from it without the key. 64 bits keep accidental equal
 * tags out of reach for any realistic number of service principals.
 */
import { createHmac } from 'node:crypto'

/** The tag of the principal with `userId`, under the database's writer tag key. */
export function writerTag(key: Buffer, userId: string): string {
  return `w:${createHmac('sha256', key).update(userId, 'utf8').digest('hex').slice(0, 16)}`
}
