/** Runs write programs in one transaction; each backend supplies one. */
import type { WriteOutcome } from '../../domain/write-operation.js'
import type { StoreWrite } from '../action-store.js'

/**
 * Executes writes in order in a single transaction, each inside its own savepoint: a write that
 * fails with an AppError is rolled back alone and reported; any other error rolls back the whole
 * transaction and rejects.
 */
export interface WriteExecutor {
  execute(ops: readonly StoreWrite[]): Promise<WriteOutcome[]>
}
