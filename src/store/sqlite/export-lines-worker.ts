/**
 * The body of an export-lines worker thread (started by export-lines-pool.ts): its own read-only
 * connection to the store's SQLite file, running the very same statement as the store's own
 * connection (sqlite-export-json.ts), one page of ids at a time, and posting the text back with
 * the job's id.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import BetterSqlite3 from 'better-sqlite3'
import type { ExportLinesRequest } from '../action-store.js'
import { sqliteExportLines } from './sqlite-export-json.js'

/** What the worker is started with. */
export interface ExportLinesWorkerData {
  filename: string
}

/** A job sent to the worker. */
export interface ExportLinesJob {
  id: number
  actionIds: readonly number[]
  request: ExportLinesRequest
}

/** The worker's answer to a job: the lines, or that it failed (the pool then runs it inline). */
export type ExportLinesAnswer =
  { id: number; ok: true; text: string; count: number } | { id: number; ok: false }

const { filename } = workerData as ExportLinesWorkerData
const native = new BetterSqlite3(filename, { readonly: true, fileMustExist: true })
// A WAL reader waits only while another connection recovers the WAL; this thread may block.
native.pragma('busy_timeout = 5000')
const read = sqliteExportLines(native)

parentPort?.on('message', (job: ExportLinesJob) => {
  let answer: ExportLinesAnswer
  try {
    answer = { id: job.id, ok: true, ...read(job.actionIds, job.request) }
  } catch {
    answer = { id: job.id, ok: false }
  }
  parentPort?.postMessage(answer)
})
