/**
 * Keystone mode (`ACTIONTRAIL_AUTH=keystone`): each `X-Auth-Token` is validated with
 * `GET /v3/auth/tokens` (`X-Subject-Token`), authorized by ActionTrail's own service token, the
 * way keystonemiddleware's auth_token does for Nova. Answers are cached (bounded, never past the
 * token's expiry); 404 from Keystone (revoked, expired, garbage) is "no principal" (401); a
 * Keystone that is down, slow (bounded by `timeoutMs`) or answers nonsense is `identity_unavailable`
 * (503): a token nobody could check is never let in.
 */
import { createHash } from 'node:crypto'
import { AppError } from '../../domain/errors.js'
import type { Authenticator, Principal } from '../principal.js'
import { KeystoneContact } from './keystone-contact.js'
import type { KeystoneCredentials } from './keystone-credentials.js'
import { principalFromToken } from './keystone-token.js'
import { describe, ServiceToken } from './service-token.js'
import { ValidationCache } from './validation-cache.js'

/** Settings of Keystone mode. */
export interface KeystoneOptions {
  /** Keystone's URL, with or without `/v3`. */
  url: string
  credentials: KeystoneCredentials
  /** How long a validation is reused (seconds; 0 asks Keystone every time). Default 300. */
  cacheSeconds?: number
  /** How long ActionTrail waits for Keystone (ms). Default 3000. */
  timeoutMs?: number
  /** Most validations kept. Default 10000. */
  cacheEntries?: number
  /** Where operational problems are reported (never with a token or an id). */
  warn?: (message: string) => void
  fetch?: typeof globalThis.fetch
  now?: () => number
}

/** Default of ACTIONTRAIL_KEYSTONE_CACHE_SECONDS (keystonemiddleware's token_cache_time). */
export const DEFAULT_KEYSTONE_CACHE_SECONDS = 300
/** Default of ACTIONTRAIL_KEYSTONE_TIMEOUT_MS. */
export const DEFAULT_KEYSTONE_TIMEOUT_MS = 3000

// Tokens Keystone refused are remembered for at most this long: a refused token never becomes
// valid, but a flood of garbage should not fill the cache for the whole TTL.
const NEGATIVE_TTL_MS = 60_000
// Longer than any Keystone token (fernet ≈ 180 bytes, PKI-era tokens ≈ 8 KB); refused unasked.
const MAX_TOKEN_LENGTH = 8192

/** `http://k:5000`, `http://k:5000/`, `http://k:5000/v3/` → `http://k:5000/v3`. */
export function keystoneV3Url(url: string): string {
  const base = url.replace(/\/+$/, '')
  return base.endsWith('/v3') ? base : `${base}/v3`
}

/** Validates tokens with Keystone. */
export class KeystoneAuthenticator implements Authenticator {
  readonly identityUri: string
  readonly #v3: string
  readonly #service: ServiceToken
  readonly #cache: ValidationCache<Principal | null>
  readonly #inFlight = new Map<string, Promise<Principal | null>>()
  readonly #cacheMs: number
  readonly #timeoutMs: number
  readonly #fetch: typeof globalThis.fetch
  readonly #now: () => number
  readonly #warn: (message: string) => void
  readonly #contact: KeystoneContact
  #check: Promise<void> | undefined

  /** How long a request to Keystone may take (ms); the page's sign-in uses the same bound. */
  get timeoutMs(): number {
    return this.#timeoutMs
  }

  constructor(options: KeystoneOptions) {
    this.#v3 = keystoneV3Url(options.url)
    // keystonemiddleware's www_authenticate_uri: Keystone's root, where clients discover versions.
    this.identityUri = this.#v3.replace(/\/v3$/, '')
    this.#cacheMs = (options.cacheSeconds ?? DEFAULT_KEYSTONE_CACHE_SECONDS) * 1000
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_KEYSTONE_TIMEOUT_MS
    this.#now = options.now ?? Date.now
    this.#contact = new KeystoneContact(options.fetch ?? globalThis.fetch, this.#now)
    this.#fetch = this.#contact.fetch
    this.#warn = options.warn ?? (() => undefined)
    this.#cache = new ValidationCache(this.#cacheMs > 0 ? (options.cacheEntries ?? 10_000) : 0)
    this.#service = new ServiceToken({
      url: this.#v3,
      credentials: options.credentials,
      timeoutMs: this.#timeoutMs,
      fetch: this.#fetch,
      now: this.#now,
    })
  }

  /**
   * Logs in once, so that a wrong service password shows at start-up rather than at the first
   * request. Rejects with `identity_unavailable` when Keystone refuses or does not answer.
   */
  async start(): Promise<void> {
    await this.#service.get()
  }

  /**
   * Readiness: resolves when Keystone answered within the last `boundMs` — any request counts, so a
   * busy node asks nothing more — or, failing that, answers a light request now (`GET /v3`, its
   * version document, no token; concurrent probes share one, bounded by `timeoutMs`). Otherwise
   * rejects with `identity_unavailable`: this node could not authenticate anyone it has not cached.
   */
  async assertAnsweredWithin(boundMs: number, timeoutMs = this.#timeoutMs): Promise<void> {
    const recent = () => {
      const at = this.#contact.answeredAt
      return at !== undefined && this.#now() - at <= boundMs
    }
    if (recent()) return
    this.#check ??= this.#fetch(this.#v3, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    })
      .then((res) => res.arrayBuffer())
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => (this.#check = undefined))
    await this.#check
    if (!recent())
      throw new AppError('identity_unavailable', `keystone has not answered for over ${boundMs} ms`)
  }

  async authenticate(token: string): Promise<Principal | undefined> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined
    const key = createHash('sha256').update(token, 'utf8').digest('hex')
    const now = this.#now()
    const cached = this.#cache.get(key, now)
    if (cached !== undefined) return usable(cached, now)
    // Concurrent requests with one new token share one validation.
    let pending = this.#inFlight.get(key)
    if (!pending) {
      pending = this.#validate(token).finally(() => this.#inFlight.delete(key))
      this.#inFlight.set(key, pending)
      const principal = await pending
      const at = this.#now()
      const until = principal
        ? Math.min(at + this.#cacheMs, principal.expiresAt?.getTime() ?? at)
        : at + Math.min(this.#cacheMs, NEGATIVE_TTL_MS)
      this.#cache.set(key, principal, until, at)
      return usable(principal, at)
    }
    return usable(await pending, this.#now())
  }

  /** One validation, retried once with a fresh service token when Keystone refuses the old one. */
  async #validate(token: string): Promise<Principal | null> {
    for (let attempt = 0; ; attempt++) {
      const service = await this.#service.get()
      let res: Response
      let body: unknown
      try {
        res = await this.#fetch(`${this.#v3}/auth/tokens?nocatalog`, {
          headers: {
            'x-auth-token': service,
            'x-subject-token': token,
            accept: 'application/json',
          },
          signal: AbortSignal.timeout(this.#timeoutMs),
        })
        body = res.status === 200 ? await res.json() : await res.arrayBuffer()
      } catch (err) {
        this.#warn(`keystone token validation failed: ${describe(err)}`)
        throw new AppError('identity_unavailable', 'keystone did not answer')
      }
      if (res.status === 200) {
        const principal = principalFromToken(body)
        if (principal) return principal
        this.#warn('keystone answered a validation with a body that is not a token')
        throw new AppError('identity_unavailable', 'keystone answered nonsense')
      }
      // Revoked, expired or never issued: Keystone's "Failed to validate token".
      if (res.status === 404) return null
      if (res.status === 401 && attempt === 0) {
        this.#service.invalidate(service)
        continue
      }
      // 401 twice, or 403 (the service user may not validate tokens), or a 5xx: not the caller's
      // fault, and nothing to decide from.
      this.#warn(`keystone answered a token validation with HTTP ${res.status}`)
      throw new AppError('identity_unavailable', `keystone answered HTTP ${res.status}`)
    }
  }
}

// A cached principal whose token has expired since is no principal.
function usable(principal: Principal | null, nowMs: number): Principal | undefined {
  if (!principal) return undefined
  if (principal.expiresAt && principal.expiresAt.getTime() <= nowMs) return undefined
  return principal
}
