/**
 * The writes of the crash suites: whole action lives (an instance, an action, two events started
 * and finished, the action finished) sent through the /v1 single endpoints or as batches (JSON
 * array or NDJSON, with or without Idempotency-Key). Every request is built once, byte for byte,
 * so a retry after a crash sends exactly what the original sent. Times are explicit and unique,
 * so a write that is applied twice would show up as a second row.
 */
import { fromEpochMicros } from '../../src/domain/timestamp.js'
import { SERVICE_TOKEN } from './bundled-server.js'

/** A /v1 batch operation (the single endpoints send the same fields through path and body). */
export type Op = { op: string; instance_uuid: string } & Record<string, unknown>

/** One HTTP request of the workload and the operations it carries. */
export interface WriteRequest {
  method: 'PUT' | 'POST'
  path: string
  contentType: string
  body: string
  key?: string
  /** One operation for a single endpoint; the batch's operations in order. */
  ops: Op[]
  batch: boolean
}

/** A small seeded PRNG (mulberry32), so a failing run can be repeated with its seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const EVENTS = ['compute_prep_resize', 'compute_resize_instance'] as const
// Every generated time is unique: one second per life, one microsecond per step.
const EPOCH_MICROS = BigInt(Date.UTC(2026, 2, 1)) * 1000n

function uuidOf(prefix: number, n: number): string {
  const hex = n.toString(16).padStart(12, '0')
  return `${prefix.toString(16).padStart(8, '0')}-0000-4000-8000-${hex}`
}

/** Generates lives and the requests that carry them. */
export class Workload {
  readonly #rand: () => number
  readonly #tag: number
  #lives = 0
  #keys = 0
  #instances = 0
  /** Instances registered up front (see setupRequests); lives also register their own. */
  readonly baseInstances: string[]

  constructor(seed: number, baseInstances = 4) {
    this.#rand = random(seed)
    this.#tag = seed >>> 0
    this.baseInstances = Array.from({ length: baseInstances }, () => this.#newInstance())
  }

  /** A value in [0, 1). */
  next(): number {
    return this.#rand()
  }

  #newInstance(): string {
    return uuidOf(this.#tag, ++this.#instances)
  }

  #key(): string {
    return `crash-${this.#tag}-${++this.#keys}`
  }

  /** The operations of one action's life, sometimes on an instance it registers first. */
  life(): Op[] {
    const k = ++this.#lives
    const ops: Op[] = []
    let uuid: string
    if (this.#rand() < 0.2) {
      uuid = this.#newInstance()
      ops.push({ op: 'instance_put', instance_uuid: uuid, name: `vm-${k}`, ...OWNER })
    } else {
      uuid = this.baseInstances[Math.floor(this.#rand() * this.baseInstances.length)] as string
    }
    const at = (step: number) =>
      fromEpochMicros(EPOCH_MICROS + BigInt(k) * 1_000_000n + BigInt(step))
    const base = { instance_uuid: uuid, request_id: `req-${this.#tag}-${k}` }
    ops.push({ op: 'action_start', ...base, action: 'resize', ...OWNER, start_time: at(0) })
    EVENTS.forEach((event, e) => {
      ops.push({ op: 'event_start', ...base, event, host: `compute-${e}`, start_time: at(1 + e) })
    })
    EVENTS.forEach((event, e) => {
      const failed = this.#rand() < 0.1
      ops.push({
        op: 'event_finish',
        ...base,
        event,
        result: failed ? 'Error' : 'Success',
        finish_time: at(3 + e),
        ...(failed ? { details: 'Resize failed', traceback: 'Traceback: boom' } : {}),
      })
    })
    ops.push({ op: 'action_finish', ...base, finish_time: at(9) })
    return ops
  }

  /** Registers the base instances, one request each. */
  setupRequests(): WriteRequest[] {
    return this.baseInstances.map((uuid, i) =>
      singleRequest({ op: 'instance_put', instance_uuid: uuid, name: `base-${i}`, ...OWNER }),
    )
  }

  /**
   * The next job of a writer: one life through the single endpoints (some with a key), or a batch
   * of 1 to `maxLives` lives as JSON or NDJSON (half of them with a key).
   */
  job(maxLives = 30): WriteRequest[] {
    if (this.#rand() < 0.4) {
      return this.life().map((op) =>
        singleRequest(op, this.#rand() < 0.3 ? this.#key() : undefined),
      )
    }
    const lives = 1 + Math.floor(this.#rand() * maxLives)
    const ops = Array.from({ length: lives }, () => this.life()).flat()
    return [
      batchRequest(
        ops,
        this.#rand() < 0.5 ? 'ndjson' : 'json',
        this.#rand() < 0.5 ? this.#key() : undefined,
      ),
    ]
  }

  /** A batch of `lives` lives (for one large batch spanning several chunks). */
  bigBatch(lives: number, format: 'json' | 'ndjson', key?: string): WriteRequest {
    return batchRequest(Array.from({ length: lives }, () => this.life()).flat(), format, key)
  }
}

const OWNER = { project_id: 'p-crash', user_id: 'u-crash' }

function pick(op: Op, ...names: string[]): Record<string, unknown> {
  return Object.fromEntries(names.filter((n) => op[n] !== undefined).map((n) => [n, op[n]]))
}

/** The single-endpoint request of one operation. */
export function singleRequest(op: Op, key?: string): WriteRequest {
  const instance = `/v1/instances/${op.instance_uuid}`
  const action = `${instance}/actions/${String(op.request_id)}`
  const [method, path, body] = ((): [WriteRequest['method'], string, object] => {
    switch (op.op) {
      case 'instance_put':
        return ['PUT', instance, pick(op, 'name', 'project_id', 'user_id')]
      case 'action_start':
        return [
          'POST',
          `${instance}/actions`,
          pick(op, 'action', 'request_id', 'project_id', 'user_id', 'start_time'),
        ]
      case 'event_start':
        return ['POST', `${action}/events`, pick(op, 'event', 'host', 'start_time')]
      case 'event_finish':
        return [
          'POST',
          `${action}/events/${String(op.event)}/finish`,
          pick(op, 'result', 'finish_time', 'details', 'traceback'),
        ]
      case 'action_finish':
        return ['POST', `${action}/finish`, pick(op, 'finish_time')]
      default:
        throw new Error(`no single endpoint for ${op.op}`)
    }
  })()
  return {
    method,
    path,
    contentType: 'application/json',
    body: JSON.stringify(body),
    ...(key ? { key } : {}),
    ops: [op],
    batch: false,
  }
}

/** A batch request of `ops`. */
export function batchRequest(ops: Op[], format: 'json' | 'ndjson', key?: string): WriteRequest {
  return {
    method: 'POST',
    path: '/v1/batch',
    contentType: format === 'json' ? 'application/json' : 'application/x-ndjson',
    body:
      format === 'json'
        ? JSON.stringify(ops)
        : ops.map((op) => JSON.stringify(op)).join('\n') + '\n',
    ...(key ? { key } : {}),
    ops,
    batch: true,
  }
}

/** An answer received in full. */
export interface Answer {
  status: number
  text: string
  replayed: boolean
}

/**
 * Sends a request; resolves only once the whole answer has arrived. A connection refused, reset
 * or cut mid-answer rejects: the write was in flight and is not acknowledged.
 */
export async function send(
  url: string,
  req: WriteRequest,
  { withKey = true }: { withKey?: boolean } = {},
): Promise<Answer> {
  const key = withKey ? req.key : undefined
  const res = await fetch(`${url}${req.path}`, {
    method: req.method,
    headers: {
      'x-auth-token': SERVICE_TOKEN,
      'content-type': req.contentType,
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: req.body,
  })
  const text = await res.text()
  return { status: res.status, text, replayed: res.headers.get('idempotent-replayed') === 'true' }
}
