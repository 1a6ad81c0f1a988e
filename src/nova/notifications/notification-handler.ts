/**
 * The pure part of the Nova follower: one AMQP message body in, the ActionTrail writes it implies
 * committed (or a reason why not) out. The AMQP consumer around it acks `applied`, `duplicate`
 * and `ignored`, dead-letters `poison`, and requeues when `handle` rejects.
 *
 * Each message's writes and its message id's receipt go to the store in one `applyDerived` call,
 * so in one transaction: a message redelivered after a crash between the commit and the ack finds
 * its receipt and is reported `duplicate`. Two copies in flight at once both apply, but every
 * write is a merge (store/write/merge-programs.ts), so the second changes nothing. Concurrent
 * calls share the store's group commits.
 *
 * `handleBatch` does the same for many bodies at once: every message's writes, each followed by its
 * receipt, in one `applyDerived` call, so one transaction. A write the store refuses fails only its
 * own message (the outcomes are per write); only a failed transaction rejects the whole batch.
 */
import type { Logger } from 'pino'
import type { ActionService } from '../../domain/action-service.js'
import type { DerivedOperation } from '../../domain/merge-operation.js'
import type { WriteOutcome } from '../../domain/write-operation.js'
import { parseEnvelope } from './envelope.js'
import { notificationWrites } from './notification-writes.js'
import { NOVA_NOTIFICATIONS_WRITER, novaWriterTag } from '../nova-writers.js'

/** What became of one AMQP message body. */
export type HandleResult =
  /** Committed: `writes` store writes were applied. */
  | { kind: 'applied'; writes: number }
  /** message_id already seen (its writes were committed earlier). */
  | { kind: 'duplicate' }
  /** Valid but not about instance actions (e.g. instance.update, service.*). */
  | { kind: 'ignored'; reason: string }
  /** Cannot be parsed / unsupported major version / no instance uuid: dead-letter it. */
  | { kind: 'poison'; reason: string }

/**
 * Handles message bodies. `handle` resolves only after the writes are committed; it rejects
 * (throws) on a transient failure (store down), and then the caller requeues. Concurrent calls
 * are safe and share the store's group commits.
 */
export interface NotificationHandler {
  handle(body: Buffer): Promise<HandleResult>
  /**
   * `handle` of several bodies in one store transaction; the results are in the bodies' order. It
   * rejects when the transaction fails, and then none of the bodies' writes is committed.
   */
  handleBatch?(bodies: readonly Buffer[]): Promise<HandleResult[]>
}

/** What the handler needs. */
export interface NotificationHandlerDeps {
  service: ActionService
  log: Logger
  /** Writer tag the derived records carry (default: the tag of `nova-notifications`). */
  writerTag?: string
}

/** Creates the handler. */
export function createNotificationHandler(deps: NotificationHandlerDeps): NotificationHandler {
  const { service, log } = deps
  // The database's key is read once, at the first message (the store may not be open before).
  let writer: Promise<string | undefined> | undefined
  const writerOf = () =>
    deps.writerTag !== undefined
      ? Promise.resolve(deps.writerTag)
      : (writer ??= service.writerTagKey().then(
          (key) => novaWriterTag(key, NOVA_NOTIFICATIONS_WRITER),
          (err: unknown) => {
            writer = undefined
            throw err
          },
        ))
  /** One message's writes in the batch: where its writes (and then its receipt) start, how many. */
  interface Span {
    index: number
    eventType: string
    first: number
    writes: number
  }
  // The result of a message whose writes and receipt came back as `outcomes`.
  const settle = (span: Span, outcomes: readonly WriteOutcome[]): HandleResult => {
    const receipt = outcomes[span.writes]
    if (receipt?.ok && !receipt.created) return { kind: 'duplicate' }
    const failed = outcomes.slice(0, span.writes).find((o) => !o.ok)
    if (failed && !failed.ok) {
      // A write the store refused (e.g. no owner known for a new instance): retrying will not
      // help. Its receipt is kept, so a redelivery is a duplicate rather than a loop.
      const reason = `write refused: ${failed.error.code}`
      log.warn({ eventType: span.eventType, reason }, 'nova notification refused')
      return { kind: 'poison', reason }
    }
    return { kind: 'applied', writes: span.writes }
  }
  const handleBatch = async (bodies: readonly Buffer[]): Promise<HandleResult[]> => {
    const results: HandleResult[] = new Array<HandleResult>(bodies.length)
    const ops: DerivedOperation[] = []
    const spans: Span[] = []
    let writer: string | undefined
    for (const [index, body] of bodies.entries()) {
      const parsed = parseEnvelope(body)
      // Only fixed reasons and the event type are logged: never a body, an id or a context value.
      if (!parsed.ok) {
        log.warn({ reason: parsed.reason }, 'nova notification refused')
        results[index] = { kind: 'poison', reason: parsed.reason }
        continue
      }
      const { message } = parsed
      if (spans.length === 0) writer = await writerOf()
      const writes = notificationWrites(message, writer)
      if (writes.kind === 'poison') {
        log.warn(
          { eventType: message.eventType, reason: writes.reason },
          'nova notification refused',
        )
        results[index] = writes
        continue
      }
      if (writes.kind === 'ignored') {
        results[index] = writes
        continue
      }
      spans.push({
        index,
        eventType: message.eventType,
        first: ops.length,
        writes: writes.ops.length,
      })
      ops.push(...writes.ops, { op: 'message_receipt', input: { messageId: message.messageId } })
    }
    if (spans.length === 0) return results
    const outcomes = await service.applyDerived(ops)
    for (const span of spans)
      results[span.index] = settle(span, outcomes.slice(span.first, span.first + span.writes + 1))
    return results
  }
  return {
    async handle(body: Buffer): Promise<HandleResult> {
      const [result] = await handleBatch([body])
      if (!result) throw new Error('no result for the message')
      return result
    },
    handleBatch,
  }
}
