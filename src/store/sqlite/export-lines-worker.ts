/**
 * An export-lines worker thread (used by export-lines-pool.ts): its own read-only connection to
 * the store's SQLite file, running the very statements of the store's own connection
 * (sqlite-export-json.ts pageSql, passed in), one page of ids at a time, and handing the page's
 * bytes back with the job's id.
 *
 * Its code is the plain JavaScript below, not a module of this package: a worker importing this
 * package's TypeScript needs tsx's loader, which Node 20 runs on a thread of its own per worker —
 * measured 2026-12-07, 35 MB of RSS per worker that way against 9 MB as plain JavaScript, where the
 * export's RSS growth is bounded at 100 MB (issue 13).
 * @module
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { pageSql } from './sqlite-export-json.js'

/** A job sent to the worker. */
export interface ExportLinesJob {
  id: number
  actionIds: readonly number[]
  withIds: boolean
}

/** The worker's answer to a job: the lines, or that it failed (the pool then runs it inline). */
export type ExportLinesAnswer =
  { id: number; ok: true; data: Uint8Array; count: number } | { id: number; ok: false }

/** What the worker is started with. */
interface WorkerData {
  /** better-sqlite3, resolved from this package. */
  driver: string
  filename: string
  /** pageSql without ids, then with. */
  statements: [string, string]
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const native = new Database(workerData.filename, { readonly: true, fileMustExist: true })
// A WAL reader waits only while another connection recovers the WAL; this thread may block.
native.pragma('busy_timeout = 5000')
const statements = workerData.statements.map((sql) => native.prepare(sql).raw(true))
parentPort.on('message', (job) => {
  let answer
  let transfer = []
  try {
    const [bytes, count] = statements[job.withIds ? 1 : 0].get(JSON.stringify(job.actionIds))
    const data = bytes ?? new Uint8Array(0)
    answer = { id: job.id, ok: true, data, count }
    // Handed over, not copied, when the bytes own their whole buffer (a page's BLOB does).
    if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) transfer = [data.buffer]
  } catch {
    answer = { id: job.id, ok: false }
  }
  parentPort.postMessage(answer, transfer)
})
`

/** Starts a worker on the store's file (its tables must exist: the store is migrated). */
export function startExportLinesWorker(filename: string): Worker {
  const workerData: WorkerData = {
    driver: createRequire(import.meta.url).resolve('better-sqlite3'),
    filename,
    statements: [pageSql({ withIds: false }), pageSql({ withIds: true })],
  }
  return new Worker(WORKER_SOURCE, { eval: true, workerData })
}
