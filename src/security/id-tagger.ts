/**
 * Keyed hashing of identifiers for logs. The same id always gives the same tag under one key, so
 * log lines still correlate, but the id itself cannot be read back or guessed from the tag without
 * the key.
 */
import { createHmac, randomBytes } from 'node:crypto'

/** Maps an identifier to its tag, e.g. `id:3f9a1c0b7d2e`. */
export type IdTagger = (id: string) => string

/**
 * Creates a tagger from a secret key. Without a key a random one is used, so tags correlate within
 * one process only (set ACTIONTRAIL_LOG_KEY to correlate across restarts and nodes).
 */
export function createIdTagger(key?: string): IdTagger {
  const secret = key && key.length > 0 ? Buffer.from(key, 'utf8') : randomBytes(32)
  return (id: string) =>
    `id:${createHmac('sha256', secret).update(id, 'utf8').digest('hex').slice(0, 16)}`
}
