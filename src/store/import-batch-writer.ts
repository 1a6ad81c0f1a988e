/**
 * How a bulk import (issue 12, `actiontrail import --from-nova-db`) writes a batch: the instances
 * it names, then its complete actions with their events, in one transaction. Online that is one
 * `store.write` of the `import_instances` and `import_actions` programs (write/import-program.ts);
 * an offline load (offline-load.ts) has a writer of its own that produces the same rows and
 * change-feed positions without the programs' read-backs (sqlite/sqlite-offline-import.ts).
 */
import type { ImportCounts, WriteOutcome } from '../domain/write-operation.js'
import type { ActionStore, ImportedAction, ImportedInstance, StoreWrite } from './action-store.js'
import type { ChainAhead, ChainCursor } from './sqlite/offline-batch-layout.js'

/** What one batch did with its records. */
export interface ImportBatchCounts {
  instances: ImportCounts
  actions: ImportCounts
  /** An offline writer's: where the load stands after the batch (see chainCursor). */
  cursor?: ChainCursor
}

/** Writes import batches. */
export interface ImportBatchWriter {
  /**
   * In one transaction, as `store.write([{ op: 'import_instances', instances }, { op:
   * 'import_actions', actions, writer }])` (the second left out when `actions` is empty). Resolves
   * once the batch is committed; a failure rolls the whole batch back.
   */
  importBatch(
    instances: readonly ImportedInstance[],
    actions: readonly ImportedAction[],
    writer?: string,
    ahead?: ChainAhead,
  ): Promise<ImportBatchCounts>
  /**
   * An offline writer's (it hands out ids and change positions itself): where the load stands
   * now, for a reader that plans each batch's hash chain ahead (`ahead` above; the writer takes a
   * plan only for the batch it fits: sqlite/offline-batch-layout.ts). Each batch's counts then
   * carry where it stands after that batch.
   */
  chainCursor?(): Promise<ChainCursor>
}

const none = (): ImportCounts => ({ created: 0, existing: 0, skipped: 0 })

function countsOf(outcome: WriteOutcome | undefined): ImportCounts {
  if (!outcome?.ok) throw outcome?.error ?? new Error('bulk import produced no outcome')
  if (outcome.record.kind !== 'import') throw new Error('bulk import produced no counts')
  return outcome.record.counts
}

/** The online writer: the bulk import programs, through `store.write`. */
export function storeImportWriter(store: ActionStore): ImportBatchWriter {
  return {
    async importBatch(instances, actions, writer) {
      const writes: StoreWrite[] = [{ op: 'import_instances', instances }]
      if (actions.length > 0) writes.push({ op: 'import_actions', actions, writer })
      const [i, a] = await store.write(writes)
      return { instances: countsOf(i), actions: actions.length > 0 ? countsOf(a) : none() }
    },
  }
}
