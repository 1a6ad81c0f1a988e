/**
 * Offline bulk loading (issue 12, `actiontrail import --from-nova-db … --offline`): the first big
 * import into a store that nothing else uses yet. The store is taken for one connection alone, the
 * secondary search indexes of actions and events are dropped for the load and built again from
 * their own definitions afterwards, and the load runs with bulk settings.
 *
 * Why: every imported action with five events costs about a hundred B-tree inserts into the
 * search indexes of issue 10 (migrations 0004, 0005, 0008, 0009), in keys that arrive in no useful
 * order; a sorted build of each index afterwards is many times cheaper (bench:nova-import, the
 * offline row). What the import reads to stay idempotent (the unique (instance, request id) key)
 * is never dropped. The batches are written by the backend's own {@link OfflineLoad.importer},
 * which assigns ids and change positions itself, into the same rows and positions as an online
 * import.
 *
 * Interrupted, the store keeps the definitions of the indexes still missing (in its own database,
 * written in the transaction that dropped them): beginning again drops nothing twice, and
 * finishing rebuilds them. A store in that state answers every query, only more slowly.
 */

import type { ImportBatchWriter } from './import-batch-writer.js'

/** A backend's offline bulk-load mode (SQLite only: see sqlite/sqlite-offline-load.ts). */
export interface OfflineLoad {
  /**
   * Takes the database for this process alone, or fails with `store_unavailable` when another
   * connection has it open (a running server, another import); then drops the secondary search
   * indexes and switches to bulk settings. Returns how many indexes are missing now (dropped by
   * this call or by an interrupted run before it).
   */
  begin(): Promise<number>
  /**
   * Rebuilds every missing index from its saved definition (`onIndex` is told each one before it
   * is built), restores the normal settings and gives shared access back.
   */
  finish(onIndex?: (name: string, done: number, total: number) => void): Promise<void>
  /**
   * Writes import batches between begin and finish: the same rows and change positions as the
   * online programs, with the ids assigned by the writer (nothing else writes meanwhile); a
   * batch that needs merging (actions the store has) is handed to `online`.
   */
  importer(online: ImportBatchWriter): ImportBatchWriter
}
