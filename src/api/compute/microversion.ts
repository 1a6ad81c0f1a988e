/**
 * Compute API microversions: negotiation from `OpenStack-API-Version` / `X-OpenStack-Nova-API-Version`
 * exactly as Nova does it (docs/nova-behaviour.md §10.1), and comparison helpers for the views.
 */
import { AppError } from '../../domain/errors.js'

/** A negotiated microversion, e.g. 2.58 → { major: 2, minor: 58 }. */
export interface ApiVersion {
  major: number
  minor: number
}

/** Lowest supported microversion. */
export const MIN_VERSION: ApiVersion = { major: 2, minor: 1 }
/** Highest supported microversion (Nova 2026.2). */
export const MAX_VERSION: ApiVersion = { major: 2, minor: 104 }

const VERSION_PATTERN = /^([1-9]\d*)\.([1-9]\d*|0)$/

/**
 * How much of a requested version an answer repeats. Nova echoes the whole string, but a header
 * may be ~16 KiB and a reflected 10 KB value only amplifies whatever the client sent; 64
 * characters are far more than any real version (`2.104`) needs.
 */
export const ECHO_LIMIT = 64

/**
 * The requested version text as an answer may repeat it: whole up to ECHO_LIMIT characters,
 * otherwise cut there and marked with `...` (ASCII, because it is also echoed in a header).
 */
export function echoedVersion(text: string): string {
  return text.length <= ECHO_LIMIT ? text : `${text.slice(0, ECHO_LIMIT)}...`
}

/** Text form, e.g. "2.58". */
export function formatVersion(v: ApiVersion): string {
  return `${v.major}.${v.minor}`
}

/** Negative, zero or positive like a comparator. */
export function compareVersions(a: ApiVersion, b: ApiVersion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor
}

/** True when `v` is at least `major.minor`. */
export function atLeast(v: ApiVersion, minor: number, major = 2): boolean {
  return compareVersions(v, { major, minor }) >= 0
}

/** The requested version string from the headers, or undefined when none names one. */
export function requestedVersion(
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const join = (h: string | string[] | undefined): string | undefined =>
    Array.isArray(h) ? h.join(',') : h
  const standard = join(headers['openstack-api-version'])
  if (standard !== undefined) {
    let found: string | undefined
    for (const entry of standard.split(',')) {
      const [service, ...rest] = entry.trim().split(/\s+/)
      if (service && service.toLowerCase() === 'compute' && rest.length > 0) found = rest.join(' ')
    }
    if (found !== undefined) return found
  }
  const legacy = join(headers['x-openstack-nova-api-version'])
  if (legacy !== undefined) {
    const parts = legacy.split(',')
    return parts[parts.length - 1]?.trim()
  }
  return undefined
}

/** Thrown for a version outside the supported range: carries the version to echo in headers. */
export class UnsupportedVersionError extends AppError {
  /**
   * The requested version as the answer's headers repeat it: the client's own text, capped by
   * echoedVersion (its numbers may not even fit a double, e.g. `2.` and 10,000 digits).
   */
  readonly requested: string

  constructor(text: string) {
    super(
      'not_acceptable',
      `Version ${echoedVersion(text)} is not supported by the API. Minimum is ` +
        `${formatVersion(MIN_VERSION)} and maximum is ${formatVersion(MAX_VERSION)}.`,
    )
    this.requested = echoedVersion(text)
  }
}

/**
 * Negotiates the microversion: none → 2.1, `latest` → the maximum, malformed → `invalid_input`
 * (400), out of range → UnsupportedVersionError (406).
 */
export function negotiateVersion(
  headers: Record<string, string | string[] | undefined>,
): ApiVersion {
  const text = requestedVersion(headers)
  if (text === undefined) return MIN_VERSION
  if (text === 'latest') return MAX_VERSION
  const m = VERSION_PATTERN.exec(text)
  if (!m) {
    throw new AppError(
      'invalid_input',
      `API Version String ${echoedVersion(text)} is of invalid format. Must be of format ` +
        'MajorNum.MinorNum.',
    )
  }
  const v = { major: Number(m[1]), minor: Number(m[2]) }
  if (compareVersions(v, MIN_VERSION) < 0 || compareVersions(v, MAX_VERSION) > 0) {
    throw new UnsupportedVersionError(text)
  }
  return v
}
