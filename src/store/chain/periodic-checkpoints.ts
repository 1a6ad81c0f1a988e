/**
 * The server's periodic checkpoints: with a signing key, every interval a checkpoint of the head is
 * signed and stored, when the head has moved past the newest checkpoint (an idle store gets no
 * new ones). Several nodes on one database each check before writing; two that check at the same
 * moment may both write one, which costs a row and proves the same thing twice.
 */
import type { SigningKey } from '../../security/chain/checkpoint-signature.js'
import type { Checkpoint } from './checkpoints.js'
import type { CheckpointLog } from './checkpoint-log.js'

/** Default interval between periodic checkpoints (ACTIONTRAIL_CHECKPOINT_INTERVAL, seconds). */
export const DEFAULT_CHECKPOINT_INTERVAL_S = 300

/** What the periodic writer needs. */
export interface PeriodicCheckpointOptions {
  log: CheckpointLog
  key: SigningKey
  intervalMs: number
  /** The current canonical time. */
  now: () => string
  /** Told of each checkpoint written. */
  onWritten?: (checkpoint: Checkpoint) => void
  /** Told of a failed attempt (the next interval tries again). */
  onError?: (err: unknown) => void
}

/** One attempt: writes a checkpoint when the head moved; what it wrote, if anything. */
export async function checkpointIfMoved(
  o: Pick<PeriodicCheckpointOptions, 'log' | 'key' | 'now'>,
): Promise<Checkpoint | undefined> {
  const { head, checkpoint } = await o.log.positions()
  if (head <= checkpoint) return undefined
  return o.log.write(o.key, { reason: 'periodic', now: o.now() })
}

/** Starts the timer; `stop` ends it (an attempt under way finishes on its own). */
export function startPeriodicCheckpoints(o: PeriodicCheckpointOptions): { stop(): void } {
  let running = false
  const timer = setInterval(() => {
    if (running) return
    running = true
    checkpointIfMoved(o)
      .then((c) => c && o.onWritten?.(c))
      .catch((err: unknown) => o.onError?.(err))
      .finally(() => (running = false))
  }, o.intervalMs)
  // A checkpoint is never a reason to keep the process alive.
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
