/**
 * The retention policy a running server applies (issue 13; docs/operations.md, "Retention"):
 * `--keep-days N` (ACTIONTRAIL_KEEP_DAYS) archives the history of instances deleted more than N
 * days ago; `--keep-days-project p1=30,p2=365` (ACTIONTRAIL_KEEP_DAYS_PROJECT) gives projects
 * periods of their own; `--purge-after-days M` (ACTIONTRAIL_PURGE_AFTER_DAYS, off by default)
 * deletes archived rows of instances deleted more than M days ago, so M must be at least every
 * keep period (archived history is then readable for M minus N days). How often and how gently it
 * runs: ACTIONTRAIL_RETENTION_INTERVAL_MS, _BATCH_MS, _PAUSE_MS and _BATCH.
 */
import { AppError } from '../domain/errors.js'
import { MAX_TIMED_BATCH_ACTIONS } from '../store/retention-store.js'

/**
 * The time a batch of the server's job aims at (ACTIONTRAIL_RETENTION_BATCH_MS). On SQLite a write
 * that arrives during a batch waits for all of it; 5 ms keeps writes' p99 under the issue's 20 ms
 * (bench/archive.ts, docs/benchmarks.md, issue 13).
 */
export const DEFAULT_RETENTION_BATCH_MS = 5

/** The shortest pause between two batches of the server's job (ACTIONTRAIL_RETENTION_PAUSE_MS). */
export const DEFAULT_RETENTION_PAUSE_MS = 5

/**
 * The server's job pauses after a batch at least as long as the batch took, so it holds the
 * write lock at most about half of the time (RetentionRunOptions.restFactor).
 */
export const RETENTION_REST_FACTOR = 1

/** The policy, as resolved from flags and environment. */
export interface RetentionPolicy {
  /** Days a deleted instance's history stays live; absent: only the projects listed are archived. */
  keepDays?: number
  /** Per-project periods, overriding keepDays for those projects. */
  keepDaysByProject: readonly (readonly [project: string, days: number])[]
  /** Days after its instance's deletion an archived row is purged; absent: never. */
  purgeAfterDays?: number
  /** Between two runs (default one hour). */
  intervalMs: number
  /** Between two batches of a run, so writers get the database in between. */
  pauseMs: number
  /** The time each batch aims at; its size follows from the previous batch's duration. */
  batchMs: number
  /** The most actions (with their events) a batch may hold (default MAX_TIMED_BATCH_ACTIONS). */
  batchActions: number
}

/** Flags of `serve` that set the policy (absent flags fall back to the environment). */
export interface RetentionFlags {
  keepDays?: string
  keepDaysProject?: string
  purgeAfterDays?: string
}

const MAX_DAYS = 36_500

function days(name: string, text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > MAX_DAYS)
    throw new AppError(
      'invalid_input',
      `${name} must be a whole number of days from 1 to ${MAX_DAYS}, got ${JSON.stringify(text.slice(0, 40))}`,
    )
  return Number(text)
}

function whole(name: string, text: string | undefined, fallback: number, min: number, max: number) {
  if (text === undefined || text === '') return fallback
  if (!/^\d{1,10}$/.test(text) || Number(text) < min || Number(text) > max)
    throw new AppError(
      'invalid_input',
      `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text.slice(0, 40))}`,
    )
  return Number(text)
}

/** Parses `p1=30,p2=365`. */
export function parseProjectDays(text: string): [string, number][] {
  const out: [string, number][] = []
  const seen = new Set<string>()
  for (const part of text.split(',')) {
    const item = part.trim()
    if (item === '') continue
    const eq = item.lastIndexOf('=')
    const project = item.slice(0, eq).trim()
    if (eq <= 0 || project === '')
      throw new AppError(
        'invalid_input',
        `ACTIONTRAIL_KEEP_DAYS_PROJECT (--keep-days-project): expected PROJECT=DAYS, ` +
          `got ${JSON.stringify(item.slice(0, 80))}`,
      )
    if (seen.has(project))
      throw new AppError('invalid_input', '--keep-days-project names a project twice')
    seen.add(project)
    out.push([project, days('--keep-days-project', item.slice(eq + 1).trim())])
  }
  return out
}

/** The policy from flags and environment; undefined when no keep period is set (retention off). */
export function resolveRetentionPolicy(
  flags: RetentionFlags,
  env: NodeJS.ProcessEnv = process.env,
): RetentionPolicy | undefined {
  const keepText = flags.keepDays ?? env.ACTIONTRAIL_KEEP_DAYS
  const projectText = flags.keepDaysProject ?? env.ACTIONTRAIL_KEEP_DAYS_PROJECT ?? ''
  const purgeText = flags.purgeAfterDays ?? env.ACTIONTRAIL_PURGE_AFTER_DAYS
  const byProject = parseProjectDays(projectText)
  const keepDays = keepText ? days('ACTIONTRAIL_KEEP_DAYS (--keep-days)', keepText) : undefined
  if (keepDays === undefined && byProject.length === 0) {
    if (purgeText)
      throw new AppError(
        'invalid_input',
        '--purge-after-days needs a keep period (--keep-days or --keep-days-project)',
      )
    return undefined
  }
  const policy: RetentionPolicy = {
    keepDaysByProject: byProject,
    intervalMs: whole(
      'ACTIONTRAIL_RETENTION_INTERVAL_MS',
      env.ACTIONTRAIL_RETENTION_INTERVAL_MS,
      3_600_000,
      1000,
      604_800_000,
    ),
    pauseMs: whole(
      'ACTIONTRAIL_RETENTION_PAUSE_MS',
      env.ACTIONTRAIL_RETENTION_PAUSE_MS,
      DEFAULT_RETENTION_PAUSE_MS,
      0,
      60_000,
    ),
    batchMs: whole(
      'ACTIONTRAIL_RETENTION_BATCH_MS',
      env.ACTIONTRAIL_RETENTION_BATCH_MS,
      DEFAULT_RETENTION_BATCH_MS,
      1,
      60_000,
    ),
    batchActions: whole(
      'ACTIONTRAIL_RETENTION_BATCH',
      env.ACTIONTRAIL_RETENTION_BATCH,
      MAX_TIMED_BATCH_ACTIONS,
      1,
      10_000,
    ),
  }
  if (keepDays !== undefined) policy.keepDays = keepDays
  if (purgeText) {
    const purge = days('ACTIONTRAIL_PURGE_AFTER_DAYS (--purge-after-days)', purgeText)
    const longest = Math.max(keepDays ?? 0, ...byProject.map(([, d]) => d))
    // Purging before archiving would delete archived rows that a longer keep period still wants
    // live; the archive would then keep what the purge already passed.
    if (purge < longest)
      throw new AppError(
        'invalid_input',
        `--purge-after-days (${purge}) must be at least the longest keep period (${longest} days)`,
      )
    policy.purgeAfterDays = purge
  }
  return policy
}
