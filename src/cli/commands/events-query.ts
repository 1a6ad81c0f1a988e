/** `actiontrail events query`: events across instances, filtered (GET /v1/events). */
import type { Command } from 'commander'
import { clientContext, type ClientOptions } from '../client-context.js'
import { withConnectionOptions } from '../client-io/connection.js'
import { readRows, rowLimit, withPaging } from '../client-io/pager.js'
import { filterParams, withFilters, type FilterName } from '../client-io/query-flags.js'
import { printRows, withFormat } from '../output/formats.js'
import { EVENTS } from '../output/record-kinds.js'
import { ARCHIVED_HELP } from './actions-query.js'

const EVENT_FILTERS: readonly FilterName[] = [
  'instance',
  'event',
  'action',
  'request_id',
  'result',
  'host',
  'project',
  'owner_project',
  'user',
  'since',
  'until',
  'time_field',
]

/** Registers `events query`. */
export function eventsQueryCommand(events: Command): void {
  const command = events
    .command('query')
    .description('events across instances, newest first (GET /v1/events)')
  withFilters(command, EVENT_FILTERS)
  command.option('--stuck', "only events still running past the server's stuck deadline")
  command.option('--archived', ARCHIVED_HELP)
  withFormat(withPaging(withConnectionOptions(command))).action(
    async (opts: ClientOptions & { stuck?: boolean; archived?: boolean }) => {
      const { reader, printer } = clientContext(opts)
      const params = filterParams(opts, EVENT_FILTERS)
      if (opts.stuck) params.set('state', 'stuck')
      if (opts.archived) params.set('archived', 'true')
      const rows = await readRows(reader, '/v1/events', params, 'events', rowLimit(opts))
      printRows(printer, EVENTS, rows)
    },
  )
}
