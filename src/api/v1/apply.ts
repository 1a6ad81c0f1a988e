/**
 * Running write operations through ActionService.apply and turning outcomes into HTTP statuses,
 * the same way for a single endpoint and for each operation of a batch.
 */
import type { FastifyBaseLogger, FastifyReply } from 'fastify'
import { AppError, isAppError } from '../../domain/errors.js'
import type { WriteOperation, WriteOutcome } from '../../domain/write-operation.js'
import { appErrorAnswer, INTERNAL_ANSWER } from '../errors.js'
import type { WriteApplier } from './principal-writer.js'
import type { BatchResult } from './responses.js'
import { toWriteOperation, type BatchOperation, type ParsedOperation } from './schemas.js'
import { recordBody } from './views.js'

/** Operations per ActionService.apply call (one store transaction) in a batch. */
export const BATCH_CHUNK_SIZE = 5000

/** 201 when the write created its record, 200 when the record existed (retry, update, finish). */
export function successStatus(created: boolean): number {
  return created ? 201 : 200
}

/** Applies one operation; answers its status and body, or throws its AppError. */
export async function applyOne(
  service: WriteApplier,
  operation: WriteOperation,
): Promise<{ status: number; body: object }> {
  const [outcome] = await service.apply([operation])
  if (!outcome) throw new AppError('internal', 'write produced no outcome')
  if (!outcome.ok) throw outcome.error
  return { status: successStatus(outcome.created), body: recordBody(outcome.record) }
}

/**
 * Answers a single endpoint: its URL fields and body as one batch-style operation, applied alone.
 * (The schemas have checked both, so the operation is well-formed.)
 */
export async function sendWrite(
  service: WriteApplier,
  reply: FastifyReply,
  operation: BatchOperation,
): Promise<FastifyReply> {
  const { status, body } = await applyOne(service, toWriteOperation(operation))
  return reply.code(status).send(body)
}

function resultOf(outcome: WriteOutcome): BatchResult {
  if (outcome.ok) return { status: successStatus(outcome.created) }
  const error = appErrorAnswer(outcome.error)
  return { status: error.status, error }
}

function invalidResult(message: string): BatchResult {
  return { status: 400, error: { status: 400, code: 'invalid_input', message } }
}

/**
 * Applies a batch in request order, in chunks of BATCH_CHUNK_SIZE with one transaction each. An
 * invalid item is answered 400 at its index and the others still apply. When a whole chunk fails
 * (the store is unavailable), that chunk and every later operation are reported with the failure
 * and not attempted, so the caller knows exactly what was applied; `complete` is then false.
 */
export async function applyBatch(
  service: WriteApplier,
  items: readonly ParsedOperation[],
  log: FastifyBaseLogger,
): Promise<{ results: BatchResult[]; complete: boolean }> {
  const results: BatchResult[] = new Array<BatchResult>(items.length)
  for (let start = 0; start < items.length; start += BATCH_CHUNK_SIZE) {
    // Other requests get the event loop between chunks: on SQLite a chunk's transaction runs
    // synchronously (about 30–60 ms for 5,000 operations), and twenty of them in a row would
    // otherwise hold every other request for a second or more.
    if (start > 0) await new Promise((resolve) => setImmediate(resolve))
    const operations: WriteOperation[] = []
    const positions: number[] = []
    for (let i = start; i < Math.min(start + BATCH_CHUNK_SIZE, items.length); i++) {
      const item = items[i] as ParsedOperation
      if (item.ok) {
        operations.push(item.operation)
        positions.push(i)
      } else {
        results[i] = invalidResult(item.message)
      }
    }
    if (operations.length === 0) continue
    let outcomes: WriteOutcome[]
    try {
      outcomes = await service.apply(operations)
    } catch (err) {
      const error = isAppError(err) ? appErrorAnswer(err) : INTERNAL_ANSWER
      log.error({ err }, 'batch chunk failed')
      for (let i = start; i < items.length; i++) {
        // Invalid items keep their own 400, also after the failed chunk.
        const item = items[i] as ParsedOperation
        results[i] = item.ok ? { status: error.status, error } : invalidResult(item.message)
      }
      return { results, complete: false }
    }
    outcomes.forEach((outcome, j) => {
      results[positions[j] as number] = resultOf(outcome)
    })
  }
  return { results, complete: true }
}
