/**
 * Opens a PostgreSQL hot standby (ACTIONTRAIL_DB_READ) for the reads a replica may serve
 * (read-replica.ts), with its lag checked periodically against the primary (standby-lag.ts).
 * The standby is not required at start-up: while it is down or too far behind, the primary
 * serves those reads, and the standby is used again once a check finds it back within the bound.
 */
import type { Kysely } from 'kysely'
import { KyselyActionStore } from '../kysely-action-store.js'
import { ReplicaReads, type QueryReads } from '../read-replica.js'
import type { StoreDatabase } from '../store-database.js'
import { openPostgresDatabase } from './postgres-database.js'
import { StandbyLag } from './standby-lag.js'

/** What openStandbyReads needs. */
export interface StandbyReadsOptions {
  /** The primary's opened database (its lag reference) and its reads (the fallback). */
  primary: StoreDatabase
  primaryReads: QueryReads
  /** The standby's URL and pool size. */
  url: string
  poolMax: number
  /** The lag bound in milliseconds. */
  maxLagMs: number
  /** Told when the standby is skipped or used again (standby-lag.ts). */
  onChange?: (message: string, usable: boolean) => void
}

/** The routed reads and the standby behind them. */
export interface StandbyReads {
  reads: ReplicaReads
  /** The standby's measured lag (ms), undefined while it is not usable at all. */
  lagMs(): number | undefined
  /** Stops the checks and closes the standby's pool. */
  close(): Promise<void>
}

/**
 * Opens the standby's pool and checks it once before resolving (a standby that does not answer is
 * skipped, at worst after the pool's 10 s connect timeout), then every interval.
 */
export async function openStandbyReads(options: StandbyReadsOptions): Promise<StandbyReads> {
  // No write path runs on it (QueryReads has no writes); the store is built for its reads only.
  const standby = openPostgresDatabase({ url: options.url, poolMax: options.poolMax })
  const lag = new StandbyLag(
    options.primary.db as unknown as Kysely<unknown>,
    standby.db as unknown as Kysely<unknown>,
    {
      maxLagMs: options.maxLagMs,
      ...(options.onChange ? { onChange: options.onChange } : {}),
    },
  )
  const reads = new ReplicaReads(options.primaryReads, new KyselyActionStore(standby), lag)
  await lag.check()
  lag.start()
  return {
    reads,
    lagMs: () => lag.lagMs(),
    async close() {
      await lag.stop()
      await standby.db.destroy()
    },
  }
}
