/**
 * `actiontrail import`: a Nova cloud's history, from its cell databases (`--from-nova-db`,
 * import-nova-db.ts) or from its API (`--from-nova-api`, import-nova-api.ts, with a token or a
 * Keystone login), both resumable with `--checkpoint FILE`; or ActionTrail's own NDJSON export
 * (`--from-export`, import-export.ts). All three are idempotent.
 */
import type { Command } from 'commander'
import { DATABASE_OPTION_HELP } from '../../config.js'
import { DEFAULT_BATCH_SIZE } from '../../nova/db-import/nova-db-import.js'
import { usageError } from '../cli-error.js'
import { importFromExportCommand, type ExportImportFlags } from './import-export.js'
import { importFromNovaApiCommand, type NovaApiImportFlags } from './import-nova-api.js'
import { importFromNovaDbCommand, type NovaDbImportFlags } from './import-nova-db.js'

/** Registers the import command. */
export function importCommand(program: Command): void {
  program
    .command('import')
    .description(
      "import a Nova cloud's instance action history, or an ActionTrail export (idempotent, resumable)",
    )
    .option(
      '--from-nova-db <url...>',
      'Nova cell database(s), one URL per cell, read only: mysql://user:pass@host/nova_cell1 ' +
        '(also mariadb://, mysql+pymysql:// as in nova.conf) or sqlite:PATH',
    )
    .option(
      '--from-nova-api [url]',
      "Nova's compute endpoint, e.g. http://nova:8774/v2.1; without URL: the compute endpoint " +
        "of Keystone's catalog (needs --os-auth-url or $OS_AUTH_URL)",
    )
    .option(
      '--from-export <file>',
      'an NDJSON file of `actiontrail export` (gzipped or not), with its instances and events',
    )
    .option(
      '--token <token>',
      'API import: X-Auth-Token for Nova, an admin token (default: $ACTIONTRAIL_NOVA_TOKEN, $OS_AUTH_TOKEN)',
    )
    .option(
      '--os-auth-url <url>',
      'API import: log in at this Keystone instead (default: $OS_AUTH_URL)',
    )
    .option('--os-username <name>', 'API import: Keystone user, an admin (default: $OS_USERNAME)')
    .option(
      '--os-password-file <file>',
      "API import: file holding the user's password (default: $OS_PASSWORD)",
    )
    .option(
      '--os-password <password>',
      'API import: the password (visible in ps: prefer $OS_PASSWORD)',
    )
    .option(
      '--os-project-name <name>',
      'API import: project to scope the token to (default: $OS_PROJECT_NAME)',
    )
    .option(
      '--os-user-domain-name <name>',
      "API import: the user's domain (default: $OS_USER_DOMAIN_NAME, Default)",
    )
    .option(
      '--os-project-domain-name <name>',
      "API import: the project's domain (default: $OS_PROJECT_DOMAIN_NAME, Default)",
    )
    .option(
      '--os-region-name <region>',
      'API import: catalog region (default: $OS_REGION_NAME, any)',
    )
    .option(
      '--os-interface <interface>',
      'API import: catalog interface, public, internal or admin (default: $OS_INTERFACE, public)',
    )
    .option('--rate <n>', 'API import: at most N requests a second to Nova (0: no limit)', '20')
    .option('--page-size <n>', 'API import: servers and actions per page', '100')
    .option(
      '--batch-size <n>',
      `database and export import: actions per batch, one transaction each (default ${DEFAULT_BATCH_SIZE})`,
    )
    .option('--checkpoint <file>', 'resume from and record progress in this file')
    .option(
      '--offline',
      'database import into an SQLite store no other process has open (the first migration): ' +
        'search indexes dropped for the load and rebuilt at the end, several times faster',
    )
    .option('--db <path>', DATABASE_OPTION_HELP)
    .action(async (opts: NovaDbImportFlags & NovaApiImportFlags & ExportImportFlags) => {
      const sources = [opts.fromNovaDb, opts.fromNovaApi, opts.fromExport].filter(
        (s) => s !== undefined,
      )
      if (sources.length > 1)
        throw usageError('import: give one of --from-nova-db, --from-nova-api, --from-export')
      if (opts.fromExport !== undefined) return importFromExportCommand(opts)
      if (opts.fromNovaApi !== undefined) return importFromNovaApiCommand(opts)
      return importFromNovaDbCommand(opts)
    })
}
