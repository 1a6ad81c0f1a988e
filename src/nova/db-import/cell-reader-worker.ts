/**
 * The body of an SQLite cell's reader thread (started by cell-reader-thread.ts): its own
 * read-only connection to the cell, walking the actions from the given position and posting each
 * batch mapped and sanitized (nova-records.ts toImportBatch, the very function of the in-thread
 * path), at most `ahead` batches before the import thread asks for more; for an offline writer,
 * with the batch's hash chain planned (chain-planner.ts).
 * @module
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { isAppError, type ErrorCode } from '../../domain/errors.js'
import type { ChainCursor } from '../../store/sqlite/offline-batch-layout.js'
import { ChainPlanner } from './chain-planner.js'
import { inThreadBatches, type ChainStart } from './import-batch-reader.js'
import type { ImportBatch } from './nova-records.js'
import { SentInstances } from './sent-instances.js'
import { openSqliteCell } from './sqlite-cell-source.js'

/** What the thread is started with. */
export interface CellReaderData {
  path: string
  after: number
  limit: number
  /** Batches posted before the import thread takes one (each `more` message allows one more). */
  ahead: number
  /** Where the offline writer stands: the batches' chain is planned from there. */
  chain?: ChainStart | undefined
}

/**
 * A message of the import thread: a batch was taken (one more may be posted), or where the writer
 * stood after writing the next batch in order.
 */
export type CellReaderControl = { kind: 'more' } | { kind: 'written'; cursor: ChainCursor }

/** A message of the thread: a batch, the end of the walk, or why it stopped. */
export type CellReaderMessage =
  | { kind: 'batch'; batch: ImportBatch }
  | { kind: 'end' }
  | { kind: 'failed'; message: string; code?: ErrorCode }

async function walk(port: MessagePort, data: CellReaderData): Promise<void> {
  let credit = data.ahead
  let wake: (() => void) | undefined
  // The planner knows which instances the store will have from what the walk sent.
  const sent = new SentInstances()
  const planner = data.chain && new ChainPlanner(data.chain, sent)
  port.on('message', (message: CellReaderControl) => {
    if (message.kind === 'written') planner?.written(message.cursor)
    else {
      credit += 1
      wake?.()
    }
  })
  const cell = openSqliteCell(data.path, { readerThread: false })
  try {
    // The in-thread walk itself, paced by the import thread's credit.
    const reader = inThreadBatches(cell, data.after, data.limit, sent)
    for (;;) {
      while (credit === 0) await new Promise<void>((resolve) => (wake = resolve))
      const batch = await reader.next()
      if (!batch) break
      credit -= 1
      const sent = planner ? await planner.plan(batch) : batch
      port.postMessage({ kind: 'batch', batch: sent } satisfies CellReaderMessage)
    }
    port.postMessage({ kind: 'end' } satisfies CellReaderMessage)
  } finally {
    await cell.close()
  }
}

const port = parentPort
if (port)
  walk(port, workerData as CellReaderData).catch((err: unknown) => {
    const failed: CellReaderMessage = {
      kind: 'failed',
      message: err instanceof Error ? err.message : String(err),
      ...(isAppError(err) ? { code: err.code } : {}),
    }
    port.postMessage(failed)
  })
