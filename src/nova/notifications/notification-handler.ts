/**
 * The pure part of the Nova follower: one AMQP message body in, the ActionTrail writes it implies
 * committed (or a reason why not) out. The AMQP consumer around it (E2) acks `applied`,
 * `duplicate` and `ignored`, dead-letters `poison`, and requeues when `handle` rejects.
 */
import type { Logger } from 'pino'
import type { ActionService } from '../../domain/action-service.js'

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
}

/** What the handler needs. */
export interface NotificationHandlerDeps {
  service: ActionService
  log: Logger
  /** Writer tag the derived records carry (default `nova-notifications`). */
  writerTag?: string
}

/** The default writer tag of records derived from Nova's notifications. */
export const NOVA_NOTIFICATIONS_WRITER = 'nova-notifications'

/** Creates the handler. */
export function createNotificationHandler(deps: NotificationHandlerDeps): NotificationHandler {
  void deps
  return {
    async handle(): Promise<HandleResult> {
      return { kind: 'poison', reason: 'not implemented yet' }
    },
  }
}
