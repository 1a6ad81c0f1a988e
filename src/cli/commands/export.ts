/**
 * `actiontrail export`: the actions matching the query API's filters, with their instances and
 * events, as NDJSON or CSV (src/export/), read from the database directly (`--db`), to stdout or
 * a file, optionally gzipped. A file is written under a temporary name and renamed when complete,
 * so that FILE is never a half-written export. Without `--db`, the actions and events are read from
 * ACTIONTRAIL_DB_READ (a hot standby of ACTIONTRAIL_DB) while it is within its lag bound, as the
 * server's GET /v1/export does.
 */
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { Option, type Command } from 'commander'
import { parseActionQuery } from '../../api/v1/action-query.js'
import { parseQuery } from '../../api/compute/query-params.js'
import { DATABASE_OPTION_HELP, resolveDatabase, resolveReadReplica } from '../../config.js'
import type { ExportFormat } from '../../export/export-lines.js'
import { writeExport } from '../../export/write-export.js'
import { openStores } from '../../store/open-store.js'
import { filterParams, withFilters } from '../client-io/query-flags.js'
import { ACTION_FILTERS } from './actions-query.js'

interface ExportFlags {
  format: ExportFormat
  gzip?: boolean
  output?: string
  db?: string
  [filter: string]: unknown
}

/** Registers the export command. */
export function exportCommand(program: Command): void {
  const command = program
    .command('export')
    .description(
      'export actions with their instances and events (NDJSON or CSV), filtered as `actions query`',
    )
  withFilters(command, ACTION_FILTERS)
    .addOption(
      new Option('--format <format>', 'ndjson (importable) or csv (one row per event)')
        .choices(['ndjson', 'csv'])
        .default('ndjson'),
    )
    .option('--gzip', 'compress the output with gzip')
    .option('--output <file>', 'write to this file (default: stdout)')
    .option('--db <path>', DATABASE_OPTION_HELP)
    .action(async (opts: ExportFlags) => {
      const filters = filterParams(opts, ACTION_FILTERS)
      // The query API's own parser: the same checks and messages as GET /v1/actions.
      const { search } = parseActionQuery(parseQuery(`?${filters}`))
      // A replica goes with ACTIONTRAIL_DB only: `--db` names a database it may not replicate.
      const read = opts.db === undefined ? resolveReadReplica() : undefined
      const stores = await openStores(resolveDatabase(opts.db), {
        migrate: false,
        ...(read ? { read } : {}),
      })
      try {
        const source = {
          searchActions: stores.queries.searchActions.bind(stores.queries),
          listEventsOfActions: stores.queries.listEventsOfActions.bind(stores.queries),
          getInstance: stores.actions.getInstance.bind(stores.actions),
        }
        const options = { source, search, filters, format: opts.format, gzip: opts.gzip }
        if (opts.output === undefined) {
          await writeExport(options, process.stdout)
          return
        }
        const partial = `${opts.output}.partial`
        try {
          const summary = await writeExport(options, createWriteStream(partial))
          await rename(partial, opts.output)
          console.error(`export: ${summary.actions.toLocaleString('en')} actions to ${opts.output}`)
        } catch (err) {
          await rm(partial, { force: true })
          throw err
        }
      } finally {
        await stores.close()
      }
    })
}
