/**
 * Indexes of unfinished work for the searches that still missed at scale (issue 10, structural
 * misses of docs/benchmarks.md "Reading the query tables"): `state=stuck` / `result=running` read
 * the few unfinished rows in the order asked for, whatever else the query bounds.
 *
 * SQLite and PostgreSQL get partial indexes (`WHERE finish_time IS NULL`): only unfinished rows are
 * in them (an event's entry leaves when it finishes instead of moving), and the planners use them
 * where a `finish_time IS NULL` key column was not enough:
 * - PostgreSQL does not take `finish_time IS NULL` as a constant for the order of an index, so the
 *   (finish_time, start_time, id) index of 0005 gave it every unfinished event to sort for the
 *   first page of `/v1/events?result=running` (24–30 ms at 1M actions); (start_time, id) of the
 *   unfinished events is that order itself.
 * - SQLite without statistics leaves the (finish_time, action, start_time, id) index of 0009 for
 *   the (action, start_time, id) one as soon as a second term bounds start_time (the keyset
 *   position of page 2: 120 ms at 1M actions); with the partial (action, start_time, id) index
 *   present it keeps an unfinished range on every page, 0009's (EXPLAIN QUERY PLAN, SQLite 3.53;
 *   test/store/action-search-plans.test.ts).
 * - "a project's stuck events, most recently changed first" (owner project, unfinished, changed_at)
 *   had no index with the three: 35 ms on SQLite, 288 ms on MariaDB at 1M actions.
 * MariaDB has no partial indexes: it gets the owner project's index with finish_time as a key
 * column, which InnoDB reads as one ref range (owner, NULL) in changed_at order, and the query's
 * FORCE INDEX names it (mysql/search-indexes.ts). Its 0009 and 0005 unfinished indexes serve the
 * other two there (forced by the same plugin since `IS NULL` counts as an equality filter).
 */
import { sql, type Kysely, type Migration } from 'kysely'
import { dialectOf } from '../dialect.js'
import { dropIndex } from './drop-index.js'

/** The partial indexes of SQLite and PostgreSQL: [name, table, columns] over unfinished rows. */
export const PARTIAL_UNFINISHED_INDEXES: readonly [string, string, readonly string[]][] = [
  [
    'instance_actions_unfinished_action_part_idx',
    'instance_actions',
    ['action', 'start_time', 'id'],
  ],
  [
    'instance_actions_events_unfinished_start_part_idx',
    'instance_actions_events',
    ['start_time', 'id'],
  ],
  [
    'instance_actions_events_owner_unfinished_changed_part_idx',
    'instance_actions_events',
    ['owner_project_id', 'changed_at', 'id'],
  ],
]

/** MariaDB/MySQL's counterpart: finish_time as a key column (equality columns, then time, id). */
export const MYSQL_EVENT_INDEXES: readonly [string, readonly string[]][] = [
  [
    'instance_actions_events_owner_unfinished_changed_idx',
    ['owner_project_id', 'finish_time', 'changed_at', 'id'],
  ],
]

/** Migration 0014. */
export const unfinishedSearch: Migration = {
  async up(db: Kysely<unknown>) {
    if (dialectOf(db) === 'mysql') {
      for (const [name, columns] of MYSQL_EVENT_INDEXES)
        await db.schema
          .createIndex(name)
          .on('instance_actions_events')
          .columns([...columns])
          .execute()
      return
    }
    for (const [name, table, columns] of PARTIAL_UNFINISHED_INDEXES)
      await db.schema
        .createIndex(name)
        .on(table)
        .columns([...columns])
        .where(sql.ref('finish_time'), 'is', null)
        .execute()
  },
  async down(db: Kysely<unknown>) {
    if (dialectOf(db) === 'mysql') {
      for (const [name] of MYSQL_EVENT_INDEXES) await dropIndex(db, 'instance_actions_events', name)
      return
    }
    for (const [name, table] of PARTIAL_UNFINISHED_INDEXES) await dropIndex(db, table, name)
  },
}
