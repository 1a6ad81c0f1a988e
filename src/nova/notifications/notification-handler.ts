/**
 * The contract between the AMQP follower (nova/follow/) and what turns one Nova notification into
 * ActionTrail writes. STAND-IN: helper E1 owns this file (branch h-e1); the integrator takes E1's
 * version, which must keep exactly this shape.
 */

/** What became of one notification. */
export type HandleResult =
  | { kind: 'applied'; writes: number }
  | { kind: 'duplicate' }
  | { kind: 'ignored'; reason: string }
  | { kind: 'poison'; reason: string }

/** Resolves only after the writes are committed; rejects on a transient failure (store down): requeue. */
export interface NotificationHandler {
  handle(body: Buffer): Promise<HandleResult>
}
