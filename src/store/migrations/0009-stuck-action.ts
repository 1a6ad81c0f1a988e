/**
 * Unfinished actions of one name newest first (issue 10 follow-up): `state=stuck&action=X` and
 * `result=running&action=X`. Without it, SQLite without statistics ranges over the
 * (action, start_time, id) index and checks finish_time on every action of that name: 936 ms for
 * the 21 stuck live migrations of a 200k-action history (bench:scale, "state=stuck + action");
 * with it the page is one range (finish_time IS NULL, action, start_time < deadline), 1–2 ms. Numbered
 * 0009: 0008 is taken by the (message, start_time, id) index of the same work.
 */
import type { Kysely, Migration } from 'kysely'
import { dropIndex } from './drop-index.js'

const INDEX = 'instance_actions_unfinished_action_idx'
const COLUMNS = ['finish_time', 'action', 'start_time', 'id']

/** The index of this migration, as [name, columns] (the MariaDB hint names it: mysql/search-indexes.ts). */
export const STUCK_ACTION_INDEXES: readonly [string, readonly string[]][] = [[INDEX, COLUMNS]]

/** Migration 0009. */
export const stuckAction: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createIndex(INDEX).on('instance_actions').columns(COLUMNS).execute()
  },
  async down(db: Kysely<unknown>) {
    await dropIndex(db, 'instance_actions', INDEX)
  },
}
