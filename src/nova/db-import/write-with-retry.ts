/**
 * An import batch written again while the store says it is unavailable for a while.
 *
 * Why: an import beside a live follower (issue 12, "backfill, database import and the live
 * follower together") writes the same actions at the same time. On MariaDB the two transactions
 * can deadlock over the same rows and the change counter; the store retries a deadlocked write 5
 * times in ~300 ms (store/write/async-write-executor.ts) and then answers `store_unavailable`.
 * A follower requeues such a message; an import stopped there, although its batch is idempotent
 * and its checkpoint had not moved (seen in CI: test/nova/three-sources.test.ts, once the cell
 * was read on its own thread and the import overlapped the follower's writes). The same wait rides
 * out a database that is away for a few seconds.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { isAppError } from '../../domain/errors.js'
import { backoffDelay, type Backoff } from '../follow/backoff.js'

/** Attempts of one batch before the import stops with the store's error. */
export const IMPORT_WRITE_ATTEMPTS = 8

/** Waits between them: up to 0.1, 0.2, … 5 s (about 13 s in all at most). */
export const IMPORT_WRITE_BACKOFF: Backoff = { initialMs: 100, maxMs: 5000 }

/**
 * Runs `write` until it succeeds, retrying only `store_unavailable`, at most
 * {@link IMPORT_WRITE_ATTEMPTS} times; an abort stops the waiting (the last error is thrown).
 */
export async function writeWithRetry<T>(
  write: () => Promise<T>,
  signal?: AbortSignal,
  wait: (ms: number) => Promise<unknown> = sleep,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write()
    } catch (err) {
      if (
        !isAppError(err, 'store_unavailable') ||
        attempt + 1 >= IMPORT_WRITE_ATTEMPTS ||
        signal?.aborted
      )
        throw err
      await wait(backoffDelay(IMPORT_WRITE_BACKOFF, attempt))
    }
  }
}
