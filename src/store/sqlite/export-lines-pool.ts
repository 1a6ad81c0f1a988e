/**
 * Export lines built on worker threads too (issue 13's export target). SQLite builds an export's
 * JSON on the thread that asks (sqlite-export-json.ts), and that is nearly all of an export's
 * work: one thread gave 24,000–48,000 actions/s at 1M actions on this 2-core machine (bench:export's
 * floor, 2026-12-07), below the 50,000/s asked. An export reads ahead, so its pages can be built
 * at once on several threads: an idle worker (its own read-only connection to the file; WAL
 * readers do not block each other or the writer) takes a page asked for off the thread, and when
 * none is idle the asking thread builds the page itself on the store's connection, so both cores
 * work and nothing waits in a queue.
 *
 * A page is built inline (on the store's connection) when the caller does not read ahead, when
 * the database is in memory (another connection could not see it), and when workers cannot be
 * used: a worker that fails a page hands it back to be built inline, whose error (if any) is then
 * the store's own, mapped as every read's; a worker that cannot start turns the pool inline.
 * @module
 */
import { availableParallelism } from 'node:os'
import type { ExportLines, ExportLinesRequest } from '../action-store.js'
import { createWorkerSlots } from '../../worker/worker-slots.js'
import type { ExportLinesReader } from './sqlite-export-json.js'
import {
  startExportLinesWorker,
  type ExportLinesAnswer,
  type ExportLinesJob,
} from './export-lines-worker.js'

/** Builds export lines, on a worker thread when one is idle and the caller reads ahead. */
export interface ExportLinesPool {
  read(actionIds: readonly number[], request: ExportLinesRequest): Promise<ExportLines>
  /** Stops the workers; pages they were building are built inline. */
  close(): Promise<void>
}

/** Options of {@link createExportLinesPool}. */
export interface ExportLinesPoolOptions {
  /** The store's SQLite file; undefined for an in-memory database (inline only). */
  filename: string | undefined
  /** The reader on the store's own connection. */
  inline: ExportLinesReader
  /**
   * Worker threads at most, started on the first off-thread page; default: the cores but the
   * asking thread's, 1 to 3. Each costs ~9 MB of RSS to start and holds up to ~30 MB of pages
   * not yet collected (measured 2026-12-07).
   */
  workers?: number
}

interface Job {
  actionIds: readonly number[]
  request: ExportLinesRequest
  resolve: (lines: ExportLines) => void
  reject: (err: unknown) => void
}

/** Creates a pool. Its workers do not keep the process alive while idle. */
export function createExportLinesPool(options: ExportLinesPoolOptions): ExportLinesPool {
  const { filename, inline } = options

  function runInline(job: Job): void {
    try {
      job.resolve(inline(job.actionIds, job.request))
    } catch (err) {
      job.reject(err)
    }
  }

  const workers =
    filename === undefined
      ? undefined
      : createWorkerSlots<Job, ExportLinesAnswer>({
          size: Math.max(1, options.workers ?? Math.min(3, availableParallelism() - 1)),
          start: () => startExportLinesWorker(filename),
          answered: (job, answer) => {
            if (answer.ok) job.resolve({ data: answer.data, count: answer.count })
            else runInline(job)
          },
          lost: runInline,
        })

  return {
    read(actionIds, request) {
      return new Promise<ExportLines>((resolve, reject) => {
        const job: Job = { actionIds, request, resolve, reject }
        const message = (id: number): ExportLinesJob => ({
          id,
          actionIds,
          withIds: request.withIds,
        })
        const posted = request.offThread === true && workers?.post(job, message) === true
        if (!posted) runInline(job)
      })
    },
    close: async () => workers?.close(),
  }
}
