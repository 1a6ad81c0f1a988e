/**
 * Stuck work (issue 10): an action (or event) that never finished although it started longer ago
 * than its action name is expected to take. Nova leaves such records unfinished when a service
 * dies or a message is lost mid-operation, so "unfinished" alone mostly finds work in progress;
 * the deadline tells the two apart. Durations are configured per action name with a default.
 * Pure: no clock of its own, no SQL; the caller passes "now".
 */
import { AppError } from './errors.js'
import { fromEpochMicros, toEpochMicros, type Timestamp } from './timestamp.js'

/** How long work may run before it counts as stuck: a default and per-action-name overrides. */
export interface StuckPolicy {
  /** Microseconds; applies to every action name without an override. */
  defaultMicros: bigint
  /** Action name → microseconds. */
  byAction: ReadonlyMap<string, bigint>
}

/** The start times before which unfinished work is stuck, at one moment. */
export interface StuckDeadlines {
  /** For action names without an override. */
  before: Timestamp
  /** [action name, deadline] for the overridden names, in name order. */
  byAction: readonly (readonly [string, Timestamp])[]
}

/** The default deadline when none is configured (ACTIONTRAIL_STUCK_AFTER). */
export const DEFAULT_STUCK_AFTER = '1h'

const UNIT_MICROS: Record<string, bigint> = {
  s: 1_000_000n,
  m: 60_000_000n,
  h: 3_600_000_000n,
  d: 86_400_000_000n,
}

/** The longest accepted duration: 10 years (a longer one is a typo, not a deadline). */
const MAX_MICROS = 10n * 366n * UNIT_MICROS.d!

/**
 * Parses a duration: a whole number and a unit, `90s`, `30m`, `1h`, `2d`; at least one second and
 * at most ten years. Throws `invalid_input` naming `what` for anything else.
 */
export function parseDuration(text: string, what: string): bigint {
  const m = /^(\d{1,9})([smhd])$/.exec(text.trim())
  const micros = m ? BigInt(m[1]!) * UNIT_MICROS[m[2]!]! : 0n
  if (!m || micros === 0n || micros > MAX_MICROS)
    throw new AppError(
      'invalid_input',
      `${what} must be a duration such as 90s, 30m, 1h or 2d (1s to 10 years), ` +
        `got ${JSON.stringify(text.slice(0, 40))}`,
    )
  return micros
}

/**
 * Parses the policy: `after` as parseDuration, `perAction` a comma-separated list of
 * `name=duration` (`live-migration=6h,resize=2h`; empty for none). A name given twice is refused.
 */
export function parseStuckPolicy(after: string, perAction = ''): StuckPolicy {
  const byAction = new Map<string, bigint>()
  for (const part of perAction.split(',')) {
    if (part.trim() === '') continue
    const eq = part.indexOf('=')
    const name = eq < 0 ? '' : part.slice(0, eq).trim()
    if (name === '')
      throw new AppError(
        'invalid_input',
        `stuck-after-actions entries must be name=duration, got ${JSON.stringify(part.slice(0, 40))}`,
      )
    if (byAction.has(name))
      throw new AppError('invalid_input', `stuck-after-actions names '${name}' twice`)
    byAction.set(name, parseDuration(part.slice(eq + 1), `stuck-after-actions '${name}'`))
  }
  return { defaultMicros: parseDuration(after, 'stuck-after'), byAction }
}

/** The policy when nothing is configured: everything is stuck after DEFAULT_STUCK_AFTER. */
export function defaultStuckPolicy(): StuckPolicy {
  return parseStuckPolicy(DEFAULT_STUCK_AFTER)
}

function minus(now: Timestamp, micros: bigint): Timestamp {
  // Before year 1 nothing can have started: clamp rather than produce an invalid time.
  const t = toEpochMicros(now) - micros
  const min = -62135596800000000n
  return fromEpochMicros(t < min ? min : t)
}

/** The deadlines at `now`: unfinished work that started strictly before its deadline is stuck. */
export function stuckDeadlines(policy: StuckPolicy, now: Timestamp): StuckDeadlines {
  return {
    before: minus(now, policy.defaultMicros),
    byAction: [...policy.byAction]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, micros]) => [name, minus(now, micros)] as const),
  }
}
