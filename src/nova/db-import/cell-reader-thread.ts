/**
 * An SQLite cell's import batches read ahead on a worker thread (cell-reader-worker.ts): reading,
 * mapping and sanitizing the rows were 53 of the 125 s of a 1M-action offline load, on the thread
 * that also writes (docs/benchmarks.md, issue 12); on their own thread they run on the other core
 * while the import thread writes. The thread has its own read-only connection to the cell and
 * reads at most {@link READ_AHEAD} batches ahead of the writes, so memory stays flat at any size.
 * What crosses over is the batch of import records, copied (structured clone: flat arrays of
 * values deserialized no faster, the strings being the cost). With the cheaper mapping and the
 * offline writer's sealing of the same session, the load of 1M actions went from 229.8 to 142.6 s
 * (docs/benchmarks.md, session 12); this thread's own share could not be told apart on the loaded
 * machine.
 *
 * Only SQLite cells: a MariaDB/MySQL cell's reads wait on the server, not on this thread, and a
 * thread would need a pool of its own on the operator's credentials; it keeps the in-thread path
 * (import-batch-reader.ts), not measured here.
 *
 * For an offline writer the thread also plans each batch's hash chain (chain-planner.ts), the
 * largest share of the writing thread's work after binding; the writer's place after each batch
 * comes back to it through `written`.
 *
 * The checkpoint is the import's, unchanged: it moves after each batch's write committed, and
 * batches read ahead but not written are dropped with the thread (close). A thread that cannot
 * start at all (its module missing: a bundle of the CLI has no file beside it) leaves the walk to
 * the in-thread reader from the same position; a thread that fails once it ran (the cell cannot be
 * opened or read) fails the import with its error.
 * @module
 */
import { Worker } from 'node:worker_threads'
import { AppError } from '../../domain/errors.js'
import type { CellReaderControl, CellReaderData, CellReaderMessage } from './cell-reader-worker.js'
import type { ChainStart, ImportBatchReader } from './import-batch-reader.js'
import type { ImportBatch } from './nova-records.js'

/** Batches read before the import thread takes one. */
export const READ_AHEAD = 2

/**
 * The reader thread's young generation, MB (V8's default is 16 MB of semi-space). A batch being
 * read, mapped and planned lives through many scavenges of a small young generation, each copying
 * it again: in a profile of the offline load of 200k actions (2026-12-07, quiet machine) the
 * thread spent 3.7 s of its 21.7 s collecting garbage by default, 2.4–2.6 s with 64 MB and
 * 1.2–1.5 s with 192 MB, and the load took 17.1–21.9, 16.9–18.8 and 15.9–16.6 s. Peak RSS of the
 * whole import at 1M actions: see docs/benchmarks.md (session 15).
 */
const READER_YOUNG_GENERATION_MB = 192

/**
 * Starts the reader thread. From the compiled package it is cell-reader-worker.js beside this
 * file; in a checkout the sources run through tsx, which the thread registers first (as
 * security/sanitize-pool.ts does).
 */
function startWorker(workerData: CellReaderData): Worker {
  const resourceLimits = { maxYoungGenerationSizeMb: READER_YOUNG_GENERATION_MB }
  const here = import.meta.url
  if (!here.endsWith('.ts'))
    return new Worker(new URL('./cell-reader-worker.js', here), { workerData, resourceLimits })
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(new URL('./cell-reader-worker.ts', here).href)
  return new Worker(
    `import(${tsx}).then(({ register }) => { register(); return import(${entry}) })`,
    { eval: true, workerData, resourceLimits },
  )
}

/**
 * Reads the batches of the SQLite cell at `path` after `after` on a thread of their own;
 * `inThread` (from the same position) when the thread cannot start. With `chain`, the thread
 * plans each batch's hash chain too (cell-reader-worker.ts), told where the writer stands after
 * each batch through `written`.
 */
export function threadBatches(
  path: string,
  after: number,
  limit: number,
  inThread: () => ImportBatchReader,
  chain?: ChainStart,
): ImportBatchReader {
  const queue: CellReaderMessage[] = []
  let fallback: ImportBatchReader | undefined
  let stopped: Error | undefined
  let heard = false
  let waiting: { resolve: (b: ImportBatch | undefined) => void; reject: (e: unknown) => void }
  let asked = false
  let worker: Worker | undefined

  function settle(): void {
    if (!asked) return
    const message = queue[0]
    if (fallback) {
      asked = false
      fallback.next().then(waiting.resolve, waiting.reject)
    } else if (message) {
      asked = false
      // The end and a failure stay at the head: every later call answers the same.
      if (message.kind === 'batch') {
        queue.shift()
        worker?.postMessage({ kind: 'more' } satisfies CellReaderControl)
        waiting.resolve(message.batch)
      } else if (message.kind === 'end') waiting.resolve(undefined)
      else if (message.code) waiting.reject(new AppError(message.code, message.message))
      else waiting.reject(new Error(`reading the Nova cell ${path}: ${message.message}`))
    } else if (stopped) {
      asked = false
      waiting.reject(stopped)
    }
  }

  try {
    worker = startWorker({ path, after, limit, ahead: READ_AHEAD, chain })
  } catch {
    fallback = inThread()
  }
  worker?.on('message', (message: CellReaderMessage) => {
    heard = true
    queue.push(message)
    settle()
  })
  worker?.on('error', (err) => {
    if (heard)
      stopped ??= new Error(`the reader thread of Nova cell ${path} failed`, { cause: err })
    else fallback ??= inThread()
    settle()
  })
  worker?.on('exit', (code) => {
    stopped ??= new Error(`the reader thread of Nova cell ${path} stopped (exit code ${code})`)
    settle()
  })

  return {
    next: () =>
      new Promise<ImportBatch | undefined>((resolve, reject) => {
        waiting = { resolve, reject }
        asked = true
        settle()
      }),
    written: (cursor) => {
      if (!fallback) worker?.postMessage({ kind: 'written', cursor } satisfies CellReaderControl)
    },
    close: async () => {
      await worker?.terminate()
      await fallback?.close()
    },
  }
}
