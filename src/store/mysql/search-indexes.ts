/**
 * The indexes the cross-instance searches are read through on MariaDB/MySQL (search-index-plugin.ts),
 * taken from the migrations that create them so that a hint never names an index that does not
 * exist. An index serves a search when it is equality columns followed by a time column and id.
 */
import { ACTION_INDEXES as ACTION_SEARCH_INDEXES } from '../migrations/0004-action-search.js'
import {
  ACTION_INDEXES as OWNER_ACTION_INDEXES,
  EVENT_INDEXES,
} from '../migrations/0005-query-owner-events.js'
import {
  ACTION_INDEXES as RESULT_ACTION_INDEXES,
  EVENT_INDEXES as PARENT_EVENT_INDEXES,
} from '../migrations/0008-event-parent-fields.js'
import { STUCK_ACTION_INDEXES } from '../migrations/0009-stuck-action.js'
import { MYSQL_EVENT_INDEXES as UNFINISHED_EVENT_INDEXES } from '../migrations/0014-unfinished-search.js'
import { SHADOW_ACTION_INDEXES, SHADOW_EVENT_INDEXES } from '../migrations/0012-retention.js'
import { MEMBER_ACTION_INDEXES } from '../migrations/0015-member-action-search.js'
import type { SearchIndex } from './search-index-plugin.js'

const of = (table: string, list: readonly (readonly [string, readonly string[]])[]) =>
  list.map(([name, columns]): SearchIndex => ({ table, name, columns }))

/**
 * Every `(filter…, time, id)` index of instance_actions and instance_actions_events, and the bare
 * `(time, id)` ones (forced only on a joined search without an equality filter).
 */
export const SEARCH_INDEXES: readonly SearchIndex[] = [
  ...of('instance_actions', ACTION_SEARCH_INDEXES),
  ...of('instance_actions', OWNER_ACTION_INDEXES),
  ...of('instance_actions_events', EVENT_INDEXES),
  ...of('instance_actions', RESULT_ACTION_INDEXES),
  ...of('instance_actions_events', PARENT_EVENT_INDEXES),
  // Unfinished work (finish_time IS NULL counts as an equality filter): state=stuck&action=X, and
  // a project's unfinished events by changed_at.
  ...of('instance_actions', STUCK_ACTION_INDEXES),
  ...of('instance_actions_events', UNFINISHED_EVENT_INDEXES),
  // A project's actions of one name (a member's `action=X`).
  ...of('instance_actions', MEMBER_ACTION_INDEXES),
  // The archived history (issue 13): the same searches on the shadow tables.
  ...of('shadow_instance_actions', SHADOW_ACTION_INDEXES),
  ...of('shadow_instance_actions_events', SHADOW_EVENT_INDEXES),
].filter((i) => i.columns.length >= 2 && i.columns.at(-1) === 'id')
