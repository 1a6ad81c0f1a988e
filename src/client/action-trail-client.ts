/**
 * The typed HTTP client of ActionTrail: the write API (`/v1`) as an ActionWriter, `/v1/batch`,
 * and the Nova-compatible read API (`/v2.1/servers/{id}/os-instance-actions`).
 *
 * Retries. Every request is retried on a network failure (refused, reset, "socket hang up", any
 * fetch TypeError), on a per-attempt timeout and on a 5xx, with exponential backoff and full
 * jitter; a 4xx is final. Retrying writes is safe because nothing about a retry differs from the
 * first attempt: the client stamps explicit times (`start_time`, `finish_time`) once per logical
 * call, and sends one `Idempotency-Key` per logical call, reused by its retries. The server treats
 * a repeated start with the same values as the same write and answers with the stored result.
 *
 * Connections. Node 20's global `fetch` (undici) keeps connections alive and reuses them between
 * requests by default, so a busy client does not pay a TCP handshake per write. A pooled
 * connection that the server closed while idle surfaces as a reset on the next request; the retry
 * covers that race. To tune the pool (connections per origin, keep-alive time, TLS), pass a `fetch`
 * that adds an undici `dispatcher` to each call; this package does not depend on undici itself.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type {
  ActionFinishInput,
  ActionStartInput,
  ActionWriter,
  EventFinishInput,
  EventStartInput,
  InstanceInput,
} from '../domain/action-writer.js'
import { AppError } from '../domain/errors.js'
import type { ActionEvent, Instance, InstanceAction } from '../domain/instance-action.js'
import { systemClock, type Clock } from '../domain/timestamp.js'
import { ClientClosedError, ClientHttpError, ClientNetworkError } from './client-errors.js'
import {
  actionFromBody,
  batchResultsFromBody,
  eventFromBody,
  instanceFromBody,
  wireErrorOf,
  type BatchResult,
  type WireOp,
} from './wire.js'

/** The subset of `fetch` the client uses; injectable for proxies, custom dispatchers or tests. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>

/** Options of an ActionTrailClient. */
export interface ActionTrailClientOptions {
  /** Where ActionTrail is served, e.g. `http://127.0.0.1:8774` (a path prefix is kept). */
  baseUrl: string
  /** The `X-Auth-Token`: a `service` (or admin) token for writes, any reader token for reads. */
  token: string
  /** Time limit of one attempt (connect, send, and read the whole answer). Default 10000. */
  timeoutMs?: number
  /** Retries after the first attempt, for network failures, timeouts and 5xx. Default 5. */
  retries?: number
  /** Base of the exponential backoff; attempt n waits up to `backoffMs * 2^n`. Default 100. */
  backoffMs?: number
  /** Cap of a single backoff wait. Default 5000. */
  maxBackoffMs?: number
  /** The fetch implementation. Default: the global fetch. */
  fetch?: FetchFunction
  /** Source of the explicit times stamped on writes. Default: systemClock(). */
  clock?: Clock
  /** The `User-Agent` header. */
  userAgent?: string
  /** Send batches as NDJSON (`application/x-ndjson`) rather than a JSON array. Default false. */
  ndjson?: boolean
}

/** Query of `listActions`. */
export interface ListActionsOptions {
  /** Page size (2.58+). */
  limit?: number
  /** Request id of the last action of the previous page (2.58+). */
  marker?: string
  /** Only actions updated at or after this ISO 8601 time (2.58+). */
  changesSince?: string
  /** Only actions updated at or before this ISO 8601 time (2.66+). */
  changesBefore?: string
  /** The compute microversion, sent as `OpenStack-API-Version: compute <version>`. Default `2.84`. */
  version?: string
}

/**
 * One action as the read API shows it. Which keys are present depends on the microversion and
 * the caller's policy (README, docs/compatibility.md).
 */
export interface NovaInstanceAction {
  action: string
  instance_uuid: string
  message: string | null
  project_id: string | null
  request_id: string
  start_time: string
  user_id: string | null
  /** 2.58+. */
  updated_at?: string | null
  /** Only in `getAction`. */
  events?: NovaInstanceActionEvent[]
}

/** One event as the read API shows it. */
export interface NovaInstanceActionEvent {
  event: string
  start_time: string
  finish_time: string | null
  result: string | null
  /** Admins only. */
  traceback?: string | null
  /** Admins only, 2.62+. */
  host?: string | null
  /** 2.62+. */
  hostId?: string
  /** Admins only, 2.84+. */
  details?: string | null
}

/** The body of `GET /v2.1/servers/{id}/os-instance-actions`. */
export interface NovaInstanceActionList {
  instanceActions: NovaInstanceAction[]
  /** A `next` link when the page is full (2.58+ with `limit`). */
  links?: { href: string; rel: string }[]
}

/** The body of `GET /v2.1/servers/{id}/os-instance-actions/{request_id}`. */
export interface NovaInstanceActionDetail {
  instanceAction: NovaInstanceAction
}

/** Per-call options of `batch`. */
export interface BatchOptions {
  /** Overrides the client's `ndjson` option for this batch. */
  ndjson?: boolean
  /** The Idempotency-Key of this batch; a fresh random UUID when absent. */
  idempotencyKey?: string
}

interface Request {
  /** What the request does (e.g. `action_start`), for error messages. */
  label: string
  method: 'GET' | 'PUT' | 'POST' | 'DELETE'
  path: string
  body?: string
  contentType?: string
  headers?: Record<string, string>
}

interface Answer {
  status: number
  body: unknown
  serverRequestId: string | undefined
}

const DEFAULT_VERSION = '2.84'
const JSON_TYPE = 'application/json'
const NDJSON_TYPE = 'application/x-ndjson'
const DEFAULT_USER_AGENT = `actiontrail-client (node ${process.version})`

// Error codes of connections that failed or broke before an answer arrived. Most reach us as
// fetch's TypeError (whose `cause` has the code); an injected fetch may throw them directly.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && err.name === 'TimeoutError'
}

/** True for failures where no (complete) answer arrived, so the request may be sent again. */
function isNetworkFailure(err: unknown): boolean {
  if (isTimeout(err)) return true
  // undici's fetch rejects every transport failure as a TypeError ("fetch failed" before an answer,
  // "terminated" while reading one) with the socket error as its cause. A TypeError without a
  // cause is a bad request (e.g. an invalid header value): sending it again cannot help.
  if (err instanceof TypeError) return err.cause !== undefined || /^(fetch failed|terminated)$/.test(err.message)
  if (err instanceof Error && /socket hang up/i.test(err.message)) return true
  const code = errorCode(err) ?? errorCode((err as { cause?: unknown } | null)?.cause)
  return code !== undefined && NETWORK_CODES.has(code)
}

function describe(err: unknown): string {
  if (isTimeout(err)) return 'timed out'
  const cause = (err as { cause?: unknown } | null)?.cause
  const code = errorCode(err) ?? errorCode(cause)
  const message = err instanceof Error ? err.message : String(err)
  const causeMessage = cause instanceof Error ? cause.message : undefined
  return [message, causeMessage && causeMessage !== message ? causeMessage : undefined, code].filter(Boolean).join(': ')
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** The error of a non-2xx answer: `/v1`'s `{"error": …}` or a Nova fault `{"<name>": {code, message}}`. */
function httpError(status: number, body: unknown, text: string, serverRequestId: string | undefined): ClientHttpError {
  if (typeof body === 'object' && body !== null) {
    const record = body as Record<string, unknown>
    const v1 = wireErrorOf(record.error)
    if (v1) return new ClientHttpError(status, v1.code, v1.message, serverRequestId)
    const [fault] = Object.values(record)
    if (typeof fault === 'object' && fault !== null && typeof (fault as { message?: unknown }).message === 'string') {
      return new ClientHttpError(status, undefined, (fault as { message: string }).message, serverRequestId)
    }
  }
  // Not ActionTrail's answer (a proxy page, an empty body): keep a short, single-line excerpt.
  const excerpt = text.replace(/\s+/g, ' ').trim().slice(0, 200)
  return new ClientHttpError(status, undefined, excerpt || `HTTP ${status}`, serverRequestId)
}

function segment(value: string): string {
  return encodeURIComponent(value)
}

/**
 * ActionTrail over HTTP. As an ActionWriter it records through a remote server exactly as the
 * local ActionService does through a store; every write resolves once the server has committed it.
 *
 * The write endpoints do not return database ids, so `id` (and an event's `actionId`) of the
 * records it returns is 0.
 *
 * @example
 * ```ts
 * import { ActionRecorder, ActionTrailClient } from 'actiontrail'
 *
 * const client = new ActionTrailClient({ baseUrl: 'http://actiontrail:8774', token: process.env.AT_TOKEN! })
 * const recorder = new ActionRecorder({ writer: client, host: 'compute-01' })
 * await client.putInstance({ uuid, name: 'web-1', projectId, userId })
 * await recorder.actionStart(ctx, uuid, 'reboot')
 * await recorder.withInstanceEvent(ctx, uuid, 'compute_reboot_instance', () => rebootTheVm(uuid))
 *
 * const { instanceAction } = await client.getAction(uuid, ctx.requestId, '2.84')
 * await client.close()
 * ```
 */
export class ActionTrailClient implements ActionWriter {
  readonly #baseUrl: string
  readonly #token: string
  readonly #timeoutMs: number
  readonly #retries: number
  readonly #backoffMs: number
  readonly #maxBackoffMs: number
  readonly #fetch: FetchFunction
  readonly #clock: Clock
  readonly #userAgent: string
  readonly #ndjson: boolean
  readonly #inFlight = new Set<Promise<unknown>>()
  #closed = false

  constructor(options: ActionTrailClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '')
    this.#token = options.token
    this.#timeoutMs = options.timeoutMs ?? 10_000
    this.#retries = Math.max(0, options.retries ?? 5)
    this.#backoffMs = Math.max(0, options.backoffMs ?? 100)
    this.#maxBackoffMs = Math.max(0, options.maxBackoffMs ?? 5_000)
    // Bound late so that a fetch replaced on globalThis after construction (e.g. by instrumentation) is used.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
    this.#clock = options.clock ?? systemClock()
    this.#userAgent = options.userAgent ?? DEFAULT_USER_AGENT
    this.#ndjson = options.ndjson ?? false
  }

  /** Registers an instance or updates its name and owner (`PUT /v1/instances/{uuid}`). */
  async putInstance(input: InstanceInput): Promise<Instance> {
    const body = { name: input.name, project_id: input.projectId, user_id: input.userId }
    return instanceFromBody(await this.#write('instance_put', 'PUT', `/v1/instances/${segment(input.uuid)}`, body))
  }

  /** Marks an instance deleted (`DELETE /v1/instances/{uuid}`); its actions stay readable. */
  async deleteInstance(uuid: string): Promise<Instance> {
    return instanceFromBody(await this.#write('instance_delete', 'DELETE', `/v1/instances/${segment(uuid)}`))
  }

  /**
   * Starts an action. A repeat with the same action name answers the existing action; another
   * name under the same request id fails with `conflict`.
   */
  async actionStart(input: ActionStartInput): Promise<InstanceAction> {
    const body = {
      action: input.action,
      request_id: input.requestId,
      user_id: input.userId,
      project_id: input.projectId,
      start_time: input.startTime ?? this.#clock.now(),
    }
    return actionFromBody(await this.#write('action_start', 'POST', `/v1/instances/${segment(input.instanceUuid)}/actions`, body))
  }

  /** Finishes an action; `action_not_found` when there is none. */
  async actionFinish(input: ActionFinishInput): Promise<InstanceAction> {
    const path = `/v1/instances/${segment(input.instanceUuid)}/actions/${segment(input.requestId)}/finish`
    return actionFromBody(await this.#write('action_finish', 'POST', path, { finish_time: input.finishTime ?? this.#clock.now() }))
  }

  /** Starts an event of an action; `action_not_found` when the action does not exist. */
  async eventStart(input: EventStartInput): Promise<ActionEvent> {
    const path = `/v1/instances/${segment(input.instanceUuid)}/actions/${segment(input.requestId)}/events`
    const body = { event: input.event, host: input.host, start_time: input.startTime ?? this.#clock.now() }
    return eventFromBody(await this.#write('event_start', 'POST', path, body))
  }

  /** Finishes an event; the server sanitizes `traceback` and `details` before storing them. */
  async eventFinish(input: EventFinishInput): Promise<ActionEvent> {
    const path =
      `/v1/instances/${segment(input.instanceUuid)}/actions/${segment(input.requestId)}` +
      `/events/${segment(input.event)}/finish`
    const body = {
      result: input.result,
      finish_time: input.finishTime ?? this.#clock.now(),
      details: input.details,
      traceback: input.traceback,
    }
    return eventFromBody(await this.#write('event_finish', 'POST', path, body))
  }

  /**
   * Applies operations in order (`POST /v1/batch`) and returns one result per operation, in order.
   * Failed operations are reported in their result (status 4xx and `error`), not thrown;
   * `resultError` turns one into a ClientHttpError. Starts and finishes without an explicit time
   * get the client's clock, stamped once so that a retried batch is the same batch.
   *
   * A request that fails as a whole is retried like any other (same Idempotency-Key). When the
   * server applied only part of a batch (a 5xx result: it stops at a store failure and reports
   * the rest as not attempted), the operations from the first 5xx result on are sent again, in
   * order, as a new request with a new key, up to `retries` times; their results replace the
   * earlier ones. Resending is safe for the same reason a retry is: every write carries explicit
   * times and the server treats a repeat as the same write.
   */
  async batch(ops: readonly WireOp[], options: BatchOptions = {}): Promise<BatchResult[]> {
    const stamped = ops.map((op) => this.#stamp(op))
    const ndjson = options.ndjson ?? this.#ndjson
    const results: BatchResult[] = []
    let from = 0
    for (let round = 0; ; round += 1) {
      const part = stamped.slice(from)
      const key = round === 0 && options.idempotencyKey !== undefined ? options.idempotencyKey : randomUUID()
      const answer = await this.#request({
        label: 'batch',
        method: 'POST',
        path: '/v1/batch',
        body: ndjson ? part.map((op) => `${JSON.stringify(op)}\n`).join('') : JSON.stringify(part),
        contentType: ndjson ? NDJSON_TYPE : JSON_TYPE,
        headers: { 'idempotency-key': key },
      })
      const partResults = batchResultsFromBody(answer.body, part.length)
      results.splice(from, part.length, ...partResults)
      const firstUnavailable = partResults.findIndex((r) => r.status >= 500)
      if (firstUnavailable < 0 || round >= this.#retries) return results
      from += firstUnavailable
      await sleep(this.#backoff(round))
    }
  }

  /** A page of a server's actions, newest first, as the read API shows them. */
  async listActions(serverId: string, options: ListActionsOptions = {}): Promise<NovaInstanceActionList> {
    const query = new URLSearchParams()
    if (options.limit !== undefined) query.set('limit', String(options.limit))
    if (options.marker !== undefined) query.set('marker', options.marker)
    if (options.changesSince !== undefined) query.set('changes-since', options.changesSince)
    if (options.changesBefore !== undefined) query.set('changes-before', options.changesBefore)
    const qs = query.size > 0 ? `?${query.toString()}` : ''
    const answer = await this.#request({
      label: 'list_actions',
      method: 'GET',
      path: `/v2.1/servers/${segment(serverId)}/os-instance-actions${qs}`,
      headers: { 'openstack-api-version': `compute ${options.version ?? DEFAULT_VERSION}` },
    })
    return answer.body as NovaInstanceActionList
  }

  /** One action of a server with its events, as the read API shows it to this client's token. */
  async getAction(serverId: string, requestId: string, version: string = DEFAULT_VERSION): Promise<NovaInstanceActionDetail> {
    const answer = await this.#request({
      label: 'get_action',
      method: 'GET',
      path: `/v2.1/servers/${segment(serverId)}/os-instance-actions/${segment(requestId)}`,
      headers: { 'openstack-api-version': `compute ${version}` },
    })
    return answer.body as NovaInstanceActionDetail
  }

  /**
   * Stops accepting calls (they reject with ClientClosedError) and resolves once the requests
   * already under way have settled. Pooled connections belong to the fetch implementation's
   * dispatcher, which closes idle ones by itself.
   */
  async close(): Promise<void> {
    this.#closed = true
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  /** Fills in an explicit time where the server would otherwise use its own clock. */
  #stamp(op: WireOp): WireOp {
    switch (op.op) {
      case 'action_start':
      case 'event_start':
        return op.start_time === undefined ? { ...op, start_time: this.#clock.now() } : op
      case 'action_finish':
      case 'event_finish':
        return op.finish_time === undefined ? { ...op, finish_time: this.#clock.now() } : op
      default:
        return op
    }
  }

  /** A single write: JSON body, and one Idempotency-Key for the logical call and all its retries. */
  async #write(label: string, method: 'PUT' | 'POST' | 'DELETE', path: string, body?: object): Promise<unknown> {
    const request: Request = { label, method, path, headers: { 'idempotency-key': randomUUID() } }
    if (body !== undefined) {
      request.body = JSON.stringify(body)
      request.contentType = JSON_TYPE
    }
    return (await this.#request(request)).body
  }

  async #request(request: Request): Promise<Answer> {
    if (this.#closed) throw new ClientClosedError('ActionTrailClient')
    const pending = this.#withRetries(request)
    this.#inFlight.add(pending)
    try {
      return await pending
    } finally {
      this.#inFlight.delete(pending)
    }
  }

  async #withRetries(request: Request): Promise<Answer> {
    const url = `${this.#baseUrl}${request.path}`
    const headers: Record<string, string> = {
      accept: JSON_TYPE,
      'x-auth-token': this.#token,
      'user-agent': this.#userAgent,
      ...request.headers,
    }
    if (request.contentType) headers['content-type'] = request.contentType
    for (let attempt = 0; ; attempt += 1) {
      let failure: unknown
      let retryAfterMs = 0
      try {
        const outcome = await this.#attempt(url, request, headers)
        if (outcome.ok) return outcome.answer
        // A 4xx is the server's considered answer to this exact request: sending it again cannot help.
        if (outcome.error.status < 500) throw outcome.error
        failure = outcome.error
        retryAfterMs = outcome.retryAfterMs
      } catch (err) {
        if (err instanceof AppError) throw err
        // Anything else that is not a transport failure (an invalid header value, a broken
        // injected fetch) fails the same way on every attempt: report it at once, as an AppError.
        // Its message stays in `cause` only: fetch quotes an invalid header value, i.e. the token.
        if (!isNetworkFailure(err)) {
          const kind = err instanceof Error ? err.name : typeof err
          throw new AppError('internal', `ActionTrail ${request.label} could not be sent (${kind})`, { cause: err })
        }
        failure = err
      }
      if (attempt >= this.#retries) throw this.#finalError(request, failure, attempt + 1)
      // Honour a server's Retry-After (e.g. a 503 while it drains), within the same cap.
      await sleep(Math.max(this.#backoff(attempt), Math.min(retryAfterMs, this.#maxBackoffMs)))
    }
  }

  /** One request; the timeout covers reading the answer too, so a stalled body is retried as well. */
  async #attempt(
    url: string,
    request: Request,
    headers: Record<string, string>,
  ): Promise<{ ok: true; answer: Answer } | { ok: false; error: ClientHttpError; retryAfterMs: number }> {
    const response = await this.#fetch(url, {
      method: request.method,
      headers,
      body: request.body,
      signal: AbortSignal.timeout(this.#timeoutMs),
    })
    const text = await response.text()
    const serverRequestId = response.headers.get('x-openstack-request-id') ?? undefined
    const body = parseJson(text)
    if (response.status >= 400) {
      const retryAfter = Number(response.headers.get('retry-after'))
      return {
        ok: false,
        error: httpError(response.status, body, text, serverRequestId),
        retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 0,
      }
    }
    if (body === undefined) {
      throw new AppError('internal', `malformed ActionTrail response: ${request.label} answered ${response.status} without JSON`)
    }
    return { ok: true, answer: { status: response.status, body, serverRequestId } }
  }

  /** Full jitter: a uniform wait in [0, min(cap, base·2^attempt)], so that many clients spread out. */
  #backoff(attempt: number): number {
    const ceiling = Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** attempt)
    return Math.random() * ceiling
  }

  #finalError(request: Request, failure: unknown, attempts: number): AppError {
    if (failure instanceof ClientHttpError) return failure
    const what = isTimeout(failure) ? `timed out after ${this.#timeoutMs} ms` : `failed: ${describe(failure)}`
    // The label, not the path: paths carry request and instance ids, and this message ends up in logs.
    return new ClientNetworkError(
      `ActionTrail ${request.label} ${what} (${attempts} attempts)`,
      attempts,
      isTimeout(failure),
      failure,
    )
  }
}

/** The error of a failed batch result, or undefined for a 2xx. */
export function resultError(result: BatchResult): ClientHttpError | undefined {
  return result.status >= 200 && result.status < 300 ? undefined : ClientHttpError.fromWire(result.status, result.error)
}
