/**
 * The writers of records derived from Nova: the notification follower and the two importers. Their
 * records carry the writer tag of these names under the database's writer tag key (as a scoped
 * writer's records carry its user id's, src/security/writer-tag.ts), so one source always has one
 * tag, whichever command wrote its records: the API and database importers share theirs.
 */
import { writerTag } from '../security/writer-tag.js'

/** The principal name of records built from Nova's notifications (`actiontrail follow-nova`). */
export const NOVA_NOTIFICATIONS_WRITER = 'nova-notifications'

/** The principal name of records imported from Nova's API or database (`actiontrail import`). */
export const NOVA_IMPORT_WRITER = 'nova-import'

/** The tag of `name` under `key`; none when the store keeps no writer tag key. */
export function novaWriterTag(key: Buffer | undefined, name: string): string | undefined {
  return key === undefined ? undefined : writerTag(key, name)
}
