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
import type { Kysely } from 'kysely'
import { parseActionQuery } from '../../api/v1/action-query.js'
import { parseQuery } from '../../api/compute/query-params.js'
import { DATABASE_OPTION_HELP, resolveDatabase, resolveReadReplica } from '../../config.js'
import type { ExportFormat } from '../../export/export-lines.js'
import { writeExport, type ExportOptions } from '../../export/write-export.js'
import { chainHeadPosition, proofLines } from '../../export/export-proof.js'
import { loadSigningKey, type SigningKey } from '../../security/chain/checkpoint-signature.js'
import { systemClock } from '../../domain/timestamp.js'
import { writeCheckpoint } from '../../store/chain/checkpoints.js'
import { openDatabase, openStores } from '../../store/open-store.js'
import { usageError } from '../cli-error.js'
import { SIGNING_KEY_ENV } from './verify.js'
import { filterParams, withFilters } from '../client-io/query-flags.js'
import { ACTION_FILTERS } from './actions-query.js'

interface ExportFlags {
  format: ExportFormat
  gzip?: boolean
  proof?: boolean
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
    .option(
      '--proof',
      `NDJSON: add the hash chain and a checkpoint signed now (key: ${SIGNING_KEY_ENV}), so that ` +
        '`actiontrail verify --export` can check the file offline with the public key',
    )
    .option('--output <file>', 'write to this file (default: stdout)')
    .option('--db <path>', DATABASE_OPTION_HELP)
    .action(async (opts: ExportFlags) => {
      const filters = filterParams(opts, ACTION_FILTERS)
      // The query API's own parser: the same checks and messages as GET /v1/actions.
      const { search } = parseActionQuery(parseQuery(`?${filters}`))
      const key = opts.proof ? proofKey(opts.format) : undefined
      // A replica goes with ACTIONTRAIL_DB only: `--db` names a database it may not replicate. Not
      // for a proof either: a standby behind the head the header names would make records look
      // stale or missing to the verifier.
      const read = opts.db === undefined && !key ? resolveReadReplica() : undefined
      const stores = await openStores(resolveDatabase(opts.db), {
        migrate: false,
        ...(read ? { read } : {}),
      })
      // The proof reads the chain's tables directly, on a connection of its own.
      const chainDb = key ? openDatabase(resolveDatabase(opts.db)).db : undefined
      try {
        const source = {
          searchActions: stores.queries.searchActions.bind(stores.queries),
          listEventsOfActions: stores.queries.listEventsOfActions.bind(stores.queries),
          exportLinesOfActions: stores.queries.exportLinesOfActions,
          getInstance: stores.actions.getInstance.bind(stores.actions),
        }
        const options: ExportOptions = {
          source,
          search,
          filters,
          format: opts.format,
          gzip: opts.gzip,
        }
        if (key && chainDb) options.proof = await exportProof(chainDb as Kysely<unknown>, key)
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
        await chainDb?.destroy()
      }
    })
}

function proofKey(format: ExportFormat): SigningKey {
  if (format !== 'ndjson') throw usageError('--proof: only an NDJSON export carries a proof')
  const path = process.env[SIGNING_KEY_ENV]
  if (!path) throw usageError(`--proof: set ${SIGNING_KEY_ENV} to the signing key's PEM file`)
  try {
    return loadSigningKey(path)
  } catch (err) {
    throw usageError(`${SIGNING_KEY_ENV}: ${(err as Error).message}`)
  }
}

/**
 * The proof of an export: the head now (before the first record is read), and the lines that a
 * checkpoint signed after the last record was read ends (export-proof.ts).
 */
async function exportProof(
  db: Kysely<unknown>,
  key: SigningKey,
): Promise<NonNullable<ExportOptions['proof']>> {
  const headAtStart = await chainHeadPosition(db)
  return {
    headAtStart,
    lines: async function* () {
      const checkpoint = await writeCheckpoint(db, key, {
        reason: 'export',
        now: systemClock().now(),
      })
      if (!checkpoint) throw new Error('export --proof: nothing is chained yet')
      yield* proofLines(db, checkpoint)
    },
  }
}
