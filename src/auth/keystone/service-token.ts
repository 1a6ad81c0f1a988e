/**
 * ActionTrail's own Keystone token, which authorizes its validation requests: obtained on first
 * use (or at start), renewed before it expires, and dropped when Keystone answers 401 to it (it
 * was revoked, or Keystone's keys were rotated). Concurrent callers share one login.
 */
import { AppError } from '../../domain/errors.js'
import { loginBody, type KeystoneCredentials } from './keystone-credentials.js'
import { tokenExpiry } from './keystone-token.js'

/** What the service token needs. */
export interface ServiceTokenOptions {
  /** Keystone's v3 base URL, e.g. `http://keystone:5000/v3`. */
  url: string
  credentials: KeystoneCredentials
  /** Bound on the login request. */
  timeoutMs: number
  fetch: typeof globalThis.fetch
  now: () => number
}

// Renewal margin: the smaller of five minutes and half the token's lifetime, so that a token is
// never used in its last moments (clock skew, a slow request) even with a short expiration.
const MAX_MARGIN_MS = 5 * 60_000

/** Holds the current service token. */
export class ServiceToken {
  readonly #options: ServiceTokenOptions
  #token: { value: string; renewAtMs: number } | undefined
  #pending: Promise<string> | undefined

  constructor(options: ServiceTokenOptions) {
    this.#options = options
  }

  /** A token that is not near its expiry; logs in when there is none. */
  async get(): Promise<string> {
    const t = this.#token
    if (t && this.#options.now() < t.renewAtMs) return t.value
    this.#pending ??= this.#login().finally(() => {
      this.#pending = undefined
    })
    return this.#pending
  }

  /** Forgets `value` (Keystone refused it) so that the next `get` logs in again. */
  invalidate(value: string): void {
    if (this.#token?.value === value) this.#token = undefined
  }

  async #login(): Promise<string> {
    const { url, credentials, timeoutMs, fetch, now } = this.#options
    let res: Response
    let body: unknown
    try {
      res = await fetch(`${url}/auth/tokens?nocatalog`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: loginBody(credentials),
        signal: AbortSignal.timeout(timeoutMs),
      })
      body = await res.json().catch(() => undefined)
    } catch (err) {
      throw new AppError('identity_unavailable', `keystone login failed: ${describe(err)}`)
    }
    const value = res.headers.get('x-subject-token')
    const expires = tokenExpiry(body)
    if (res.status !== 201 || !value || !expires) {
      // 401: wrong credentials; the operator must fix the configuration. Never the body (which
      // could echo a name): the status says enough.
      throw new AppError(
        'identity_unavailable',
        `keystone refused ActionTrail's service login (HTTP ${res.status})`,
      )
    }
    const issued = now()
    const lifetime = expires.getTime() - issued
    this.#token = { value, renewAtMs: issued + lifetime - Math.min(MAX_MARGIN_MS, lifetime / 2) }
    return value
  }
}

/** A short, secret-free description of a fetch failure (timeout, refused, reset). */
export function describe(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timed out'
    const code = (err.cause as { code?: unknown } | undefined)?.code
    if (typeof code === 'string') return code
    return err.name
  }
  return 'error'
}
