/**
 * The hash chain's commands (issue 13, tamper evidence):
 * - `actiontrail verify [--from CHECKPOINT_ID] [--public-key FILE] [--json]`: checks the chain's
 *   links, every record against its latest entry (store/chain/verify-chain.ts) and every
 *   checkpoint's signature and link; exit 1 when anything is wrong, naming what.
 * - `actiontrail verify --export FILE --public-key KEY`: checks an export written with
 *   `export --proof` offline, with nothing but the file and the public key (export/verify-export.ts).
 * - `actiontrail checkpoint [--reason manual]`: signs and stores a checkpoint of the head with the
 *   key in ACTIONTRAIL_SIGNING_KEY.
 * - `actiontrail keygen PRIVATE_FILE [PUBLIC_FILE]`: writes a new Ed25519 key pair (PEM).
 */
import { writeFileSync } from 'node:fs'
import type { KeyObject } from 'node:crypto'
import type { Command } from 'commander'
import type { Kysely } from 'kysely'
import { DATABASE_OPTION_HELP, resolveDatabase } from '../../config.js'
import { systemClock } from '../../domain/timestamp.js'
import {
  checkCheckpointSignature,
  getCheckpoint,
  verifyCheckpoints,
  writeCheckpoint,
  type CheckpointProblem,
} from '../../store/chain/checkpoints.js'
import type { ChainReader } from '../../store/chain/chain-reader.js'
import { verifyChain } from '../../store/chain/verify-chain.js'
import { requireCurrentSchema } from '../../store/migrate.js'
import { openDatabase } from '../../store/open-store.js'
import {
  generateSigningKeyPair,
  loadPublicKey,
  loadSigningKey,
} from '../../security/chain/checkpoint-signature.js'
import { CliError, usageError } from '../cli-error.js'
import { openExportFile } from '../../export/import-export.js'
import { verifyExport } from '../../export/verify-export.js'

/** The environment variable naming the signing key's PEM file. */
export const SIGNING_KEY_ENV = 'ACTIONTRAIL_SIGNING_KEY'

interface VerifyFlags {
  db?: string
  from?: string
  publicKey?: string
  export?: string
  json?: boolean
}

/** `verify --export`: prints the report; the exit code (1 when anything is wrong). */
async function verifyExportFile(
  file: string,
  publicKey: KeyObject,
  json: boolean,
): Promise<number> {
  let input
  try {
    input = await openExportFile(file)
  } catch (err) {
    throw usageError(`--export: ${(err as Error).message}`)
  }
  const started = performance.now()
  const report = await verifyExport(input, publicKey)
  const seconds = (performance.now() - started) / 1000
  if (json) console.log(JSON.stringify(report, null, 2))
  else {
    for (const p of report.problems) console.log(`FAIL ${p.problem}: ${p.message}`)
    if (report.moreProblems > 0) console.log(`… and ${report.moreProblems} more problems`)
    const c = report.checkpoint
    console.log(
      `${report.ok ? 'OK' : 'FAILED'}: ${report.records.actions} actions and ` +
        `${report.records.events} events against ${report.entries} chain entries` +
        (c ? `, checkpoint ${c.id} of ${c.createdAt} at position ${c.position}` : '') +
        `; completeness ${report.completeness} (${seconds.toFixed(1)} s)`,
    )
  }
  return report.ok ? 0 : 1
}

async function withDatabase<T>(
  option: string | undefined,
  fn: (db: Kysely<unknown>, reader: ChainReader | undefined) => Promise<T>,
): Promise<T> {
  const { db, chainReader } = openDatabase(resolveDatabase(option))
  try {
    await requireCurrentSchema(db)
    return await fn(db as unknown as Kysely<unknown>, chainReader?.())
  } finally {
    await db.destroy()
  }
}

function keyFile(what: string, load: () => KeyObject): KeyObject {
  try {
    return load()
  } catch (err) {
    throw usageError(`${what}: ${(err as Error).message}`)
  }
}

/** Registers verify, checkpoint and keygen. */
export function chainCommands(program: Command): void {
  program
    .command('verify')
    .description(
      'check the hash chain, every record against it, and every signed checkpoint; exit 1 on any failure',
    )
    .option('--db <path>', DATABASE_OPTION_HELP)
    .option('--from <checkpoint-id>', 'check the chain from this (verified) checkpoint on')
    .option(
      '--public-key <file>',
      `PEM public key of the checkpoints (default: derived from ${SIGNING_KEY_ENV})`,
    )
    .option(
      '--export <file>',
      'check an export written with `export --proof` offline instead (needs --public-key)',
    )
    .option('--json', 'print the report as JSON')
    .action(async (opts: VerifyFlags) => {
      const signing = process.env[SIGNING_KEY_ENV]
      const keyPath = opts.publicKey ?? (signing || undefined)
      const publicKey =
        keyPath === undefined ? undefined : keyFile(keyPath, () => loadPublicKey(keyPath))
      if (opts.export !== undefined) {
        if (opts.from !== undefined || opts.db !== undefined)
          throw usageError('--export checks a file: --db and --from do not apply')
        if (!publicKey)
          throw usageError(
            `--export needs the checkpoint's key: --public-key or ${SIGNING_KEY_ENV}`,
          )
        process.exitCode = await verifyExportFile(opts.export, publicKey, opts.json === true)
        return
      }
      let fromId: number | undefined
      if (opts.from !== undefined) {
        fromId = Number(opts.from)
        if (!Number.isSafeInteger(fromId) || fromId < 1)
          throw usageError(`--from: not a checkpoint id: ${opts.from}`)
        if (!publicKey)
          throw usageError(`--from needs the checkpoints' key: --public-key or ${SIGNING_KEY_ENV}`)
      }
      const outcome = await withDatabase(opts.db, async (db, reader) => {
        let from: { position: number; link: string } | undefined
        if (fromId !== undefined && publicKey) {
          const start = await getCheckpoint(db, fromId)
          if (!start) throw usageError(`--from: no checkpoint ${fromId}`)
          const bad = checkCheckpointSignature(publicKey, start)
          if (bad) throw new CliError(`verify: ${bad.message}`, 1)
          from = { position: start.position, link: start.link }
        }
        const started = performance.now()
        const chain = await verifyChain(db, {
          ...(from ? { from } : {}),
          ...(reader ? { reader } : {}),
        })
        const checkpoints: { checked: number; problems: CheckpointProblem[] } | undefined =
          publicKey ? await verifyCheckpoints(db, publicKey) : undefined
        const seconds = (performance.now() - started) / 1000
        return { chain, checkpoints, seconds }
      })
      const { chain, checkpoints } = outcome
      const ok = chain.ok && (checkpoints?.problems.length ?? 0) === 0
      if (opts.json) {
        console.log(JSON.stringify({ ...chain, ok, checkpoints: checkpoints ?? null }, null, 2))
      } else {
        for (const p of chain.problems) console.log(`FAIL ${p.problem}: ${p.message}`)
        if (chain.moreProblems > 0) console.log(`… and ${chain.moreProblems} more problems`)
        for (const p of checkpoints?.problems ?? []) console.log(`FAIL ${p.problem}: ${p.message}`)
        if (chain.firstBrokenLink)
          console.log(`first broken link: ${chain.firstBrokenLink.message}`)
        console.log(
          `${ok ? 'OK' : 'FAILED'}: ${chain.entries} chain entries to position ` +
            `${chain.head.position}, ${chain.records} records` +
            (checkpoints
              ? `, ${checkpoints.checked} checkpoints`
              : ', checkpoints not checked (no public key)') +
            ` (${outcome.seconds.toFixed(1)} s)`,
        )
      }
      process.exitCode = ok ? 0 : 1
    })

  program
    .command('checkpoint')
    .description(`sign and store a checkpoint of the chain's head (key: ${SIGNING_KEY_ENV})`)
    .option('--db <path>', DATABASE_OPTION_HELP)
    .option('--reason <reason>', 'manual (default) or periodic', 'manual')
    .action(async (opts: { db?: string; reason: string }) => {
      if (opts.reason !== 'manual' && opts.reason !== 'periodic')
        throw usageError(`--reason: manual or periodic, not ${opts.reason}`)
      const path = process.env[SIGNING_KEY_ENV]
      if (!path)
        throw usageError(`checkpoint: set ${SIGNING_KEY_ENV} to the signing key's PEM file`)
      let key
      try {
        key = loadSigningKey(path)
      } catch (err) {
        throw usageError(`${SIGNING_KEY_ENV}: ${(err as Error).message}`)
      }
      const reason = opts.reason
      const written = await withDatabase(opts.db, (db) =>
        writeCheckpoint(db, key, { reason, now: systemClock().now() }),
      )
      if (!written) throw new CliError('checkpoint: nothing is chained yet', 1)
      console.log(
        `checkpoint ${written.id}: position ${written.position}, link ${written.link}, ` +
          `${written.summary}`,
      )
    })

  program
    .command('keygen')
    .description('write a new Ed25519 signing key (PEM, mode 0600) and its public key')
    .argument('<private-file>', 'where to write the private key (refused if it exists)')
    .argument('[public-file]', 'where to write the public key (default: PRIVATE_FILE.pub)')
    .action((privateFile: string, publicFile: string | undefined) => {
      const { privatePem, publicPem } = generateSigningKeyPair()
      try {
        writeFileSync(privateFile, privatePem, { mode: 0o600, flag: 'wx' })
        writeFileSync(publicFile ?? `${privateFile}.pub`, publicPem, { flag: 'wx' })
      } catch (err) {
        throw usageError(`keygen: ${(err as Error).message}`)
      }
      console.log(`private key: ${privateFile}\npublic key: ${publicFile ?? `${privateFile}.pub`}`)
    })
}
