/** `actiontrail instances list`: instances by project, name and deletion (GET /v1/instances). */
import type { Command } from 'commander'
import { clientContext, type ClientOptions } from '../client-context.js'
import { withConnectionOptions } from '../client-io/connection.js'
import { readRows, rowLimit, withPaging } from '../client-io/pager.js'
import { filterParams, withFilters, type FilterName } from '../client-io/query-flags.js'
import { printRows, withFormat } from '../output/formats.js'
import { INSTANCES } from '../output/record-kinds.js'

const INSTANCE_FILTERS: readonly FilterName[] = ['instance_project', 'name', 'deleted']

/** Registers `instances list`. */
export function instancesListCommand(instances: Command): void {
  const command = instances.command('list').description('instances, by name (GET /v1/instances)')
  withFilters(command, INSTANCE_FILTERS)
  withFormat(withPaging(withConnectionOptions(command))).action(async (opts: ClientOptions) => {
    const { reader, printer } = clientContext(opts)
    const params = filterParams(opts, INSTANCE_FILTERS)
    const rows = await readRows(reader, '/v1/instances', params, 'instances', rowLimit(opts))
    printRows(printer, INSTANCES, rows)
  })
}
