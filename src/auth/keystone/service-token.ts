/**
 * A Keystone token ActionTrail logs in for: its own service token, which authorizes the validation
 * requests of Keystone mode, and the token the Nova API importer calls nova-api with. Obtained on
 * first use (or at start), renewed before it expires, and dropped when the service it is sent to
 * answers 401 (it was revoked, or Keystone's keys were rotated). Concurrent callers share one login.
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
  /** Ask for the service catalog with the token (default: `?nocatalog`). */
  catalog?: boolean
  /** The login, as errors name it (default "ActionTrail's service login"). */
  label?: string
}

/**
 * A login that failed: Keystone refused it (`status` is its HTTP status) or did not answer
 * (`status` undefined). The message never holds the body (which could echo a name) or a secret.
 */
export class KeystoneLoginError extends AppError {
  readonly status: number | undefined

  constructor(message: string, status?: number) {
    super('identity_unavailable', message)
    this.name = 'KeystoneLoginError'
    this.status = status
  }
}

// Renewal margin: the smaller of five minutes and half the token's lifetime, so that a token is
// never used in its last moments (clock skew, a slow request) even with a short expiration.
const MAX_MARGIN_MS = 5 * 60_000

/** Holds the current service token. */
export class ServiceToken {
  readonly #options: ServiceTokenOptions
  #token: { value: string; renewAtMs: number } | undefined
  #catalog: unknown
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

  /** The service catalog of the latest login (with `catalog: true`), as Keystone sent it. */
  catalog(): unknown {
    return this.#catalog
  }

  /** Forgets `value` (Keystone refused it) so that the next `get` logs in again. */
  invalidate(value: string): void {
    if (this.#token?.value === value) this.#token = undefined
  }

  async #login(): Promise<string> {
    const { url, credentials, timeoutMs, fetch, now } = this.#options
    const label = this.#options.label ?? "ActionTrail's service login"
    let res: Response
    let body: unknown
    try {
      res = await fetch(`${url}/auth/tokens${this.#options.catalog ? '' : '?nocatalog'}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: loginBody(credentials),
        signal: AbortSignal.timeout(timeoutMs),
      })
      body = await res.json().catch(() => undefined)
    } catch (err) {
      throw new KeystoneLoginError(`keystone login failed: ${describe(err)}`)
    }
    const value = res.headers.get('x-subject-token')
    const expires = tokenExpiry(body)
    if (res.status !== 201 || !value || !expires) {
      // 401: wrong credentials; the operator must fix the configuration. Never the body (which
      // could echo a name): the status says enough.
      throw new KeystoneLoginError(`keystone refused ${label} (HTTP ${res.status})`, res.status)
    }
    this.#catalog = (body as { token?: { catalog?: unknown } }).token?.catalog
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
