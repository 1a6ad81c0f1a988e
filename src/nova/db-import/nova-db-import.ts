/**
 * `actiontrail import --from-nova-db` (issue 12): copies the history of Nova cell databases into
 * ActionTrail. Per cell, instances and then actions are walked by id in keyset batches; each
 * action batch (with its events and the instances it names) is one bulk write
 * (store/write/import-program.ts), and the checkpoint moves on only after that write committed.
 * Memory holds one batch at a time, whatever the size of the cell.
 */
import { setImmediate as eventLoopTurn } from 'node:timers/promises'
import type { ImportCounts } from '../../domain/write-operation.js'
import type { ActionStore } from '../../store/action-store.js'
import { storeImportWriter, type ImportBatchWriter } from '../../store/import-batch-writer.js'
import type { ImportCheckpoint } from './import-checkpoint.js'
import { inThreadBatches } from './import-batch-reader.js'
import { toImportedInstance } from './nova-records.js'
import { lastId, type NovaCellSource } from './nova-rows.js'
import { NOVA_IMPORT_WRITER, novaWriterTag } from '../nova-writers.js'
import { writeWithRetry } from './write-with-retry.js'

/** Actions per batch unless told: measured best of 250/500/1000/2000 on SQLite (bench:nova-import). */
export const DEFAULT_BATCH_SIZE = 1000

/** Where a cell's import stands, for progress reports. */
export interface ImportProgress {
  cell: string
  /** Actions read from the cell so far in this run. */
  actionsRead: number
  actionsCreated: number
  /** Last action id done, and the largest one (the walk's end). */
  lastActionId: number
  maxActionId: number
}

/** What an import did (totals over the cells). */
export interface ImportSummary {
  instances: ImportCounts
  actions: ImportCounts
}

/** Options of {@link importNovaCells}. */
export interface NovaImportOptions {
  store: ActionStore
  /**
   * Writes the batches; by default `store.write` (store/import-batch-writer.ts). An offline load
   * passes its own (store/open-offline-store.ts).
   */
  importer?: ImportBatchWriter
  cells: readonly NovaCellSource[]
  checkpoint: ImportCheckpoint
  batchSize?: number
  writer?: string
  onProgress?: (progress: ImportProgress) => void
  /** Stops after the batch in flight (its checkpoint saved). */
  signal?: AbortSignal
}

const zero = (): ImportCounts => ({ created: 0, existing: 0, skipped: 0 })

function add(total: ImportCounts, counts: ImportCounts): void {
  total.created += counts.created
  total.existing += counts.existing
  total.skipped += counts.skipped
}

/** Imports every cell in turn; resumes each from the checkpoint. */
export async function importNovaCells(options: NovaImportOptions): Promise<ImportSummary> {
  const { store, checkpoint, signal } = options
  const importer = options.importer ?? storeImportWriter(store)
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE
  // Imported records carry nova-import's writer tag, as the API importer's do (nova-writers.ts).
  const writer = options.writer ?? novaWriterTag(await store.writerTagKey?.(), NOVA_IMPORT_WRITER)
  const summary: ImportSummary = { instances: zero(), actions: zero() }
  for (const cell of options.cells) {
    const position = checkpoint.get(cell.label)
    for (;;) {
      if (signal?.aborted) return summary
      const rows = await cell.instances(position.instancesAfter, batchSize)
      if (rows.length === 0) break
      const instances = rows.map(toImportedInstance).filter((i) => i !== undefined)
      summary.instances.skipped += rows.length - instances.length
      const written = await writeWithRetry(() => importer.importBatch(instances, []), signal)
      add(summary.instances, written.instances)
      position.instancesAfter = lastId(rows)
      await checkpoint.save(cell.label, position)
    }
    const maxActionId = await cell.lastActionId()
    let actionsRead = 0
    let actionsCreated = 0
    // An offline writer says where it stands: a reader that can plans each batch's chain ahead.
    const cursor = await importer.chainCursor?.()
    const reader =
      cell.batches?.(position.actionsAfter, batchSize, cursor && { cursor, tag: writer ?? null }) ??
      inThreadBatches(cell, position.actionsAfter, batchSize)
    try {
      for (;;) {
        if (signal?.aborted) return summary
        const batch = await reader.next()
        if (!batch) break
        summary.actions.skipped += batch.skipped
        // The instances the batch names, in the same transaction: an instance created in Nova
        // after the instance walk still gets its actions.
        const before = summary.actions.created
        const written = await writeWithRetry(
          () => importer.importBatch(batch.instances, batch.actions, writer, batch.chain),
          signal,
        )
        if (written.cursor) reader.written?.(written.cursor)
        add(summary.actions, written.actions)
        // A turn of the event loop per batch: an SQLite cell and the offline writer are
        // synchronous (better-sqlite3) and resolve at once, so without it nothing else ran during
        // the whole import, not Ctrl-C's handler nor timers (found by bench:nova-import's RSS
        // sampler).
        await eventLoopTurn()
        actionsRead += batch.read
        actionsCreated += summary.actions.created - before
        position.actionsAfter = batch.lastId
        await checkpoint.save(cell.label, position)
        options.onProgress?.({
          cell: cell.label,
          actionsRead,
          actionsCreated,
          lastActionId: position.actionsAfter,
          maxActionId,
        })
      }
    } finally {
      // Batches read ahead and not written go: the checkpoint is that of the last write.
      await reader.close()
    }
  }
  return summary
}
