/**
 * An ActionWriter that sends writes in batches (`POST /v1/batch`) instead of one request each:
 * for services that record many events, at the price of up to `flushIntervalMs` of latency per
 * write.
 *
 * Order. Operations are sent in the order they were called, and at most one batch is in flight,
 * so a later write never overtakes an earlier one (an event start cannot reach the server before
 * its action start, even when they land in different batches). The server applies a batch in
 * order, too.
 *
 * No records. A batch answers a status per operation, not the stored rows, so a call resolves with
 * nothing once the server has acknowledged its operation (as every ActionWriter does): nothing
 * about the stored record (database ids, server-side times, the sanitized traceback) is known
 * here, and none is made up. A caller who needs the stored record reads it back with the client's
 * `getAction`.
 */
import type {
  ActionFinishInput,
  ActionStartInput,
  ActionWriter,
  EventFinishInput,
  EventStartInput,
  InstanceInput,
} from '../domain/action-writer.js'
import { AppError } from '../domain/errors.js'
import { systemClock, type Clock } from '../domain/timestamp.js'
import type { BatchOptions } from './action-trail-client.js'
import { ClientClosedError, ClientHttpError } from './client-errors.js'
import type { BatchResult, WireOp } from './wire.js'

/** What BufferedActionWriter needs of a client: ActionTrailClient satisfies it. */
export interface BatchSender {
  batch(ops: readonly WireOp[], options?: BatchOptions): Promise<BatchResult[]>
}

/** Options of a BufferedActionWriter. */
export interface BufferedActionWriterOptions {
  /** Send a batch as soon as this many operations are waiting. Default 500. */
  maxOps?: number
  /**
   * Send a batch as soon as its serialized operations reach this many bytes, so that operations
   * with long tracebacks neither build a body the server refuses (413) nor make each retry of a
   * batch expensive. Default 1 MiB.
   */
  maxBatchBytes?: number
  /** Longest time an operation waits for more to join its batch. Default 50. */
  flushIntervalMs?: number
  /** Source of the times stamped on operations when they are queued. Default: systemClock(). */
  clock?: Clock
}

interface Entry {
  op: WireOp
  bytes: number
  resolve: () => void
  reject: (err: unknown) => void
  /** Settles with the operation (never rejects), for flush(). */
  settled: Promise<void>
}

// Web TextEncoder rather than Buffer: the client runs in browsers and workers too.
const utf8 = new TextEncoder()

/**
 * An ActionWriter over `/v1/batch`: every call queues an operation and resolves (with nothing)
 * once the batch that carries it has been acknowledged by the server; a failed operation rejects
 * with its own error (a ClientHttpError with the server's code, e.g. `action_not_found`), and a
 * batch that fails as a whole (retries exhausted, 401, 413) rejects every operation in it. Later
 * batches are still sent: an operation that needed a lost one then fails on its own (an event
 * start whose action start was lost: `action_not_found`).
 *
 * Times are stamped when a call is queued, not when its batch is sent, so they say when things
 * happened, and a retried batch carries the same times.
 *
 * Closing the writer flushes it; it does not close the client, which may be shared.
 *
 * @example
 * ```ts
 * const client = new ActionTrailClient({ baseUrl, token })
 * const writer = new BufferedActionWriter(client, { flushIntervalMs: 20 })
 * const recorder = new ActionRecorder({ writer, host: 'compute-01' })
 * await recorder.actionStart(ctx, uuid, 'reboot')
 * // …
 * await writer.close()
 * ```
 */
export class BufferedActionWriter implements ActionWriter {
  readonly #sender: BatchSender
  readonly #maxOps: number
  readonly #maxBatchBytes: number
  readonly #flushIntervalMs: number
  readonly #clock: Clock
  #queue: Entry[] = []
  #queuedBytes = 0
  #last: Entry | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #draining: Promise<void> | undefined
  #closed = false

  constructor(sender: BatchSender, options: BufferedActionWriterOptions = {}) {
    this.#sender = sender
    this.#maxOps = Math.max(1, options.maxOps ?? 500)
    this.#maxBatchBytes = Math.max(1, options.maxBatchBytes ?? 1024 * 1024)
    this.#flushIntervalMs = Math.max(0, options.flushIntervalMs ?? 50)
    this.#clock = options.clock ?? systemClock()
  }

  /** Queues an instance registration. */
  putInstance(input: InstanceInput): Promise<void> {
    return this.#enqueue({
      op: 'instance_put',
      instance_uuid: input.uuid,
      name: input.name,
      project_id: input.projectId,
      user_id: input.userId,
    })
  }

  /** Queues an instance deletion. */
  deleteInstance(uuid: string): Promise<void> {
    return this.#enqueue({ op: 'instance_delete', instance_uuid: uuid })
  }

  /** Queues an action start with an explicit start time. */
  actionStart(input: ActionStartInput): Promise<void> {
    return this.#enqueue({
      op: 'action_start',
      instance_uuid: input.instanceUuid,
      action: input.action,
      request_id: input.requestId,
      user_id: input.userId,
      project_id: input.projectId,
      start_time: input.startTime ?? this.#clock.now(),
    })
  }

  /** Queues an action finish with an explicit finish time. */
  actionFinish(input: ActionFinishInput): Promise<void> {
    return this.#enqueue({
      op: 'action_finish',
      instance_uuid: input.instanceUuid,
      request_id: input.requestId,
      finish_time: input.finishTime ?? this.#clock.now(),
    })
  }

  /** Queues an event start with an explicit start time (which is what makes a retried batch safe). */
  eventStart(input: EventStartInput): Promise<void> {
    const op: WireOp = {
      op: 'event_start',
      instance_uuid: input.instanceUuid,
      request_id: input.requestId,
      event: input.event,
      start_time: input.startTime ?? this.#clock.now(),
    }
    if (input.host !== undefined) op.host = input.host
    return this.#enqueue(op)
  }

  /** Queues an event finish; the server sanitizes traceback and details before storing them. */
  eventFinish(input: EventFinishInput): Promise<void> {
    const op: WireOp = {
      op: 'event_finish',
      instance_uuid: input.instanceUuid,
      request_id: input.requestId,
      event: input.event,
      result: input.result,
      finish_time: input.finishTime ?? this.#clock.now(),
    }
    if (input.details !== undefined) op.details = input.details
    if (input.traceback !== undefined) op.traceback = input.traceback
    return this.#enqueue(op)
  }

  /** Operations queued and not yet sent. */
  get pending(): number {
    return this.#queue.length
  }

  /**
   * Sends everything queued so far without waiting for the interval, and resolves once every
   * operation queued before this call has been acknowledged or rejected. It never rejects: each
   * operation's failure is reported by its own promise.
   */
  async flush(): Promise<void> {
    const last = this.#last
    if (this.#queue.length > 0) this.#kick()
    if (last) await last.settled
  }

  /**
   * Flushes, then closes: stops the timer, and calls made afterwards reject with
   * ClientClosedError. Resolves once every queued operation has been settled. The sender (the
   * client) is not closed: it may be shared, and its owner closes it.
   */
  async close(): Promise<void> {
    this.#closed = true
    await this.flush()
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#draining
  }

  #enqueue(op: WireOp): Promise<void> {
    if (this.#closed) return Promise.reject(new ClientClosedError('BufferedActionWriter'))
    let resolve!: () => void
    let reject!: (err: unknown) => void
    const promise = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    // A promise of its own rather than `promise.then(…)`: attaching handlers to the caller's promise
    // would mark it handled, and a failure the caller ignores must surface as an unhandled
    // rejection, exactly as it would with the unbuffered writers.
    let markSettled!: () => void
    const settled = new Promise<void>((res) => {
      markSettled = res
    })
    const entry: Entry = {
      op,
      // +1 for the comma (or newline) that joins it to the others.
      bytes: utf8.encode(JSON.stringify(op)).byteLength + 1,
      resolve: () => {
        resolve()
        markSettled()
      },
      reject: (err) => {
        reject(err)
        markSettled()
      },
      settled,
    }
    this.#queue.push(entry)
    this.#queuedBytes += entry.bytes
    this.#last = entry
    if (this.#queue.length >= this.#maxOps || this.#queuedBytes >= this.#maxBatchBytes) this.#kick()
    else if (!this.#draining && !this.#timer)
      this.#timer = setTimeout(() => this.#kick(), this.#flushIntervalMs)
    return promise
  }

  /** Starts sending now, unless a batch is already in flight (its loop will pick the queue up). */
  #kick(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#draining) return
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined
      // Operations queued while the last batch was being settled.
      if (this.#queue.length > 0) this.#kick()
    })
  }

  /**
   * Sends batches one after the other until the queue is empty. Operations that arrived while a
   * batch was in flight form the next batch right away: they have already waited one round trip.
   */
  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#takeBatch()
      let results: BatchResult[]
      try {
        results = await this.#sender.batch(batch.map((e) => e.op))
      } catch (err) {
        for (const entry of batch) entry.reject(err)
        continue
      }
      batch.forEach((entry, i) => {
        const result = results[i]
        if (!result)
          entry.reject(
            new AppError('internal', 'the batch answer has no result for this operation'),
          )
        else if (result.status >= 200 && result.status < 300) entry.resolve()
        else entry.reject(ClientHttpError.fromWire(result.status, result.error))
      })
    }
  }

  /** The next batch: at most maxOps operations and (unless one alone is larger) maxBatchBytes. */
  #takeBatch(): Entry[] {
    let count = 0
    let bytes = 0
    for (const entry of this.#queue) {
      if (count >= this.#maxOps || (count > 0 && bytes + entry.bytes > this.#maxBatchBytes)) break
      count += 1
      bytes += entry.bytes
    }
    const batch = this.#queue.splice(0, count)
    this.#queuedBytes -= bytes
    return batch
  }
}
