/**
 * The few GETs the Nova importer makes to nova-api, with a rate limit, retries with backoff on
 * 5xx, 429 and network failures, and one-line errors that never carry the token or a body. The
 * token is a fixed one, or a renewable login (Keystone): then a 401 drops the token, logs in
 * again and repeats the request, once per request.
 */
import { rateLimiter, type RateLimiter } from './rate-limiter.js'

/** Why a Nova request failed: Nova answered an error (`api`), or no answer came (`unreachable`). */
export class NovaRequestError extends Error {
  readonly kind: 'api' | 'unreachable'
  readonly status: number | undefined

  constructor(message: string, kind: 'api' | 'unreachable', status?: number) {
    super(message)
    this.name = 'NovaRequestError'
    this.kind = kind
    this.status = status
  }
}

/** A token that can be renewed: ServiceToken (a Keystone password login) is one. */
export interface TokenSource {
  /** A token not near its expiry (logs in when needed). */
  get(): Promise<string>
  /** Forgets `value`, which nova-api refused, so that the next `get` logs in again. */
  invalidate(value: string): void
}

/** Settings of a NovaApiClient. */
export interface NovaApiClientOptions {
  /** The compute endpoint, e.g. `http://nova:8774/v2.1`. */
  url: string
  /** The X-Auth-Token sent with every request, or where to get it from. */
  token: string | TokenSource
  /** Requests per second (default 20). */
  rate?: number
  /** Attempts per request before giving up (default 5). */
  attempts?: number
  /** First backoff delay in ms, doubled per retry (default 500). */
  backoffMs?: number
  /** Per-attempt timeout in ms (default 30 s). */
  timeoutMs?: number
}

const RETRIED = new Set([429, 500, 502, 503, 504])

/** A rate-limited, retrying reader of nova-api. */
export class NovaApiClient {
  readonly #url: string
  readonly #token: TokenSource | undefined
  readonly #fixedToken: string
  readonly #limit: RateLimiter
  readonly #attempts: number
  readonly #backoffMs: number
  readonly #timeoutMs: number
  /** Requests sent (retries included), for the summary. */
  requests = 0

  constructor(options: NovaApiClientOptions) {
    this.#url = options.url.replace(/\/+$/, '')
    if (typeof options.token === 'string') this.#fixedToken = options.token
    else {
      this.#fixedToken = ''
      this.#token = options.token
    }
    this.#limit = rateLimiter(options.rate ?? 20)
    this.#attempts = Math.max(1, options.attempts ?? 5)
    this.#backoffMs = options.backoffMs ?? 500
    this.#timeoutMs = options.timeoutMs ?? 30_000
  }

  /**
   * GETs `path` (relative to the endpoint) at microversion `version`; resolves with the parsed
   * body, or `undefined` on 404 when `allowMissing`.
   */
  async get<T>(path: string, version?: string, allowMissing = false): Promise<T | undefined> {
    const what = `GET ${path.split('?')[0] ?? path}`
    let renewed = false
    for (let attempt = 1; ; attempt++) {
      await this.#limit()
      // Taken after the rate limit's wait, so a renewal due meanwhile is not missed.
      const token = this.#token ? await this.#token.get() : this.#fixedToken
      this.requests += 1
      let status: number | undefined
      let retryAfterMs: number | undefined
      try {
        const res = await fetch(`${this.#url}${path}`, {
          headers: {
            'x-auth-token': token,
            accept: 'application/json',
            ...(version ? { 'openstack-api-version': `compute ${version}` } : {}),
          },
          signal: AbortSignal.timeout(this.#timeoutMs),
        })
        status = res.status
        const text = await res.text()
        if (res.ok) return JSON.parse(text) as T
        if (status === 404 && allowMissing) return undefined
        if (status === 401 && this.#token && !renewed) {
          // Revoked or expired early (Keystone's keys rotated): log in again, repeat at once.
          this.#token.invalidate(token)
          renewed = true
          attempt -= 1
          continue
        }
        if (!RETRIED.has(status))
          throw new NovaRequestError(`nova: ${what}: ${status}`, 'api', status)
        const after = Number(res.headers.get('retry-after'))
        if (Number.isFinite(after) && after > 0) retryAfterMs = Math.min(after, 60) * 1000
      } catch (err) {
        if (err instanceof NovaRequestError) throw err
        if (err instanceof SyntaxError)
          throw new NovaRequestError(`nova: ${what}: the answer is not JSON`, 'api', status)
        if (attempt >= this.#attempts)
          throw new NovaRequestError(`nova: ${what}: no answer (${errorCode(err)})`, 'unreachable')
      }
      if (attempt >= this.#attempts)
        throw new NovaRequestError(
          `nova: ${what}: ${status} after ${attempt} attempts`,
          'api',
          status,
        )
      const delay = retryAfterMs ?? this.#backoffMs * 2 ** (attempt - 1)
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }
}

/** A short code for a network failure (ECONNREFUSED, timeout…), never the whole error text. */
function errorCode(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timeout'
    const cause = (err as { cause?: { code?: unknown } }).cause
    if (cause && typeof cause.code === 'string') return cause.code
    return 'network error'
  }
  return 'failed'
}
