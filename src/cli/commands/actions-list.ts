/** `actiontrail actions list <instance>`: one instance's actions, newest first. */
import type { Command } from 'commander'
import {
  ACTION_FILTERS,
  actionQueryFlags,
  runActionQuery,
  type ActionQueryOptions,
} from './actions-query.js'

const LIST_FILTERS = ACTION_FILTERS.filter((f) => f !== 'instance')

/** Registers `actions list`. */
export function actionsListCommand(actions: Command): void {
  actionQueryFlags(
    actions
      .command('list')
      .argument('<instance>', 'instance uuid')
      .description("one instance's actions, newest first (GET /v1/actions?instance=…)"),
    LIST_FILTERS,
  ).action((instance: string, opts: ActionQueryOptions) =>
    runActionQuery(opts, { instance }, LIST_FILTERS),
  )
}
