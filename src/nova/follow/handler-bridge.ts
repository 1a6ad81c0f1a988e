/**
 * A NotificationHandler across a thread boundary: the follower's AMQP side runs on a thread of its
 * own (follower-thread.ts) and hands each batch of message bodies to the handler on the thread that
 * owns the store. `remoteHandler` is the follower thread's end, `serveHandler` the store thread's.
 *
 * A batch's bodies travel in one transferred buffer: amqplib's bodies may be views into a larger
 * frame buffer, and posting such a view would copy the whole buffer behind it. A failed batch comes
 * back with its error code, so that the follower still tells a store that is down (requeue the
 * batch) from a transaction that failed (retry its messages one by one).
 */
import type { MessagePort, Worker } from 'node:worker_threads'
import { AppError, isAppError, type ErrorCode } from '../../domain/errors.js'
import type { HandleResult, NotificationHandler } from '../notifications/notification-handler.js'

/** A batch for the handler: the bodies' bytes back to back, and where each one ends. */
export interface BatchRequest {
  kind: 'batch'
  id: number
  bytes: ArrayBuffer
  ends: number[]
}

/** The handler's answer to a batch. */
export type BatchAnswer =
  | { kind: 'results'; id: number; results: HandleResult[] }
  | { kind: 'failed'; id: number; message: string; code?: ErrorCode }

/** One end of the channel: a worker (store side) or the worker's parent port (follower side). */
type Port = Pick<MessagePort | Worker, 'postMessage' | 'on' | 'off'>

function packBodies(bodies: readonly Buffer[]): { bytes: ArrayBuffer; ends: number[] } {
  let total = 0
  for (const body of bodies) total += body.length
  const bytes = new ArrayBuffer(total)
  const view = new Uint8Array(bytes)
  const ends: number[] = new Array<number>(bodies.length)
  let at = 0
  for (const [i, body] of bodies.entries()) {
    view.set(body, at)
    at += body.length
    ends[i] = at
  }
  return { bytes, ends }
}

function unpackBodies(bytes: ArrayBuffer, ends: readonly number[]): Buffer[] {
  const bodies: Buffer[] = new Array<Buffer>(ends.length)
  let start = 0
  for (const [i, end] of ends.entries()) {
    bodies[i] = Buffer.from(bytes, start, end - start)
    start = end
  }
  return bodies
}

/**
 * The follower thread's handler: each batch is posted to `port` and resolves with the store
 * thread's answer. `isBatch` tells the bridge's answers from the port's other messages.
 */
export function remoteHandler(port: Port): NotificationHandler {
  let next = 0
  const waiting = new Map<
    number,
    { resolve: (results: HandleResult[]) => void; reject: (err: Error) => void }
  >()
  port.on('message', (answer: BatchAnswer | { kind: string }) => {
    if (answer.kind !== 'results' && answer.kind !== 'failed') return
    const a = answer as BatchAnswer
    const pending = waiting.get(a.id)
    if (!pending) return
    waiting.delete(a.id)
    if (a.kind === 'results') pending.resolve(a.results)
    else pending.reject(a.code ? new AppError(a.code, a.message) : new Error(a.message))
  })
  const handleBatch = (bodies: readonly Buffer[]): Promise<HandleResult[]> =>
    new Promise((resolve, reject) => {
      const id = next++
      waiting.set(id, { resolve, reject })
      const { bytes, ends } = packBodies(bodies)
      port.postMessage({ kind: 'batch', id, bytes, ends } satisfies BatchRequest, [bytes])
    })
  return {
    async handle(body) {
      const [result] = await handleBatch([body])
      if (!result) throw new Error('no result for the message')
      return result
    },
    handleBatch,
  }
}

/**
 * The store thread's end: answers every batch posted on `port` with `handler`. Returns a function
 * that stops listening.
 */
export function serveHandler(port: Port, handler: NotificationHandler): () => void {
  const onMessage = (request: BatchRequest | { kind: string }) => {
    if (request.kind !== 'batch') return
    const { id, bytes, ends } = request as BatchRequest
    const bodies = unpackBodies(bytes, ends)
    const handled = handler.handleBatch
      ? handler.handleBatch(bodies)
      : Promise.all(bodies.map((body) => handler.handle(body)))
    handled.then(
      (results) => port.postMessage({ kind: 'results', id, results } satisfies BatchAnswer),
      (err: unknown) =>
        port.postMessage({
          kind: 'failed',
          id,
          message: err instanceof Error ? err.message : String(err),
          ...(isAppError(err) ? { code: err.code } : {}),
        } satisfies BatchAnswer),
    )
  }
  port.on('message', onMessage)
  return () => port.off('message', onMessage)
}
