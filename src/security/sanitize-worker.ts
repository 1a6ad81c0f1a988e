/**
 * The body of a sanitizer worker thread (started by sanitize-pool.ts): runs the very same
 * sanitizeTraceback / sanitizeDetails as the main thread, on one text at a time, and posts the
 * result back with the job's id. Nothing else happens here, so the output is identical whichever
 * thread computed it.
 * @module
 */
import { parentPort } from 'node:worker_threads'
import { sanitizeDetails, sanitizeTraceback } from './sanitize-traceback.js'

/** A job sent to the worker. */
export interface SanitizeJob {
  id: number
  kind: 'traceback' | 'details'
  text: string
}

/** The worker's answer to a job. */
export type SanitizeAnswer =
  { id: number; ok: true; value: string } | { id: number; ok: false; message: string }

parentPort?.on('message', (job: SanitizeJob) => {
  let answer: SanitizeAnswer
  try {
    const value = job.kind === 'traceback' ? sanitizeTraceback(job.text) : sanitizeDetails(job.text)
    answer = { id: job.id, ok: true, value }
  } catch (err) {
    answer = { id: job.id, ok: false, message: err instanceof Error ? err.message : String(err) }
  }
  parentPort?.postMessage(answer)
})
