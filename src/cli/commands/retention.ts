/**
 * `actiontrail archive` and `actiontrail purge` (issue 13), with the meaning of Nova's
 * `nova-manage db archive_deleted_rows --before` and `nova-manage db purge`: archive moves the
 * history of instances deleted before a date (the instance row, its actions, their events) into the
 * shadow tables, in bounded transactions; purge deletes archived rows. Both open the configured
 * store directly, as `migrate` and `backup` do, and may run while a server writes to it.
 *
 * Batches are bounded by time (`--batch-ms`, default {@link CLI_BATCH_MS}) unless `--batch-size`
 * fixes their size. The command's default is ten times the server job's 5 ms: an operator running
 * it wants it done, and bigger batches amortize each commit (on SQLite a one-action batch cost
 * about as much as an eight-action one, most of it the commit: docs/benchmarks.md, issue 13); a
 * server writing meanwhile sees its writes wait up to one batch. `--batch-ms 5` is as gentle as
 * the server's own job.
 */
import type { Command } from 'commander'
import { DATABASE_OPTION_HELP, resolveDatabase } from '../../config.js'
import { parseTimestamp, systemClock, type Timestamp } from '../../domain/timestamp.js'
import { openStores } from '../../store/open-store.js'
import { MAX_TIMED_BATCH_ACTIONS } from '../../store/retention-store.js'
import type { RetentionCounts } from '../../store/write/retention-programs.js'
import { usageError } from '../cli-error.js'
import { retentionCheckpoint } from '../../retention/retention-checkpoint.js'
import { loadSigningKey, type SigningKey } from '../../security/chain/checkpoint-signature.js'
import type { CheckpointLog } from '../../store/chain/checkpoint-log.js'
import { SIGNING_KEY_ENV } from './verify.js'

/**
 * With ACTIONTRAIL_SIGNING_KEY set, a run that removed something ends with a signed checkpoint
 * saying so (retention/retention-checkpoint.ts), reported on stderr (stdout keeps the counts, which
 * `--json` makes one JSON document).
 */
async function signRun(
  log: CheckpointLog,
  key: SigningKey | undefined,
  run: { reason: 'archive' | 'purge'; before: string | null; counts: RetentionCounts },
): Promise<void> {
  if (!key) return
  const written = await retentionCheckpoint(log, key, { ...run, now: systemClock().now() })
  if (written)
    console.error(`checkpoint ${written.id} (${run.reason}): position ${written.position}, signed`)
}

/** The signing key, loaded before a run so that a bad key stops it before it changes anything. */
function runKey(): SigningKey | undefined {
  const path = process.env[SIGNING_KEY_ENV]
  if (!path) return undefined
  try {
    return loadSigningKey(path)
  } catch (err) {
    throw usageError(`${SIGNING_KEY_ENV}: ${(err as Error).message}`)
  }
}

/** The counts of a run as the tables they came from. */
function byTable(prefix: string, c: RetentionCounts): Record<string, number> {
  return {
    [`${prefix}instances`]: c.instances,
    [`${prefix}instance_actions`]: c.actions,
    [`${prefix}instance_actions_events`]: c.events,
  }
}

/** Prints the summary: one JSON document with --json, else a two-column table. */
function report(
  command: string,
  opts: { json?: boolean; dryRun?: boolean },
  before: Timestamp | null,
  tables: Record<string, number>,
): void {
  if (opts.json === true) {
    console.log(JSON.stringify({ command, dry_run: opts.dryRun === true, before, tables }))
    return
  }
  const width = Math.max(5, ...Object.keys(tables).map((t) => t.length))
  const verb = opts.dryRun === true ? 'would be affected' : 'rows'
  console.log(`${'table'.padEnd(width)}  ${verb}`)
  for (const [table, n] of Object.entries(tables))
    console.log(`${table.padEnd(width)}  ${n.toLocaleString('en')}`)
}

/**
 * A progress line on stderr (only on a terminal), at most four times a second: actions done of
 * the total a count found beforehand.
 */
function progressBar(label: string, total: number): (done: RetentionCounts) => void {
  let last = 0
  return (done) => {
    const now = performance.now()
    if (now - last < 250) return
    last = now
    const ratio = total > 0 ? Math.min(1, done.actions / total) : 1
    const filled = Math.round(ratio * 30)
    process.stderr.write(
      `\r${label} [${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${(ratio * 100).toFixed(1)}% ` +
        `(${done.actions.toLocaleString('en')} of ${total.toLocaleString('en')} actions)\u001b[K`,
    )
  }
}

function parseBefore(value: string): Timestamp {
  const t = parseTimestamp(value)
  if (t === undefined)
    throw usageError(`--before: not an ISO 8601 date or time: ${JSON.stringify(value)}`)
  return t
}

function positive(flag: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < 1) throw usageError(`${flag}: not a positive integer: ${value}`)
    return n
  }
}

/** Milliseconds a batch of the `archive` and `purge` commands aims at unless told. */
export const CLI_BATCH_MS = 50

/** The batch bound of a run: a fixed size when `--batch-size` is given, else a time budget. */
function batching(opts: RunFlags): { batchActions: number; batchMs?: number } {
  if (opts.batchSize !== undefined) return { batchActions: opts.batchSize }
  return { batchActions: MAX_TIMED_BATCH_ACTIONS, batchMs: opts.batchMs }
}

interface RunFlags {
  before?: string
  all?: boolean
  maxRows?: number
  batchSize?: number
  batchMs: number
  dryRun?: boolean
  json?: boolean
  db?: string
}

/** Registers `archive` and `purge`. */
export function retentionCommands(program: Command): void {
  program
    .command('archive')
    .description(
      'move the history of instances deleted before DATE into the shadow tables ' +
        '(nova-manage db archive_deleted_rows)',
    )
    .requiredOption('--before <date>', 'instances deleted before this ISO 8601 date or time (UTC)')
    .option('--max-rows <n>', 'stop after about this many actions', positive('--max-rows'))
    .option(
      '--batch-size <n>',
      'actions (with their events) per transaction (default: as many as fit in --batch-ms)',
      positive('--batch-size'),
    )
    .option(
      '--batch-ms <ms>',
      `time a transaction aims at; writers of a server wait up to about this long`,
      positive('--batch-ms'),
      CLI_BATCH_MS,
    )
    .option('--dry-run', 'count what would move; change nothing')
    .option('--json', 'print the counts as JSON')
    .option('--db <path>', DATABASE_OPTION_HELP)
    .action(async (opts: RunFlags) => {
      const before = parseBefore(opts.before ?? '')
      const key = opts.dryRun === true ? undefined : runKey()
      const stores = await openStores(resolveDatabase(opts.db), { migrate: false })
      try {
        if (opts.dryRun === true) {
          const counts = await stores.retention.countArchivable(before)
          report('archive', opts, before, byTable('', counts))
          return
        }
        const tty = process.stderr.isTTY === true
        const total = tty ? (await stores.retention.countArchivable(before)).actions : 0
        const counts = await stores.retention.archive({
          before,
          ...batching(opts),
          ...(opts.maxRows !== undefined ? { maxRows: opts.maxRows } : {}),
          ...(tty ? { onBatch: progressBar('archive', total) } : {}),
        })
        if (tty) process.stderr.write('\r\u001b[K')
        report('archive', opts, before, byTable('', counts))
        await signRun(stores.checkpoints, key, { reason: 'archive', before, counts })
      } finally {
        await stores.close()
      }
    })

  program
    .command('purge')
    .description(
      'delete archived rows (nova-manage db purge): of instances deleted before DATE, or all',
    )
    .option('--before <date>', 'archived instances deleted before this ISO 8601 date or time (UTC)')
    .option('--all', 'every archived row')
    .option(
      '--batch-size <n>',
      'actions (with their events) per transaction (default: as many as fit in --batch-ms)',
      positive('--batch-size'),
    )
    .option(
      '--batch-ms <ms>',
      `time a transaction aims at; writers of a server wait up to about this long`,
      positive('--batch-ms'),
      CLI_BATCH_MS,
    )
    .option('--dry-run', 'count what would be deleted; change nothing')
    .option('--json', 'print the counts as JSON')
    .option('--db <path>', DATABASE_OPTION_HELP)
    .action(async (opts: RunFlags) => {
      if ((opts.before === undefined) === (opts.all !== true))
        throw usageError('purge: give exactly one of --before DATE and --all')
      const before = opts.before === undefined ? null : parseBefore(opts.before)
      const key = opts.dryRun === true ? undefined : runKey()
      const stores = await openStores(resolveDatabase(opts.db), { migrate: false })
      try {
        if (opts.dryRun === true) {
          const counts = await stores.retention.countPurgeable(before)
          report('purge', opts, before, byTable('shadow_', counts))
          return
        }
        const tty = process.stderr.isTTY === true
        const total = tty ? (await stores.retention.countPurgeable(before)).actions : 0
        const counts = await stores.retention.purge({
          before,
          ...batching(opts),
          ...(tty ? { onBatch: progressBar('purge', total) } : {}),
        })
        if (tty) process.stderr.write('\r\u001b[K')
        report('purge', opts, before, byTable('shadow_', counts))
        await signRun(stores.checkpoints, key, { reason: 'purge', before, counts })
      } finally {
        await stores.close()
      }
    })
}
