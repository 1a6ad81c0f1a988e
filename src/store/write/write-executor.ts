/** Runs write programs in one transaction; each backend supplies one. */
import type { WriteOutcome } from '../../domain/write-operation.js'
import type { StoreWrite } from '../action-store.js'

/** What the caller of `execute` tells the executor besides the writes. */
export interface ExecuteOptions {
  /**
   * When (performance.now()) the oldest of the writes was queued: an executor that waits for a
   * lock (SQLite) counts its wait from there, so a write queued behind a waiting one does not wait
   * twice as long.
   */
  queuedAt?: number
}

/**
 * Executes writes in order in a single transaction: a write that fails with an AppError before
 * changing anything is reported as its outcome; any other error rolls back the whole transaction
 * and rejects.
 */
export interface WriteExecutor {
  execute(ops: readonly StoreWrite[], options?: ExecuteOptions): Promise<WriteOutcome[]>
  /**
   * How many transactions may run at once (default 1). More than one only where transactions
   * run on separate connections and lose races safely (the server databases' retries).
   */
  readonly concurrency?: number
}
