/**
 * Timestamps are carried as strings in Nova's wire form, `YYYY-MM-DDTHH:MM:SS.ffffff` (UTC, always
 * six fraction digits, no zone). JavaScript's Date keeps only milliseconds, and Nova's API shows
 * microseconds, so the canonical string is the value: it sorts chronologically as text and
 * round-trips through every backend without loss.
 */
import { AppError } from './errors.js'

/** A UTC instant in Nova's canonical form, e.g. `2018-04-25T01:26:29.585618`. */
export type Timestamp = string & { readonly __brand: 'Timestamp' }

const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/

// Python iso8601's grammar: YYYY[-MM[-DD[(T| )hh[:mm[:ss[(.|,)frac]]]][Z|±hh[:mm]]]], plus the
// compact form without separators.
const ISO8601 = new RegExp(
  String.raw`^(\d{4})(?:-?(\d{2})(?:-?(\d{2})` + // date
    String.raw`(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?` + // time
    String.raw`(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$`, // offset
)

/** True when `value` is already in canonical form. */
export function isCanonicalTimestamp(value: string): value is Timestamp {
  return CANONICAL.test(value) && parseTimestamp(value) === value
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/** Formats epoch microseconds as a canonical Timestamp. */
export function fromEpochMicros(micros: bigint): Timestamp {
  const ms = Number(micros / 1000n)
  const frac = Number(((micros % 1_000_000n) + 1_000_000n) % 1_000_000n)
  const d = new Date(ms)
  if (Number.isNaN(d.getTime())) throw new AppError('invalid_input', 'timestamp out of range')
  return (`${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}` +
    `.${pad(frac, 6)}`) as Timestamp
}

/** Epoch microseconds of a canonical Timestamp. */
export function toEpochMicros(ts: Timestamp): bigint {
  const ms = Date.parse(`${ts.slice(0, 19)}Z`)
  return BigInt(ms) * 1000n + BigInt(ts.slice(20, 26))
}

/**
 * Parses an ISO 8601 string the way Nova's `iso8601` dependency does (a value without a zone is
 * UTC) and returns the canonical UTC form, or `undefined` when it does not parse or names an
 * impossible date. Fractions beyond microseconds are truncated.
 */
export function parseTimestamp(value: string): Timestamp | undefined {
  const m = ISO8601.exec(value)
  if (!m) return undefined
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', frac = '', zone] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = Number(s)
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
    return undefined
  }
  const base = Date.UTC(year, month - 1, day, hour, minute, second)
  const check = new Date(base)
  // Date.UTC maps years 0-99 to 1900+; setUTCFullYear restores the literal year.
  check.setUTCFullYear(year)
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined
  let offsetMinutes = 0
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    const oh = Number(digits.slice(0, 2))
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0
    if (oh > 23 || om > 59) return undefined
    offsetMinutes = sign * (oh * 60 + om)
  }
  const micros =
    BigInt(check.getTime() - offsetMinutes * 60_000) * 1000n +
    BigInt(frac.padEnd(6, '0').slice(0, 6))
  if (micros < -62135596800000000n || micros > 253402300799999999n) return undefined
  return fromEpochMicros(micros)
}

/** Source of "now"; injected so tests and replays control time. */
export interface Clock {
  now(): Timestamp
}

/**
 * The system clock with microsecond resolution: wall-clock milliseconds at start-up plus a
 * monotonic high-resolution offset, so successive readings never go backwards. The offset is
 * `performance.now()` (sub-microsecond in Node, coarser in browsers) rather than Node's
 * `process.hrtime`, because the standalone client uses this clock in browsers too.
 */
export function systemClock(): Clock {
  const startMicros = BigInt(Date.now()) * 1000n
  const startPerf = performance.now()
  let last = 0n
  return {
    now() {
      let t = startMicros + BigInt(Math.floor((performance.now() - startPerf) * 1000))
      if (t <= last) t = last + 1n
      last = t
      return fromEpochMicros(t)
    },
  }
}
