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
 * Records. A batch answers a status per operation, not the records. A successful call therefore
 * resolves with an *acknowledged* record built from what was sent: `id` and `actionId` are 0,
 * server-side times (`createdAt`, `updatedAt`) are the time the operation carried, fields the
 * writer never saw are empty (`''` or null, e.g. the action name in `actionFinish` or the owner in
 * `deleteInstance`), and `traceback`/`details` are null because the server stores them only after
 * sanitizing. When a caller needs the stored record, it reads it back with the client's
 * `getAction`, or writes through ActionTrailClient directly.
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
import type { ActionEvent, Instance, InstanceAction } from '../domain/instance-action.js'
import { parseTimestamp, systemClock, type Clock, type Timestamp } from '../domain/timestamp.js'
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
  /** The acknowledged record, built once the server has accepted the operation. */
  acknowledge: () => unknown
  resolve: (record: unknown) => void
  reject: (err: unknown) => void
  /** Settles with the operation (never rejects), for flush(). */
  settled: Promise<void>
}

/** Canonical form of a time the server will accept; the raw text when it does not parse (the server then rejects it). */
function canonical(value: string): Timestamp {
  return parseTimestamp(value) ?? (value as Timestamp)
}

/**
 * An ActionWriter over `/v1/batch`: every call queues an operation and resolves once the batch
 * that carries it has been acknowledged by the server, with an acknowledged record (see the
 * module documentation); a failed operation rejects with its own error (a ClientHttpError with the
 * server's code, e.g. `action_not_found`), and a batch that fails as a whole (retries exhausted,
 * 401, 413) rejects every operation in it. Later batches are still sent: an operation that needed
 * a lost one then fails on its own (an event start whose action start was lost: `action_not_found`).
 *
 * Times are stamped when a call is queued, not when its batch is sent, so they say when things
 * happened, and a retried batch carries the same times.
 *
 * Closing the writer does not close the client, which may be shared.
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
  #timer: NodeJS.Timeout | undefined
  #draining: Promise<void> | undefined
  #closed = false

  constructor(sender: BatchSender, options: BufferedActionWriterOptions = {}) {
    this.#sender = sender
    this.#maxOps = Math.max(1, options.maxOps ?? 500)
    this.#maxBatchBytes = Math.max(1, options.maxBatchBytes ?? 1024 * 1024)
    this.#flushIntervalMs = Math.max(0, options.flushIntervalMs ?? 50)
    this.#clock = options.clock ?? systemClock()
  }

  /** Queues an instance registration; resolves with the instance as sent (times = queue time). */
  putInstance(input: InstanceInput): Promise<Instance> {
    const now = this.#clock.now()
    return this.#enqueue<Instance>(
      { op: 'instance_put', instance_uuid: input.uuid, name: input.name, project_id: input.projectId, user_id: input.userId },
      () => ({
        uuid: input.uuid,
        name: input.name,
        projectId: input.projectId,
        userId: input.userId,
        createdAt: now,
        updatedAt: now,
        deletedAt: null,
      }),
    )
  }

  /** Queues an instance deletion; resolves with `deletedAt` = queue time and empty name and owner. */
  deleteInstance(uuid: string): Promise<Instance> {
    const now = this.#clock.now()
    return this.#enqueue<Instance>({ op: 'instance_delete', instance_uuid: uuid }, () => ({
      uuid,
      name: '',
      projectId: '',
      userId: '',
      createdAt: now,
      updatedAt: now,
      deletedAt: now,
    }))
  }

  /** Queues an action start with an explicit start time. */
  actionStart(input: ActionStartInput): Promise<InstanceAction> {
    const startTime = input.startTime ?? this.#clock.now()
    return this.#enqueue<InstanceAction>(
      {
        op: 'action_start',
        instance_uuid: input.instanceUuid,
        action: input.action,
        request_id: input.requestId,
        user_id: input.userId,
        project_id: input.projectId,
        start_time: startTime,
      },
      () => {
        const ts = canonical(startTime)
        return {
          id: 0,
          instanceUuid: input.instanceUuid,
          action: input.action,
          requestId: input.requestId,
          userId: input.userId,
          projectId: input.projectId,
          startTime: ts,
          finishTime: null,
          message: null,
          createdAt: ts,
          updatedAt: ts,
        }
      },
    )
  }

  /** Queues an action finish with an explicit finish time; the action name is not known here (''). */
  actionFinish(input: ActionFinishInput): Promise<InstanceAction> {
    const finishTime = input.finishTime ?? this.#clock.now()
    return this.#enqueue<InstanceAction>(
      { op: 'action_finish', instance_uuid: input.instanceUuid, request_id: input.requestId, finish_time: finishTime },
      () => {
        const ts = canonical(finishTime)
        return {
          id: 0,
          instanceUuid: input.instanceUuid,
          action: '',
          requestId: input.requestId,
          userId: null,
          projectId: null,
          startTime: ts,
          finishTime: ts,
          message: null,
          createdAt: ts,
          updatedAt: ts,
        }
      },
    )
  }

  /** Queues an event start with an explicit start time (which is what makes a retried batch safe). */
  eventStart(input: EventStartInput): Promise<ActionEvent> {
    const startTime = input.startTime ?? this.#clock.now()
    const op: WireOp = {
      op: 'event_start',
      instance_uuid: input.instanceUuid,
      request_id: input.requestId,
      event: input.event,
      start_time: startTime,
    }
    if (input.host !== undefined) op.host = input.host
    return this.#enqueue<ActionEvent>(op, () => {
      const ts = canonical(startTime)
      return {
        id: 0,
        actionId: 0,
        event: input.event,
        startTime: ts,
        finishTime: null,
        result: null,
        traceback: null,
        host: input.host ?? null,
        details: null,
        createdAt: ts,
        updatedAt: null,
      }
    })
  }

  /** Queues an event finish; the server sanitizes traceback and details, so the record carries neither. */
  eventFinish(input: EventFinishInput): Promise<ActionEvent> {
    const finishTime = input.finishTime ?? this.#clock.now()
    const op: WireOp = {
      op: 'event_finish',
      instance_uuid: input.instanceUuid,
      request_id: input.requestId,
      event: input.event,
      result: input.result,
      finish_time: finishTime,
    }
    if (input.details !== undefined) op.details = input.details
    if (input.traceback !== undefined) op.traceback = input.traceback
    return this.#enqueue<ActionEvent>(op, () => {
      const ts = canonical(finishTime)
      return {
        id: 0,
        actionId: 0,
        event: input.event,
        startTime: ts,
        finishTime: ts,
        result: input.result,
        traceback: null,
        host: null,
        details: null,
        createdAt: ts,
        updatedAt: ts,
      }
    })
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
   * Flushes and stops the timer. Calls made afterwards reject with ClientClosedError. Resolves
   * once every queued operation has been settled.
   */
  async close(): Promise<void> {
    this.#closed = true
    await this.flush()
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#draining
  }

  #enqueue<T>(op: WireOp, acknowledge: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new ClientClosedError('BufferedActionWriter'))
    let resolve!: (record: unknown) => void
    let reject!: (err: unknown) => void
    const promise = new Promise<T>((res, rej) => {
      resolve = res as (record: unknown) => void
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
      bytes: Buffer.byteLength(JSON.stringify(op), 'utf8') + 1,
      acknowledge,
      resolve: (record) => {
        resolve(record)
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
    else if (!this.#draining && !this.#timer) this.#timer = setTimeout(() => this.#kick(), this.#flushIntervalMs)
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
        if (!result) entry.reject(new AppError('internal', 'the batch answer has no result for this operation'))
        else if (result.status >= 200 && result.status < 300) entry.resolve(entry.acknowledge())
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
