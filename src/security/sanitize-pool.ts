/**
 * Sanitizing without blocking the event loop. sanitizeTraceback is linear, but linear is still
 * about 0.9 s per MiB on the most adversarial input measured (URL user info with blanks, see
 * test/helpers/freeze-attacks.ts; 2026-12-06, 2 cores, Node 20), and the write API accepts 1 MiB
 * tracebacks: run on the main thread, 60 of them froze every other request for 23 s (issue 9).
 *
 * So texts of WORKER_THRESHOLD characters or more are sanitized on worker threads, and smaller
 * ones on the main thread in slices: queued, and worked through at most INLINE_SLICE characters
 * per event-loop turn, so that a batch of thousands of small tracebacks lets other requests in
 * between. Both paths run the same functions (sanitize-worker.ts imports them), so the output is
 * identical whichever path a text takes. If a worker cannot run (it failed to start or died), its
 * job, and every later one, is sanitized inline: slower for the others, never wrong or lost.
 * @module
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { createWorkerSlots } from '../worker/worker-slots.js'
import { sanitizeDetails, sanitizeTraceback } from './sanitize-traceback.js'
import type { SanitizeAnswer, SanitizeJob } from './sanitize-worker.js'

/**
 * Texts this long (UTF-16 code units) or longer go to a worker: at the worst measured rate of
 * 0.9 ms per KiB, 8 Ki characters cost the main thread at most ~7 ms, about what posting the text
 * to a worker and back saves; a typical traceback (2–8 KiB, and far cheaper per byte than the
 * adversarial pattern) stays inline.
 */
export const WORKER_THRESHOLD = 8 * 1024

/**
 * Inline work per event-loop turn, in characters: a turn ends once this much was sanitized, so
 * one turn sanitizes less than INLINE_SLICE + WORKER_THRESHOLD characters (~14 ms worst case).
 */
export const INLINE_SLICE = 8 * 1024

/** Options of {@link createSanitizerPool}; the defaults suit a server. */
export interface SanitizerPoolOptions {
  /** Worker threads at most (started when first needed); default: cores − 1, 1 to 4. */
  workers?: number
  /** See {@link WORKER_THRESHOLD}. */
  workerThreshold?: number
  /** See {@link INLINE_SLICE}. */
  inlineSlice?: number
}

/** Asynchronous sanitizers with the exact output of sanitizeTraceback / sanitizeDetails. */
export interface SanitizerPool {
  /** sanitizeTraceback(text) with default options, off the event loop when large. */
  traceback(text: string): Promise<string>
  /** sanitizeDetails(text) with default options, off the event loop when large. */
  details(text: string): Promise<string>
  /** Stops the workers; queued and running jobs finish inline. The pool stays usable (inline). */
  close(): Promise<void>
}

type Kind = SanitizeJob['kind']

interface Job {
  kind: Kind
  text: string
  resolve: (value: string) => void
  reject: (err: Error) => void
}

function sanitizeNow(kind: Kind, text: string): string {
  return kind === 'traceback' ? sanitizeTraceback(text) : sanitizeDetails(text)
}

function settleNow(job: Job): void {
  try {
    job.resolve(sanitizeNow(job.kind, job.text))
  } catch (err) {
    job.reject(err instanceof Error ? err : new Error(String(err)))
  }
}

/**
 * Starts a sanitizer worker. From the compiled package it is sanitize-worker.js next to this
 * file; in a checkout the sources run through tsx, whose loader a worker does not inherit when
 * it was registered in code (bin/actiontrail.js), so the worker registers it first — resolved
 * from here, not from the working directory.
 */
function startWorker(): Worker {
  const here = import.meta.url
  if (!here.endsWith('.ts')) return new Worker(new URL('./sanitize-worker.js', here))
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(new URL('./sanitize-worker.ts', here).href)
  return new Worker(
    `import(${tsx}).then(({ register }) => { register(); return import(${entry}) })`,
    { eval: true },
  )
}

/** Creates a pool; workers start on the first large text and do not keep the process alive. */
export function createSanitizerPool(options: SanitizerPoolOptions = {}): SanitizerPool {
  const threshold = options.workerThreshold ?? WORKER_THRESHOLD
  const slice = options.inlineSlice ?? INLINE_SLICE
  const waiting: Job[] = []
  const inline: Job[] = []
  let inlineScheduled = false

  function drainInline(): void {
    let done = 0
    while (inline.length > 0 && done < slice) {
      const job = inline.shift() as Job
      done += job.text.length
      settleNow(job)
    }
    inlineScheduled = inline.length > 0
    if (inlineScheduled) setImmediate(drainInline)
  }

  function runInline(job: Job): void {
    inline.push(job)
    if (!inlineScheduled) {
      inlineScheduled = true
      setImmediate(drainInline)
    }
  }

  // Workers that cannot be used (closed, or one failed before answering) leave all inline.
  const workers = createWorkerSlots<Job, SanitizeAnswer>({
    size: Math.max(1, options.workers ?? Math.min(4, availableParallelism() - 1)),
    start: startWorker,
    answered: (job, answer) => {
      if (answer.ok) job.resolve(answer.value)
      else job.reject(new Error(answer.message))
      dispatch()
    },
    // The text is sanitized anyway: a worker's failure must not fail the write.
    lost: (job) => {
      runInline(job)
      dispatch()
    },
  })

  function dispatch(): void {
    for (let job = waiting[0]; job !== undefined; job = waiting[0]) {
      const { kind, text } = job
      if (!workers.post(job, (id): SanitizeJob => ({ id, kind, text }))) break
      waiting.shift()
    }
    if (workers.off) for (const job of waiting.splice(0)) runInline(job)
  }

  function run(kind: Kind, text: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const job: Job = { kind, text, resolve, reject }
      if (text.length < threshold || workers.off) {
        runInline(job)
      } else {
        waiting.push(job)
        dispatch()
      }
    })
  }

  return {
    traceback: (text) => run('traceback', text),
    details: (text) => run('details', text),
    async close() {
      const closing = workers.close()
      // Off from now on: what waits for a worker is sanitized inline.
      dispatch()
      await closing
    },
  }
}
