/**
 * Worker threads that each take one job at a time, as the pools that move CPU-heavy work off the
 * event loop use them (security/sanitize-pool.ts, store/sqlite/export-lines-pool.ts). What a pool
 * decides stays in the pool: which jobs go to a worker, and how a job is done when no worker can
 * take it. What is shared is the bookkeeping that makes a worker's failure cost nothing: a job in
 * flight on a worker that fails or exits is handed back to its pool (`lost`), and a worker that
 * fails before it ever answered means workers cannot run here at all, so none is started again.
 * @module
 */
import type { Worker } from 'node:worker_threads'

/** An answer from a worker: the id of the job it answers. */
export interface WorkerAnswer {
  id: number
}

/** Options of {@link createWorkerSlots}. */
export interface WorkerSlotsOptions<J, A extends WorkerAnswer> {
  /** Workers at most, started when a job finds none idle. */
  size: number
  /** Starts a worker (may throw: workers are then off). */
  start(): Worker
  /** A worker answered `job`. */
  answered(job: J, answer: A): void
  /** `job` was in flight on a worker that failed, exited or was stopped: the pool must do it. */
  lost(job: J): void
}

/** Worker threads taking one job each. */
export interface WorkerSlots<J> {
  /**
   * Posts `message(id)` for `job` to an idle worker (one is started if there is room) and
   * returns true; false when every worker is busy or workers are off.
   */
  post(job: J, message: (id: number) => unknown): boolean
  /** Whether workers can no longer be used (closed, or one failed before answering). */
  readonly off: boolean
  /** Stops every worker; the jobs in flight are handed to `lost`. */
  close(): Promise<void>
}

interface Slot<J> {
  worker: Worker
  job?: J
  jobId?: number
  /** Whether the worker ever answered: one that fails before that cannot run at all here. */
  answered: boolean
}

/** Creates the slots; no worker starts before the first job, and idle ones do not keep the process alive. */
export function createWorkerSlots<J, A extends WorkerAnswer>(
  options: WorkerSlotsOptions<J, A>,
): WorkerSlots<J> {
  const slots: Slot<J>[] = []
  let off = false
  let nextId = 0

  function free(slot: Slot<J>): J | undefined {
    const job = slot.job
    slot.job = undefined
    slot.jobId = undefined
    // Busy workers keep the process alive until their answers are in; idle ones do not.
    slot.worker.unref()
    return job
  }

  function retire(slot: Slot<J>): void {
    const at = slots.indexOf(slot)
    if (at < 0) return
    slots.splice(at, 1)
    if (!slot.answered) off = true
    const job = free(slot)
    void slot.worker.terminate()
    if (job !== undefined) options.lost(job)
  }

  function start(): Slot<J> | undefined {
    let worker: Worker
    try {
      worker = options.start()
    } catch {
      off = true
      return undefined
    }
    const slot: Slot<J> = { worker, answered: false }
    worker.on('message', (answer: A) => {
      slot.answered = true
      if (answer.id !== slot.jobId) return
      const job = free(slot)
      if (job !== undefined) options.answered(job, answer)
    })
    worker.on('error', () => retire(slot))
    worker.on('exit', () => retire(slot))
    worker.unref()
    slots.push(slot)
    return slot
  }

  return {
    post(job, message) {
      if (off) return false
      const slot =
        slots.find((s) => s.job === undefined) ??
        (slots.length < options.size ? start() : undefined)
      if (!slot) return false
      const id = nextId++
      slot.job = job
      slot.jobId = id
      slot.worker.ref()
      slot.worker.postMessage(message(id))
      return true
    },
    get off() {
      return off
    },
    async close() {
      off = true
      const stopping = slots.splice(0)
      const lost = stopping.map(free).filter((job): job is J => job !== undefined)
      for (const job of lost) options.lost(job)
      await Promise.all(stopping.map((s) => s.worker.terminate()))
    },
  }
}
