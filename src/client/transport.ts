/**
 * The client's HTTP transport: one logical request, sent with `fetch` and tried again under the
 * RetryPolicy. It knows nothing of ActionTrail's endpoints; ActionTrailClient builds the requests.
 *
 * Each attempt has its own time limit (an AbortSignal), which covers reading the whole answer, so
 * a stalled body is retried as well. Failures are classified (failure-kind.ts): network failures,
 * timeouts and retryable statuses (408, 429, 5xx but 501) are retried, anything else is final.
 * A `Retry-After` on a 429 or 503 is honoured (retry-policy.ts).
 *
 * Connections. The platform's `fetch` (undici in Node) keeps connections alive and reuses them, so
 * a busy client does not pay a TCP handshake per request. A pooled connection that the server
 * closed while idle surfaces as a reset on the next request; the retry covers that race. To tune
 * the pool in Node (connections per origin, keep-alive time, TLS), pass a `fetch` that adds an
 * undici `dispatcher` to each call; this package does not depend on undici itself.
 *
 * Only web-platform globals are used here (fetch, AbortSignal, setTimeout), so that the client
 * runs in browsers and workers as well as in Node.
 */
import { AppError } from '../domain/errors.js'
import { ClientHttpError, ClientNetworkError } from './client-errors.js'
import { describeThrown, statusKind, thrownKind } from './failure-kind.js'
import { parseRetryAfter } from './retry-after.js'
import { RetryPolicy, type RetryPolicyOptions } from './retry-policy.js'

/** The subset of `fetch` the client uses; injectable for proxies, custom dispatchers or tests. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>

/** Options of an HttpTransport. */
export interface TransportOptions extends RetryPolicyOptions {
  /** Where ActionTrail is served, e.g. `http://127.0.0.1:8774` (a path prefix is kept). */
  baseUrl: string
  /** The `X-Auth-Token`. */
  token: string
  /** Time limit of one attempt (connect, send, and read the whole answer). Default 10000. */
  timeoutMs?: number
  /** The fetch implementation. Default: the global fetch, looked up at each call. */
  fetch?: FetchFunction
  /** The `User-Agent` header (browsers may ignore it). Default `actiontrail-client (<runtime>)`. */
  userAgent?: string
}

/** What an HttpTransport waits and draws jitter with; injectable so that tests can observe both. */
export interface TransportDeps {
  /** Resolves after `ms` milliseconds. Default: a promise around setTimeout. */
  sleep?: (ms: number) => Promise<void>
  /** A uniform number in [0, 1) for the jitter. Default Math.random. */
  random?: () => number
}

/** One logical request: sent once, and again on a retryable failure, unchanged. */
export interface TransportRequest {
  /** What the request does (e.g. `action_start`), for error messages; never ids, which end up in logs. */
  label: string
  method: 'GET' | 'PUT' | 'POST' | 'DELETE'
  /** Path and query below the base URL, already encoded. */
  path: string
  body?: string
  contentType?: string
  headers?: Record<string, string>
}

/** A successful (2xx) answer with its JSON body. */
export interface TransportAnswer {
  status: number
  body: unknown
  /** The server's `x-openstack-request-id`. */
  serverRequestId: string | undefined
}

type Attempt =
  | { ok: true; answer: TransportAnswer }
  | {
      ok: false
      kind: 'retryable_status'
      error: ClientHttpError
      retryAfterMs: number | undefined
    }
  | { ok: false; kind: 'network' | 'timeout'; thrown: unknown }

const JSON_TYPE = 'application/json'

function defaultUserAgent(): string {
  // Read through globalThis: `process` does not exist outside Node.
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions
    ?.node
  return node ? `actiontrail-client (node v${node})` : 'actiontrail-client'
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/**
 * Sends requests to one ActionTrail server with one token, with timeouts and retries.
 *
 * A request resolves with the 2xx answer, or rejects with an AppError: a ClientHttpError for an
 * error status (a final one, or a retryable one that outlasted the retries or asked, in
 * `Retry-After`, for a longer wait than `maxRetryAfterMs`), a ClientNetworkError when no answer
 * came within the retries, or code `internal` for a request that cannot be sent or a 2xx answer
 * that is not JSON.
 *
 * @example
 * ```ts
 * const transport = new HttpTransport({ baseUrl: 'http://actiontrail:8774', token, retries: 3 })
 * const answer = await transport.send({
 *   label: 'list_actions',
 *   method: 'GET',
 *   path: `/v2.1/servers/${id}/os-instance-actions`,
 * })
 * ```
 */
export class HttpTransport {
  readonly #baseUrl: string
  readonly #token: string
  readonly #timeoutMs: number
  readonly #fetch: FetchFunction
  readonly #userAgent: string
  readonly #policy: RetryPolicy
  readonly #sleep: (ms: number) => Promise<void>

  constructor(options: TransportOptions, deps: TransportDeps = {}) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '')
    this.#token = options.token
    this.#timeoutMs = options.timeoutMs ?? 10_000
    // Bound late so that a fetch replaced on globalThis after construction (e.g. by instrumentation) is used.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
    this.#userAgent = options.userAgent ?? defaultUserAgent()
    this.#policy = new RetryPolicy(options, { random: deps.random })
    this.#sleep = deps.sleep ?? sleep
  }

  /** Retries after the first attempt (also the rounds of a batch's partial resend). */
  get retries(): number {
    return this.#policy.retries
  }

  /** Waits the jittered backoff before retry `attempt`, as between attempts of a request. */
  pause(attempt: number): Promise<void> {
    return this.#sleep(this.#policy.delay(attempt) ?? 0)
  }

  /** Sends `request`, retrying it on network failures, timeouts and retryable statuses. */
  async send(request: TransportRequest): Promise<TransportAnswer> {
    const url = `${this.#baseUrl}${request.path}`
    const headers: Record<string, string> = {
      accept: JSON_TYPE,
      'x-auth-token': this.#token,
      'user-agent': this.#userAgent,
      ...request.headers,
    }
    if (request.contentType) headers['content-type'] = request.contentType
    for (let attempt = 0; ; attempt += 1) {
      const outcome = await this.#attempt(url, request, headers)
      if (outcome.ok) return outcome.answer
      if (attempt >= this.#policy.retries) throw this.#finalError(request, outcome, attempt + 1)
      const wait = this.#policy.delay(
        attempt,
        outcome.kind === 'retryable_status' ? outcome.retryAfterMs : undefined,
      )
      // The server asked for a longer pause than this client may take: its answer is the result.
      if (wait === undefined && outcome.kind === 'retryable_status') throw outcome.error
      await this.#sleep(wait ?? 0)
    }
  }

  /** One attempt; throws only for final failures. */
  async #attempt(
    url: string,
    request: TransportRequest,
    headers: Record<string, string>,
  ): Promise<Attempt> {
    let response: Response
    let text: string
    try {
      response = await this.#fetch(url, {
        method: request.method,
        headers,
        body: request.body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
      text = await response.text()
    } catch (err) {
      const kind = thrownKind(err)
      if (kind !== 'final') return { ok: false, kind, thrown: err }
      // Fails the same way on every attempt: report it at once. Its message stays in `cause`
      // only: fetch quotes an invalid header value, i.e. possibly the token.
      const what =
        typeof err === 'object' && err !== null && 'name' in err ? String(err.name) : typeof err
      throw new AppError('internal', `ActionTrail ${request.label} could not be sent (${what})`, {
        cause: err,
      })
    }
    const serverRequestId = response.headers.get('x-openstack-request-id') ?? undefined
    const body = parseJson(text)
    if (response.status >= 400) {
      const error = ClientHttpError.fromAnswer(response.status, body, text, serverRequestId)
      if (statusKind(response.status) === 'final') throw error
      const honoured = response.status === 429 || response.status === 503
      const retryAfterMs = honoured
        ? parseRetryAfter(response.headers.get('retry-after'), Date.now())
        : undefined
      return { ok: false, kind: 'retryable_status', error, retryAfterMs }
    }
    if (body === undefined) {
      throw new AppError(
        'internal',
        `malformed ActionTrail response: ${request.label} answered ${response.status} without JSON`,
      )
    }
    return { ok: true, answer: { status: response.status, body, serverRequestId } }
  }

  #finalError(
    request: TransportRequest,
    failure: Exclude<Attempt, { ok: true }>,
    attempts: number,
  ): AppError {
    if (failure.kind === 'retryable_status') return failure.error
    const timedOut = failure.kind === 'timeout'
    const what = timedOut
      ? `timed out after ${this.#timeoutMs} ms`
      : `failed: ${describeThrown(failure.thrown)}`
    // The label, not the path: paths carry request and instance ids, and this message ends up in logs.
    return new ClientNetworkError(
      `ActionTrail ${request.label} ${what} (${attempts} attempts)`,
      attempts,
      timedOut,
      failure.thrown,
    )
  }
}
