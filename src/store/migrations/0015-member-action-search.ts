/**
 * A project's actions of one name, newest first: what a member (or reader) asks for with
 * `action=X`, since a non-admin's search always carries their project as the instances' owner
 * (`owner_project_id`). Without it, every backend walks one of the two single-filter indexes,
 * (owner_project_id, start_time, id) or (action, start_time, id), and drops the rows of the other
 * filter, so the rows read grow with the page's depth: at 1M actions on PostgreSQL, a small
 * project's reboots took 0.74 ms on the bare driver for page 1 and 2.70 ms for pages 2–10 (p50);
 * with this index 0.59 and 0.70 (bench:scale "member, small project, action", 2026-12-07,
 * docs/benchmarks.md "Session 12"). SQLite and MariaDB choose it for the same reason: it holds
 * both equality filters (test/store/action-search-plans.test.ts; mysql/search-indexes.ts).
 *
 * Not on the archived tables: their searches were not among the misses, and each index costs every
 * archive move one more write.
 */
import type { Kysely, Migration } from 'kysely'
import { dropIndex } from './drop-index.js'

const INDEX = 'instance_actions_owner_action_start_idx'
const COLUMNS = ['owner_project_id', 'action', 'start_time', 'id']

/** The index of this migration, as [name, columns] (the MariaDB hint names it: mysql/search-indexes.ts). */
export const MEMBER_ACTION_INDEXES: readonly [string, readonly string[]][] = [[INDEX, COLUMNS]]

/** Migration 0015. */
export const memberActionSearch: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createIndex(INDEX).on('instance_actions').columns(COLUMNS).execute()
  },
  async down(db: Kysely<unknown>) {
    await dropIndex(db, 'instance_actions', INDEX)
  },
}
