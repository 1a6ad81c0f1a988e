/** The checkpoints of one opened database as the server uses them (list for the API, write). */
import type { Kysely } from 'kysely'
import type { SigningKey } from '../../security/chain/checkpoint-signature.js'
import { withMappedErrors, type StoreDatabase } from '../store-database.js'
import { queryRows } from './run-plain-program.js'
import {
  lastCheckpointPosition,
  listCheckpoints,
  writeCheckpoint,
  type Checkpoint,
  type CheckpointReason,
} from './checkpoints.js'

/** Checkpoints on one database; failures of the database are `store_unavailable`. */
export interface CheckpointLog {
  /** Checkpoints with id > `after`, oldest first, at most `limit`. */
  list(after: number, limit: number): Promise<Checkpoint[]>
  /** Signs and stores a checkpoint of the head (undefined when nothing is chained yet). */
  write(
    key: SigningKey,
    options: { reason: CheckpointReason; now: string; summary?: Record<string, unknown> },
  ): Promise<Checkpoint | undefined>
  /** The chain's head position and the newest checkpoint's position. */
  positions(): Promise<{ head: number; checkpoint: number }>
}

/** The checkpoint log of an opened store database. */
export function checkpointLog(database: StoreDatabase): CheckpointLog {
  const db = database.db as unknown as Kysely<unknown>
  return {
    list: (after, limit) => withMappedErrors(database, () => listCheckpoints(db, { after, limit })),
    write: (key, options) => withMappedErrors(database, () => writeCheckpoint(db, key, options)),
    positions: () =>
      withMappedErrors(database, async () => {
        const [head] = await queryRows(db, 'SELECT last FROM change_head WHERE id = 1')
        return { head: Number(head?.last ?? 0), checkpoint: await lastCheckpointPosition(db) }
      }),
  }
}
