/**
 * Opens the audit-trail store for an offline bulk load (offline-load.ts): migrated, taken for this
 * process alone, its search indexes dropped until {@link OfflineStore.finish}.
 */
import { AppError } from '../domain/errors.js'
import type { ActionStore } from './action-store.js'
import { storeImportWriter, type ImportBatchWriter } from './import-batch-writer.js'
import { KyselyActionStore } from './kysely-action-store.js'
import { migrateToLatest } from './migrate.js'
import type { OfflineLoad } from './offline-load.js'
import { openDatabase } from './open-store.js'

/** A store in offline bulk-load mode. */
export interface OfflineStore {
  /** Reads and writes as usual. */
  readonly store: ActionStore
  /** Writes the import batches, faster than `store.write` (see OfflineLoad.importer). */
  readonly importer: ImportBatchWriter
  /** Search indexes missing when the load began (dropped now or by an interrupted run). */
  readonly missingIndexes: number
  /** Rebuilds the indexes and gives the store back to everyone (see OfflineLoad.finish). */
  finish: OfflineLoad['finish']
  /**
   * Closes the store. Without finish, the indexes stay missing until an offline load on the
   * store finishes (every query still answers, more slowly).
   */
  close(): Promise<void>
}

/**
 * Opens `database` (an SQLite file; server databases are refused with `invalid_input`) for an
 * offline load. Fails with `store_unavailable` when another process has the store open.
 */
export async function openOfflineStore(database: string): Promise<OfflineStore> {
  const opened = openDatabase(database)
  try {
    const offline = opened.offlineLoad
    if (!offline)
      throw new AppError(
        'invalid_input',
        'an offline import needs an SQLite store file; import into PostgreSQL or MariaDB/MySQL online',
      )
    await migrateToLatest(opened.db)
    const missingIndexes = await offline.begin()
    opened.serving?.()
    const store = new KyselyActionStore(opened)
    return {
      store,
      importer: offline.importer(storeImportWriter(store)),
      missingIndexes,
      finish: (onIndex) => offline.finish(onIndex),
      close: () => store.close(),
    }
  } catch (err) {
    await opened.db.destroy()
    throw err
  }
}
