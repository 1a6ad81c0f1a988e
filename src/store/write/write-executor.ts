/** Runs write programs in one transaction; each backend supplies one. */
import type { WriteOutcome } from '../../domain/write-operation.js'
import type { StoreWrite } from '../action-store.js'

/**
 * Executes writes in order in a single transaction: a write that fails with an AppError before
 * changing anything is reported as its outcome; any other error rolls back the whole transaction
 * and rejects.
 */
export interface WriteExecutor {
  execute(ops: readonly StoreWrite[]): Promise<WriteOutcome[]>
  /**
   * How many transactions may run at once (default 1). More than one only where transactions
   * run on separate connections and lose races safely (the server databases' retries).
   */
  readonly concurrency?: number
}
