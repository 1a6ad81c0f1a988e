/** What the Nova follower has done since it started (for issue 14's metrics and the periodic log). */
export interface FollowCounters {
  /** Messages delivered to the follower (redeliveries included). */
  received: number
  /** Notifications whose writes were committed. */
  applied: number
  /** Notifications already recorded (the same message_id seen before). */
  duplicate: number
  /** Notifications with nothing to record (other event types). */
  ignored: number
  /** Messages that can never be processed, moved to the dead-letter queue. */
  deadLettered: number
  /** Messages handed back to the broker after a transient failure (store down). */
  requeued: number
  /** Connections made again after a connection was lost or its set-up failed. */
  reconnects: number
}

/** A zeroed set of counters. */
export function zeroCounters(): FollowCounters {
  return {
    received: 0,
    applied: 0,
    duplicate: 0,
    ignored: 0,
    deadLettered: 0,
    requeued: 0,
    reconnects: 0,
  }
}
