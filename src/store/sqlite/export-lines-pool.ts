/**
 * Export lines built on worker threads (issue 13's export target). SQLite builds an export's
 * JSON on the thread that asks (sqlite-export-json.ts), and that is nearly all of an export's
 * work: one thread gave 24,000–48,000 actions/s at 1M actions on this 2-core machine (bench:export's
 * floor, 2026-12-07), below the 50,000/s asked. An export reads ahead, so its pages can be built
 * at once on worker threads, each with its own read-only connection to the file (WAL readers do
 * not block each other or the writer), while the store's own connection keeps serving requests.
 *
 * A page is built inline (on the store's connection) when the caller does not read ahead, when
 * the database is in memory (another connection could not see it), and when workers cannot be
 * used: a worker that fails a page hands it back to be built inline, whose error (if any) is then
 * the store's own, mapped as every read's; a worker that cannot start turns the pool inline.
 * @module
 */
import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import type { ExportLines, ExportLinesRequest } from '../action-store.js'
import { startModuleWorker } from '../../worker/start-worker.js'
import type { ExportLinesReader } from './sqlite-export-json.js'
import type {
  ExportLinesAnswer,
  ExportLinesJob,
  ExportLinesWorkerData,
} from './export-lines-worker.js'

/** Builds export lines, on worker threads when asked for off-thread work. */
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
  /** Worker threads at most, started on the first off-thread page; default: the cores, 1 to 4. */
  workers?: number
}

interface Job {
  actionIds: readonly number[]
  request: ExportLinesRequest
  resolve: (lines: ExportLines) => void
  reject: (err: unknown) => void
}

interface Slot {
  worker: Worker
  job?: Job
  answered: boolean
}

/**
 * Creates a pool. Its workers do not keep the process alive while idle. The default size is one
 * worker per core: the thread that asks only reads each page's ids and passes text on.
 */
export function createExportLinesPool(options: ExportLinesPoolOptions): ExportLinesPool {
  const { filename, inline } = options
  const size = Math.max(1, options.workers ?? Math.min(4, availableParallelism()))
  const slots: Slot[] = []
  const waiting: Job[] = []
  const inFlight = new Map<number, Job>()
  let nextId = 0
  // Set when workers cannot be used (closed, or one failed before answering): all goes inline.
  let workersOff = filename === undefined

  function runInline(job: Job): void {
    try {
      job.resolve(inline(job.actionIds, job.request))
    } catch (err) {
      job.reject(err)
    }
  }

  function retire(slot: Slot): void {
    const at = slots.indexOf(slot)
    if (at < 0) return
    slots.splice(at, 1)
    if (!slot.answered) workersOff = true
    const job = slot.job
    slot.job = undefined
    void slot.worker.terminate()
    if (job) runInline(job)
    dispatch()
  }

  function addSlot(): Slot | undefined {
    let worker: Worker
    try {
      worker = startModuleWorker(import.meta.url, 'export-lines-worker', {
        workerData: { filename } satisfies Partial<ExportLinesWorkerData>,
      })
    } catch {
      workersOff = true
      return undefined
    }
    const slot: Slot = { worker, answered: false }
    worker.on('message', (answer: ExportLinesAnswer) => {
      const job = inFlight.get(answer.id)
      inFlight.delete(answer.id)
      slot.answered = true
      slot.job = undefined
      if (job) {
        if (answer.ok) job.resolve({ text: answer.text, count: answer.count })
        else runInline(job)
      }
      dispatch()
    })
    worker.on('error', () => retire(slot))
    worker.on('exit', () => retire(slot))
    worker.unref()
    slots.push(slot)
    return slot
  }

  function dispatch(): void {
    while (waiting.length > 0 && !workersOff) {
      const slot = slots.find((s) => !s.job) ?? (slots.length < size ? addSlot() : undefined)
      if (!slot) break
      const job = waiting.shift() as Job
      const id = nextId++
      slot.job = job
      inFlight.set(id, job)
      const message: ExportLinesJob = { id, actionIds: job.actionIds, request: job.request }
      slot.worker.postMessage(message)
    }
    if (workersOff) for (const job of waiting.splice(0)) runInline(job)
    // Busy workers keep the process alive until their answers are in; idle ones do not.
    for (const slot of slots) {
      if (slot.job) slot.worker.ref()
      else slot.worker.unref()
    }
  }

  return {
    read(actionIds, request) {
      return new Promise<ExportLines>((resolve, reject) => {
        const job: Job = { actionIds, request, resolve, reject }
        if (request.offThread !== true || workersOff) runInline(job)
        else {
          waiting.push(job)
          dispatch()
        }
      })
    },
    async close() {
      workersOff = true
      const stopping = slots.splice(0)
      for (const slot of stopping) {
        if (slot.job) runInline(slot.job)
        slot.job = undefined
      }
      inFlight.clear()
      dispatch()
      await Promise.all(stopping.map((s) => s.worker.terminate()))
    },
  }
}
