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
  readonly requested: ApiVersion

  constructor(requested: ApiVersion, text: string) {
    super(
      'not_acceptable',
      `Version ${text} is not supported by the API. Minimum is ${formatVersion(MIN_VERSION)} and ` +
        `maximum is ${formatVersion(MAX_VERSION)}.`,
    )
    this.requested = requested
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
      `API Version String ${text} is of invalid format. Must be of format MajorNum.MinorNum.`,
    )
  }
  const v = { major: Number(m[1]), minor: Number(m[2]) }
  if (compareVersions(v, MIN_VERSION) < 0 || compareVersions(v, MAX_VERSION) > 0) {
    throw new UnsupportedVersionError(v, text)
  }
  return v
}
