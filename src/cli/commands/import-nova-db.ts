/**
 * `actiontrail import --from-nova-db URL [URL…]`: bulk import of a Nova cloud's history from its
 * cell databases (one URL per cell), read only (src/nova/db-import/). Resumable with
 * `--checkpoint FILE`; progress on stderr when it is a terminal; Ctrl-C stops after the batch in
 * flight, its checkpoint saved.
 *
 * `--offline` (an SQLite store that no other process has open: the first migration) loads
 * through store/open-offline-store.ts: the search indexes dropped for the load and rebuilt at the
 * end. Interrupted, the same command run again goes on and rebuilds them.
 */
import { resolveDatabase } from '../../config.js'
import {
  fileCheckpoint,
  memoryCheckpoint,
  type ImportCheckpoint,
} from '../../nova/db-import/import-checkpoint.js'
import {
  DEFAULT_BATCH_SIZE,
  importNovaCells,
  type ImportProgress,
} from '../../nova/db-import/nova-db-import.js'
import type { NovaCellSource } from '../../nova/db-import/nova-rows.js'
import { openNovaCell } from '../../nova/db-import/open-cell.js'
import type { ActionStore } from '../../store/action-store.js'
import { openOfflineStore, type OfflineStore } from '../../store/open-offline-store.js'
import { openStore } from '../../store/open-store.js'
import { usageError } from '../cli-error.js'

/** The flags the database import reads. */
export interface NovaDbImportFlags {
  fromNovaDb?: string[]
  db?: string
  checkpoint?: string
  batchSize?: string
  offline?: boolean
}

/** A progress line, at most four times a second, on a terminal only. */
function progressPrinter(stream: NodeJS.WriteStream): (p: ImportProgress) => void {
  const started = performance.now()
  let last = 0
  return (p) => {
    const now = performance.now()
    if (now - last < 250 && p.lastActionId < p.maxActionId) return
    last = now
    const pct = p.maxActionId > 0 ? Math.min(100, (100 * p.lastActionId) / p.maxActionId) : 100
    const rate = Math.round(p.actionsRead / Math.max(0.001, (now - started) / 1000))
    stream.write(
      `\r${p.cell}: ${pct.toFixed(1)}% ${p.actionsRead.toLocaleString('en')} actions read, ` +
        `${p.actionsCreated.toLocaleString('en')} new (${rate.toLocaleString('en')}/s)\u001b[K`,
    )
  }
}

/** Runs `import --from-nova-db`. */
export async function importFromNovaDbCommand(opts: NovaDbImportFlags): Promise<void> {
  const urls = opts.fromNovaDb ?? []
  if (urls.length === 0) throw usageError('import: give --from-nova-db URL [URL…]')
  const batchSize = opts.batchSize === undefined ? DEFAULT_BATCH_SIZE : Number(opts.batchSize)
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000)
    throw usageError('--batch-size must be an integer from 1 to 100000')
  const checkpoint: ImportCheckpoint = opts.checkpoint
    ? await fileCheckpoint(opts.checkpoint)
    : memoryCheckpoint()
  const cells: NovaCellSource[] = []
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  let store: ActionStore | undefined
  let offline: OfflineStore | undefined
  try {
    // The cells first: a wrong URL fails before ActionTrail's database is created or migrated.
    for (const url of urls) cells.push(await openNovaCell(url))
    if (opts.offline) {
      offline = await openOfflineStore(resolveDatabase(opts.db))
      store = offline.store
      console.error(
        `offline import: the store is this process's alone until the end; ` +
          `${offline.missingIndexes} search indexes are rebuilt after the load`,
      )
    } else store = await openStore(resolveDatabase(opts.db))
    const summary = await importNovaCells({
      store,
      ...(offline ? { importer: offline.importer } : {}),
      cells,
      checkpoint,
      batchSize,
      signal: controller.signal,
      ...(process.stderr.isTTY ? { onProgress: progressPrinter(process.stderr) } : {}),
    })
    if (process.stderr.isTTY) process.stderr.write('\n')
    const { instances: i, actions: a } = summary
    console.log(
      `${controller.signal.aborted ? 'interrupted' : 'imported'}: ` +
        `${a.created} actions new, ${a.existing} already there, ${a.skipped} skipped; ` +
        `${i.created} instances new, ${i.existing} already there`,
    )
    if (controller.signal.aborted) {
      process.exitCode = 1
      if (offline)
        console.error(
          'the search indexes are not rebuilt yet: run the same command again to go on and finish',
        )
    } else if (offline) {
      const started = performance.now()
      await offline.finish((name, done, total) => {
        if (process.stderr.isTTY)
          process.stderr.write(`\rrebuilding index ${done + 1}/${total} (${name})\u001b[K`)
      })
      if (process.stderr.isTTY) process.stderr.write('\n')
      console.error(
        `search indexes rebuilt in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      )
    }
  } finally {
    process.off('SIGINT', stop)
    for (const cell of cells) await cell.close()
    await store?.close()
  }
}
