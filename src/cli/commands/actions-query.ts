/** `actiontrail actions query`: actions across instances, filtered (GET /v1/actions). */
import type { Command } from 'commander'
import { clientContext, type ClientOptions } from '../client-context.js'
import { withConnectionOptions } from '../client-io/connection.js'
import { readRows, rowLimit, withPaging } from '../client-io/pager.js'
import { filterParams, withFilters, type FilterName } from '../client-io/query-flags.js'
import { printRows, withFormat } from '../output/formats.js'
import { ACTIONS } from '../output/record-kinds.js'

/** The filters of `actions query` and `actions stuck`. */
export const ACTION_FILTERS: readonly FilterName[] = [
  'instance',
  'project',
  'owner_project',
  'user',
  'action',
  'request_id',
  'result',
  'host',
  'since',
  'until',
  'time_field',
]

/** Options of the action listing commands. */
export type ActionQueryOptions = ClientOptions & { withEvents?: boolean }

/** Runs an action search with extra fixed parameters (`state=stuck` for `actions stuck`). */
export async function runActionQuery(
  opts: ActionQueryOptions,
  fixed: Record<string, string> = {},
  filters: readonly FilterName[] = ACTION_FILTERS,
): Promise<void> {
  const { reader, printer } = clientContext(opts)
  const params = filterParams(opts, filters)
  for (const [k, v] of Object.entries(fixed)) params.set(k, v)
  if (opts.withEvents) params.set('include', 'events')
  const rows = await readRows(reader, '/v1/actions', params, 'actions', rowLimit(opts))
  printRows(printer, ACTIONS, rows)
}

/** Adds the flags of an action listing command. */
export function actionQueryFlags(
  command: Command,
  filters: readonly FilterName[] = ACTION_FILTERS,
): Command {
  withFilters(command, filters)
  command.option('--with-events', "embed each action's events (json and ndjson show them)")
  return withFormat(withPaging(withConnectionOptions(command)))
}

/** Help of `--archived` (`archived=true`, issue 13). */
export const ARCHIVED_HELP =
  'the archived history (admins; with --instance, --owner-project, --request-id, --since, --until only)'

/** Registers `actions query`. */
export function actionsQueryCommand(actions: Command): void {
  actionQueryFlags(
    actions
      .command('query')
      .description('actions across instances, newest first (GET /v1/actions)')
      .option('--archived', ARCHIVED_HELP),
  ).action((opts: ActionQueryOptions & { archived?: boolean }) =>
    runActionQuery(opts, opts.archived ? { archived: 'true' } : {}),
  )
}
