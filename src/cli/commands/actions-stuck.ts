/**
 * `actiontrail actions stuck`: unfinished actions older than the server's stuck deadline
 * (ACTIONTRAIL_STUCK_AFTER, per action name ACTIONTRAIL_STUCK_AFTER_ACTIONS): GET
 * /v1/actions?state=stuck with the same filters as `actions query`.
 */
import type { Command } from 'commander'
import { actionQueryFlags, runActionQuery, type ActionQueryOptions } from './actions-query.js'

/** Registers `actions stuck`. */
export function actionsStuckCommand(actions: Command): void {
  actionQueryFlags(
    actions
      .command('stuck')
      .description("actions still running past the server's stuck deadline (state=stuck)"),
  ).action((opts: ActionQueryOptions) => runActionQuery(opts, { state: 'stuck' }))
}
