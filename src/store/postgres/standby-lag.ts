/**
 * How far a PostgreSQL hot standby is behind its primary, measured cheaply and periodically, and
 * whether it may serve reads (ACTIONTRAIL_DB_READ, bounded by ACTIONTRAIL_DB_READ_MAX_LAG_MS).
 *
 * `now() - pg_last_xact_replay_timestamp()` is not used: on an idle primary the last replayed
 * commit ages although nothing is missing, and after a quiet hour one fresh commit in flight would
 * count as an hour behind. Instead each check samples the primary's WAL insert position with the
 * time, then reads the standby's replay position: a standby that has replayed up to a sample holds
 * everything the primary had committed at that sample's time, so it is at most `now - that time`
 * behind. On an idle primary the position does not move and the standby is current. The bound is
 * thus measured with the resolution of the check interval (busy primary: about one interval).
 * The insert position (not the write position) counts commits made with synchronous_commit=off
 * that are not yet written out.
 *
 * The replay timestamp still gives a bound of its own, used when it is the better one: the standby
 * holds every commit up to the last one it replayed, so it is at most that commit's age behind. A
 * process that has just started has no sample the standby has replayed yet; with this, a standby
 * that is behind but replayed a recent commit is usable at once. (The age is computed on the
 * standby from the primary's commit time, so it assumes their clocks agree, as NTP keeps them.)
 */
import { sql, type Kysely } from 'kysely'

/** Options of StandbyLag. */
export interface StandbyLagOptions {
  /** A standby further behind than this is not used (ACTIONTRAIL_DB_READ_MAX_LAG_MS). */
  maxLagMs: number
  /** Milliseconds between checks; by default a quarter of the bound, from 100 to 1000. */
  intervalMs?: number
  /** The clock in milliseconds (tests); Date.now by default. */
  now?: () => number
  /**
   * Told, with a message for operators, when a check finds the standby's state changed: skipped
   * (down, not a standby, or over the bound) or used again. No URL, so no password, in it.
   */
  onChange?: (message: string, usable: boolean) => void
}

/** Why the standby is not used, or that it is. */
type StandbyState = 'usable' | 'down' | 'not a standby' | 'behind'

const STATE_MESSAGES: Readonly<Record<StandbyState, string>> = {
  usable: 'the read replica (ACTIONTRAIL_DB_READ) serves the query API',
  down: 'the read replica (ACTIONTRAIL_DB_READ) does not answer; the query API reads the primary',
  'not a standby':
    'the read replica (ACTIONTRAIL_DB_READ) is not in recovery (promoted?); the query API reads the primary',
  behind:
    'the read replica (ACTIONTRAIL_DB_READ) is further behind than ACTIONTRAIL_DB_READ_MAX_LAG_MS; ' +
    'the query API reads the primary',
}

/** A primary's WAL position and when it was read. */
interface Sample {
  at: number
  lsn: bigint
}

// Samples kept at most: with checks at least every 100 ms, more than the longest bound needs
// (older, unreplayed ones only make the standby look staler, never fresher).
const MAX_SAMPLES = 600

/** Parses a pg_lsn text (`16/B374D848`) into a comparable number. */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(text)
  if (!m) throw new Error(`not a WAL position: ${text.slice(0, 40)}`)
  return (BigInt(`0x${m[1] ?? '0'}`) << 32n) | BigInt(`0x${m[2] ?? '0'}`)
}

/** The replication lag of one standby, checked periodically. */
export class StandbyLag {
  readonly #primary: Kysely<unknown>
  readonly #standby: Kysely<unknown>
  readonly #maxLagMs: number
  readonly #intervalMs: number
  readonly #now: () => number
  #samples: Sample[] = []
  /** The standby holds everything committed on the primary before this time. */
  #freshAt: number | undefined
  /** The last check reached the standby and found it replaying. */
  #up = false
  /** Why the last check found the standby unusable (when it was not down). */
  #notStandby = false
  /** The state last reported to onChange (undefined before the first check). */
  #reported: StandbyState | undefined
  readonly #onChange: StandbyLagOptions['onChange']
  #timer: NodeJS.Timeout | undefined
  #checking: Promise<void> | undefined

  constructor(primary: Kysely<unknown>, standby: Kysely<unknown>, options: StandbyLagOptions) {
    this.#primary = primary
    this.#standby = standby
    this.#maxLagMs = options.maxLagMs
    this.#intervalMs =
      options.intervalMs ?? Math.min(1000, Math.max(100, Math.floor(options.maxLagMs / 4)))
    this.#now = options.now ?? Date.now
    this.#onChange = options.onChange
  }

  /**
   * How far behind the standby is now, in milliseconds; undefined when it is down, not a standby,
   * or not yet checked. Computed at the call: when checks stop succeeding, the lag grows.
   */
  lagMs(): number | undefined {
    if (!this.#up || this.#freshAt === undefined) return undefined
    return Math.max(0, this.#now() - this.#freshAt)
  }

  /** True when reads may go to the standby: it answers and is within the bound. */
  usable(): boolean {
    const lag = this.lagMs()
    return lag !== undefined && lag <= this.#maxLagMs
  }

  /** A read on the standby failed (down, or a recovery conflict): not used until the next check. */
  markDown(): void {
    this.#up = false
  }

  /** Checks once now (the periodic checks call it; a check in progress is joined). */
  check(): Promise<void> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined
      this.#report()
    })
    return this.#checking
  }

  /** Tells onChange when the state differs from the last told (at start: only when unusable). */
  #report(): void {
    const state: StandbyState = this.usable()
      ? 'usable'
      : this.#notStandby
        ? 'not a standby'
        : this.#up
          ? 'behind'
          : 'down'
    const first = this.#reported === undefined
    if (state === this.#reported || (first && state === 'usable')) {
      this.#reported = state
      return
    }
    this.#reported = state
    this.#onChange?.(STATE_MESSAGES[state], state === 'usable')
  }

  async #check(): Promise<void> {
    const at = this.#now()
    try {
      const { rows } = await sql<{
        lsn: string
      }>`SELECT pg_current_wal_insert_lsn()::text AS lsn`.execute(this.#primary)
      const lsn = rows[0] ? parseLsn(rows[0].lsn) : undefined
      if (lsn !== undefined) this.#samples.push({ at, lsn })
      if (this.#samples.length > MAX_SAMPLES) this.#samples.shift()
    } catch {
      // The primary does not answer: no new sample, so the standby's lag grows from the last one
      // and it is dropped once over the bound (how far behind it is cannot be known).
    }
    try {
      const { rows } = await sql<{
        recovering: boolean
        replayed: string | null
        age: number | null
      }>`
        SELECT pg_is_in_recovery() AS recovering, pg_last_wal_replay_lsn()::text AS replayed,
          (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS age`.execute(
        this.#standby,
      )
      const row = rows[0]
      // Not (or no longer) a standby, e.g. promoted while ACTIONTRAIL_DB still names the old
      // primary: its data may differ from the primary's, so it serves nothing.
      this.#notStandby = !row || !row.recovering || row.replayed === null
      if (!row || this.#notStandby || row.replayed === null) {
        this.#up = false
        return
      }
      const replayed = parseLsn(row.replayed)
      // The newest sample the standby has replayed up to; older samples are no longer needed.
      let i = this.#samples.length - 1
      while (i >= 0 && (this.#samples[i] as Sample).lsn > replayed) i--
      if (i >= 0) {
        const fresh = this.#samples[i] as Sample
        this.#freshAt = Math.max(this.#freshAt ?? fresh.at, fresh.at)
        this.#samples = this.#samples.slice(i)
      }
      if (row.age !== null) {
        const replayedAt = at - Math.max(0, row.age)
        this.#freshAt = Math.max(this.#freshAt ?? replayedAt, replayedAt)
      }
      this.#up = true
    } catch {
      this.#up = false
      this.#notStandby = false
    }
  }

  /** Checks every interval until stopped (the first check is the caller's: `check`). */
  start(): void {
    if (this.#timer) return
    this.#timer = setInterval(() => void this.check(), this.#intervalMs)
    // The checks alone must not keep a process alive.
    this.#timer.unref()
  }

  /** Stops the checks and waits for one in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.#checking
  }
}
