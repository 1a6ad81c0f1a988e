/**
 * The links of the hash chain. Every change row (one per changed action or event, in commit
 * order: store/write/change-feed.ts) carries the digest of the record as it was written and a
 * link: SHA-256 over the previous position's link (32 bytes) followed by the canonical JSON
 * `[position, kind, action_id, event_id, digest]`. Each link therefore fixes every entry before
 * it: changing, removing or inserting any entry changes every later link.
 *
 * The first chained position follows 32 zero bytes; positions written before the chain existed
 * (migration 0013) have no link and are outside it.
 */
import { sha256 } from './sha256.js'

/** What a link covers of one chain entry. */
export interface ChainEntry {
  position: number
  kind: string
  actionId: number
  eventId: number | null
  digest: string
}

/** The link before the first chained position: 32 zero bytes, in hex. */
export const GENESIS_LINK = '0'.repeat(64)

const HEX_LINK = /^[0-9a-f]{64}$/

/** True when `value` has the shape of a link or digest (64 lower-case hex digits). */
export function isHexLink(value: unknown): value is string {
  return typeof value === 'string' && HEX_LINK.test(value)
}

/** The link of `entry` after `prev` (null: the chain starts here). */
export function nextLink(prev: string | null, entry: ChainEntry): string {
  const json = JSON.stringify([
    entry.position,
    entry.kind,
    entry.actionId,
    entry.eventId,
    entry.digest,
  ])
  // The 32 bytes of the previous link, then the entry's UTF-8: one buffer, one hash call.
  const bytes = Buffer.allocUnsafe(32 + Buffer.byteLength(json, 'utf8'))
  bytes.write(prev ?? GENESIS_LINK, 0, 32, 'hex')
  bytes.write(json, 32, 'utf8')
  return sha256(bytes)
}
