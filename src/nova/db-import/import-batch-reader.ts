/**
 * The action walk of one cell as import batches (nova-records.ts toImportBatch), one after the
 * other from a position. Read on the import's own thread here; an SQLite cell reads them ahead on
 * a thread of its own (cell-reader-thread.ts).
 */
import type { ChainCursor } from '../../store/sqlite/offline-batch-layout.js'
import { toImportBatch, type ImportBatch } from './nova-records.js'
import type { NovaCellSource } from './nova-rows.js'
import { SentInstances } from './sent-instances.js'

/**
 * Where an offline writer stands when the walk starts, and the writer tag the batches are
 * written with: what a reader needs to plan each batch's hash chain ahead (ImportBatch.chain).
 */
export interface ChainStart {
  cursor: ChainCursor
  tag: string | null
}

/** Import batches of a cell's actions, by id. */
export interface ImportBatchReader {
  /** The next batch; undefined past the last action. */
  next(): Promise<ImportBatch | undefined>
  /**
   * Told, batch after batch in the order they were taken, where the writer stood after writing
   * each (a reader given a ChainStart: it plans the next batches from there).
   */
  written?(cursor: ChainCursor): void
  /** Stops reading (batches read ahead are dropped). */
  close(): Promise<void>
}

/**
 * Reads `cell`'s action batches after `after` on this thread, one per call, each instance in the
 * first batch that names it (`sent`: sent-instances.ts).
 */
export function inThreadBatches(
  cell: NovaCellSource,
  after: number,
  limit: number,
  sent = new SentInstances(),
): ImportBatchReader {
  let position = after
  return {
    async next() {
      const rows = await cell.actions(position, limit)
      if (rows.actions.length === 0) return undefined
      const batch = toImportBatch(rows, sent)
      position = batch.lastId
      return batch
    },
    close: () => Promise.resolve(),
  }
}
