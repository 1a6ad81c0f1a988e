/**
 * The typed HTTP client of ActionTrail: the endpoints of the write API (`/v1`) as an ActionWriter,
 * `/v1/batch`, and the Nova-compatible read API (`/v2.1/servers/{id}/os-instance-actions`).
 * Sending, timeouts and retries are the transport's (transport.ts); this file only says what
 * each endpoint sends and what its answer means.
 *
 * Retrying writes is safe because nothing about a retry differs from the first attempt: the
 * client stamps explicit times (`start_time`, `finish_time`) once per logical call, and sends one
 * `Idempotency-Key` per logical call, reused by its retries. The server treats a repeated start
 * with the same values as the same write and answers with the stored result.
 */
import type {
  ActionFinishInput,
  ActionStartInput,
  ActionWriter,
  EventFinishInput,
  EventStartInput,
  InstanceInput,
} from '../domain/action-writer.js'
import { systemClock, type Clock } from '../domain/timestamp.js'
import { ClientClosedError, ClientHttpError } from './client-errors.js'
import type { NovaInstanceActionDetail, NovaInstanceActionList } from './read-types.js'
import {
  HttpTransport,
  type TransportAnswer,
  type TransportDeps,
  type TransportOptions,
  type TransportRequest,
} from './transport.js'
import { batchResultsFromBody, type BatchResult, type WireOp } from './wire.js'

/** Options of an ActionTrailClient: where and how to send (TransportOptions), plus what to send. */
export interface ActionTrailClientOptions extends TransportOptions {
  /** Source of the explicit times stamped on writes. Default: systemClock(). */
  clock?: Clock
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

/** Per-call options of `batch`. */
export interface BatchOptions {
  /** Overrides the client's `ndjson` option for this batch. */
  ndjson?: boolean
  /** The Idempotency-Key of this batch; a fresh random UUID when absent. */
  idempotencyKey?: string
}

const DEFAULT_VERSION = '2.84'
const JSON_TYPE = 'application/json'
const NDJSON_TYPE = 'application/x-ndjson'

function segment(value: string): string {
  return encodeURIComponent(value)
}

// Web Crypto rather than node:crypto: the client runs in browsers and workers too.
function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID()
}

/**
 * ActionTrail over HTTP. As an ActionWriter it records through a remote server exactly as the
 * local ActionService does through a store: every write resolves once the server has committed it,
 * and rejects with the server's error code as an AppError (ClientHttpError), or with
 * ClientNetworkError (`store_unavailable`) when no answer came within the retries.
 *
 * Requests are retried on network failures, per-attempt timeouts, 408, 429 and 5xx (but 501),
 * with exponential backoff and full jitter, and after at least the `Retry-After` of a 429 or 503.
 *
 * @example
 * ```ts
 * import { ActionRecorder } from 'actiontrail'
 * import { ActionTrailClient } from 'actiontrail/client'
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
  readonly #transport: HttpTransport
  readonly #clock: Clock
  readonly #ndjson: boolean
  readonly #inFlight = new Set<Promise<unknown>>()
  #closed = false

  /** `deps` replaces the transport's timer and jitter source (tests). */
  constructor(options: ActionTrailClientOptions, deps: TransportDeps = {}) {
    this.#transport = new HttpTransport(options, deps)
    this.#clock = options.clock ?? systemClock()
    this.#ndjson = options.ndjson ?? false
  }

  /** Registers an instance or updates its name and owner (`PUT /v1/instances/{uuid}`). */
  async putInstance(input: InstanceInput): Promise<void> {
    const body = { name: input.name, project_id: input.projectId, user_id: input.userId }
    await this.#write('instance_put', 'PUT', `/v1/instances/${segment(input.uuid)}`, body)
  }

  /** Marks an instance deleted (`DELETE /v1/instances/{uuid}`); its actions stay readable. */
  async deleteInstance(uuid: string): Promise<void> {
    await this.#write('instance_delete', 'DELETE', `/v1/instances/${segment(uuid)}`)
  }

  /**
   * Starts an action. A repeat with the same action name is the same write; another name under
   * the same request id fails with `conflict`.
   */
  async actionStart(input: ActionStartInput): Promise<void> {
    const body = {
      action: input.action,
      request_id: input.requestId,
      user_id: input.userId,
      project_id: input.projectId,
      start_time: input.startTime ?? this.#clock.now(),
    }
    await this.#write(
      'action_start',
      'POST',
      `/v1/instances/${segment(input.instanceUuid)}/actions`,
      body,
    )
  }

  /** Finishes an action; `action_not_found` when there is none. */
  async actionFinish(input: ActionFinishInput): Promise<void> {
    const path = `/v1/instances/${segment(input.instanceUuid)}/actions/${segment(input.requestId)}/finish`
    await this.#write('action_finish', 'POST', path, {
      finish_time: input.finishTime ?? this.#clock.now(),
    })
  }

  /** Starts an event of an action; `action_not_found` when the action does not exist. */
  async eventStart(input: EventStartInput): Promise<void> {
    const path = `/v1/instances/${segment(input.instanceUuid)}/actions/${segment(input.requestId)}/events`
    const body = {
      event: input.event,
      host: input.host,
      start_time: input.startTime ?? this.#clock.now(),
    }
    await this.#write('event_start', 'POST', path, body)
  }

  /** Finishes an event; the server sanitizes `traceback` and `details` before storing them. */
  async eventFinish(input: EventFinishInput): Promise<void> {
    const path =
      `/v1/instances/${segment(input.instanceUuid)}/actions/${segment(input.requestId)}` +
      `/events/${segment(input.event)}/finish`
    const body = {
      result: input.result,
      finish_time: input.finishTime ?? this.#clock.now(),
      details: input.details,
      traceback: input.traceback,
    }
    await this.#write('event_finish', 'POST', path, body)
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
  batch(ops: readonly WireOp[], options: BatchOptions = {}): Promise<BatchResult[]> {
    // One logical call: close() waits for its resend rounds too, and does not cut them off.
    return this.#call(() => this.#batch(ops, options))
  }

  async #batch(ops: readonly WireOp[], options: BatchOptions): Promise<BatchResult[]> {
    const stamped = ops.map((op) => this.#stamp(op))
    const ndjson = options.ndjson ?? this.#ndjson
    const results: BatchResult[] = []
    let from = 0
    for (let round = 0; ; round += 1) {
      const part = stamped.slice(from)
      const key =
        round === 0 && options.idempotencyKey !== undefined
          ? options.idempotencyKey
          : newIdempotencyKey()
      const answer = await this.#transport.send({
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
      if (firstUnavailable < 0 || round >= this.#transport.retries) return results
      from += firstUnavailable
      await this.#transport.pause(round)
    }
  }

  /** A page of a server's actions, newest first, as the read API shows them. */
  async listActions(
    serverId: string,
    options: ListActionsOptions = {},
  ): Promise<NovaInstanceActionList> {
    const query = new URLSearchParams()
    if (options.limit !== undefined) query.set('limit', String(options.limit))
    if (options.marker !== undefined) query.set('marker', options.marker)
    if (options.changesSince !== undefined) query.set('changes-since', options.changesSince)
    if (options.changesBefore !== undefined) query.set('changes-before', options.changesBefore)
    const qs = query.size > 0 ? `?${query.toString()}` : ''
    const answer = await this.#send({
      label: 'list_actions',
      method: 'GET',
      path: `/v2.1/servers/${segment(serverId)}/os-instance-actions${qs}`,
      headers: { 'openstack-api-version': `compute ${options.version ?? DEFAULT_VERSION}` },
    })
    return answer.body as NovaInstanceActionList
  }

  /** One action of a server with its events, as the read API shows it to this client's token. */
  async getAction(
    serverId: string,
    requestId: string,
    version: string = DEFAULT_VERSION,
  ): Promise<NovaInstanceActionDetail> {
    const answer = await this.#send({
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
   * dispatcher, which closes idle ones by itself. Closing twice is harmless.
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
  async #write(
    label: string,
    method: 'PUT' | 'POST' | 'DELETE',
    path: string,
    body?: object,
  ): Promise<void> {
    const request: TransportRequest = {
      label,
      method,
      path,
      headers: { 'idempotency-key': newIdempotencyKey() },
    }
    if (body !== undefined) {
      request.body = JSON.stringify(body)
      request.contentType = JSON_TYPE
    }
    await this.#send(request)
  }

  #send(request: TransportRequest): Promise<TransportAnswer> {
    return this.#call(() => this.#transport.send(request))
  }

  /** Runs one logical call, refused after close() and awaited by it. */
  async #call<T>(call: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new ClientClosedError('ActionTrailClient')
    const pending = call()
    this.#inFlight.add(pending)
    try {
      return await pending
    } finally {
      this.#inFlight.delete(pending)
    }
  }
}

/** The error of a failed batch result, or undefined for a 2xx. */
export function resultError(result: BatchResult): ClientHttpError | undefined {
  return result.status >= 200 && result.status < 300
    ? undefined
    : ClientHttpError.fromWire(result.status, result.error)
}
