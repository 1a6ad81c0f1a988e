/**
 * Idempotency keys for the write API. A client that may retry a write sends `Idempotency-Key`; the
 * first answer (status < 500) is remembered for 24 hours per caller and key, and a retry of the
 * same request gets that answer again, byte for byte, with `Idempotent-Replayed: true`. Reusing a
 * key for a different request is refused (422 `idempotency_key_reused`). Concurrent requests with
 * one key wait for each other in this process, so a retry racing its original sees its answer.
 *
 * What is remembered is capped (idempotency-limits.ts): an answer too large to keep leaves a
 * marker, and its retry is a 409 `idempotency_answer_not_kept`, never a second run; a caller whose
 * remembered answers fill its allowance gets 429 `idempotency_quota_exceeded` with Retry-After for
 * new keys, before anything runs. Neither cap ever drops a promise a key has made.
 */
import { createHash, type Hash } from 'node:crypto'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../../auth/principal.js'
import { AppError } from '../../domain/errors.js'
import { fromEpochMicros, toEpochMicros, type Clock } from '../../domain/timestamp.js'
import type { IdempotencyStore } from '../../store/idempotency-store.js'
import { principalOf } from '../plugins/authentication.js'
import { V1_CONTENT_TYPE } from './error-body.js'
import {
  checkedLimits,
  retryAfterSeconds,
  windowStart,
  worstCharge,
  type IdempotencyLimits,
} from './idempotency-limits.js'

/** The store that remembers answers (its contract lives with the other stores). */
export type { IdempotencyStore }

/** How long an answer is remembered. */
export const IDEMPOTENCY_TTL_MICROS = 24n * 60n * 60n * 1_000_000n

// Expired answers are purged at most this often, in the background of a request.
const PURGE_INTERVAL_MICROS = 60n * 1_000_000n

/** Request header carrying the key. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key'

/** Response header marking a replayed answer. */
export const REPLAYED_HEADER = 'idempotent-replayed'

// 1–255 printable ASCII characters (what an HTTP header value can carry unambiguously).
const VALID_KEY = /^[\x20-\x7e]{1,255}$/

const KEYED_METHODS = new Set(['POST', 'PUT', 'DELETE'])

/** Idempotency-Key bookkeeping of one request. */
export interface IdempotencyState {
  keyHash: string
  /** Digest of the caller, whose usage the answer is counted against. */
  callerHash: string
  /** Set once the body is read (preValidation, or a streaming parser). */
  requestHash?: string
  /** False for a replay, a refusal or an incomplete answer: nothing to remember. */
  remember: boolean
  release: () => void
  /** Gives back the room reserved in the caller's allowance for this answer (idempotent). */
  unreserve: () => void
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/** The digest of a caller (user and project): usage is counted per caller. */
export function idempotencyCallerHash(principal: Principal): string {
  return sha256(`${principal.userId}\n${principal.projectId}`)
}

/** The stored digest of a caller's key: keys of different callers never meet. */
export function idempotencyKeyHash(principal: Principal, key: string): string {
  return sha256(`${principal.userId}\n${principal.projectId}\n${key}`)
}

/** The digest of a request: method, URL path (without query) and raw body. */
export function idempotencyRequestHash(method: string, path: string, rawBody: string): string {
  return sha256(`${method} ${path}\n${rawBody}`)
}

/**
 * The same digest, fed the body's bytes as they arrive (a streamed batch keeps no raw text): set
 * `request.idempotency.requestHash` to its hex digest once the body is read. Valid UTF-8 is its
 * own encoding, so this equals idempotencyRequestHash of the decoded text.
 */
export function idempotencyRequestHasher(method: string, path: string): Hash {
  return createHash('sha256').update(`${method} ${path}\n`, 'utf8')
}

/**
 * Tells the idempotency layer not to remember this request's answer, e.g. a batch that stopped on
 * a store failure: a retry with the same key must run again rather than replay the failure.
 */
export function doNotRemember(request: FastifyRequest): void {
  if (request.idempotency) request.idempotency.remember = false
}

/** Dependencies of the idempotency hooks. */
export interface IdempotencyDeps {
  store: IdempotencyStore
  clock: Clock
  /** Caps on what is remembered; DEFAULT_IDEMPOTENCY_LIMITS for those not given. */
  limits?: Partial<IdempotencyLimits>
}

/**
 * Adds the idempotency hooks to a scope whose routes are all writes; expects `request.principal`
 * and (for bodies) `request.rawBody` to be set by earlier hooks and parsers.
 */
export function installIdempotency(app: FastifyInstance, deps: IdempotencyDeps): void {
  // keyHash → settles when the request holding that key has answered.
  const inFlight = new Map<string, Promise<void>>()
  const limits = checkedLimits(deps.limits)
  // callerHash → bytes reserved by this process's keyed requests that have not been stored yet:
  // a caller's concurrent requests cannot all pass the cap on the same stored usage. (Other
  // processes on the same database see only what is stored; each adds at most its own in-flight
  // requests × worstCharge over the cap.)
  const reserved = new Map<string, number>()
  let lastPurge: bigint | undefined

  function reserve(callerHash: string, bytes: number): () => void {
    reserved.set(callerHash, (reserved.get(callerHash) ?? 0) + bytes)
    let done = false
    return () => {
      if (done) return
      done = true
      const left = (reserved.get(callerHash) ?? 0) - bytes
      if (left > 0) reserved.set(callerHash, left)
      else reserved.delete(callerHash)
    }
  }

  // Refuses a new key when the caller's remembered answers leave no room for the largest answer
  // this request could add.
  async function admit(request: FastifyRequest, reply: FastifyReply, state: IdempotencyState) {
    const now = deps.clock.now()
    const slices = await deps.store.usage(
      state.callerHash,
      windowStart(now, IDEMPOTENCY_TTL_MICROS),
    )
    const used = slices.reduce((sum, slice) => sum + slice.bytes, 0)
    const excess =
      used + (reserved.get(state.callerHash) ?? 0) + worstCharge(limits) - limits.maxCallerBytes
    if (excess > 0) {
      reply.header(
        'retry-after',
        String(retryAfterSeconds(slices, excess, now, IDEMPOTENCY_TTL_MICROS)),
      )
      throw new AppError(
        'idempotency_quota_exceeded',
        `The answers remembered for this caller's Idempotency-Keys fill its ${limits.maxCallerBytes} bytes ` +
          'for 24 hours; retry after Retry-After seconds, or send the request without a key',
      )
    }
    state.unreserve = reserve(state.callerHash, worstCharge(limits))
    request.log.trace({ used }, 'idempotency usage of the caller')
  }

  function purge(now: bigint, log: FastifyBaseLogger): Promise<void> {
    lastPurge = now
    // `before` is exclusive: everything at least TTL old goes.
    const before = fromEpochMicros(now - IDEMPOTENCY_TTL_MICROS + 1n)
    return deps.store.purge(before).then(
      (count) => {
        if (count > 0) log.debug({ count }, 'purged expired idempotency records')
      },
      (err: unknown) => {
        log.error({ err }, 'could not purge idempotency records')
      },
    )
  }

  async function acquire(keyHash: string): Promise<() => void> {
    for (let held = inFlight.get(keyHash); held; held = inFlight.get(keyHash)) await held
    let settle!: () => void
    const mine = new Promise<void>((resolve) => {
      settle = resolve
    })
    inFlight.set(keyHash, mine)
    let released = false
    return () => {
      if (released) return
      released = true
      if (inFlight.get(keyHash) === mine) inFlight.delete(keyHash)
      settle()
    }
  }

  // The key is checked before the body is read, so a bad key costs no upload.
  app.addHook('onRequest', async (request) => {
    const key = request.headers[IDEMPOTENCY_KEY_HEADER]
    if (key === undefined || !KEYED_METHODS.has(request.method)) return
    if (typeof key !== 'string' || !VALID_KEY.test(key)) {
      throw new AppError(
        'invalid_input',
        'Idempotency-Key must be 1 to 255 printable ASCII characters',
      )
    }
    const principal = principalOf(request)
    request.idempotency = {
      keyHash: idempotencyKeyHash(principal, key),
      callerHash: idempotencyCallerHash(principal),
      remember: false,
      release: () => undefined,
      unreserve: () => undefined,
    }
  })

  app.addHook('preValidation', async (request: FastifyRequest, reply: FastifyReply) => {
    const state = request.idempotency
    if (!state) return
    // A streamed body was hashed while it was read; any other is hashed from its text here.
    state.requestHash ??= idempotencyRequestHash(
      request.method,
      request.url.split('?')[0] ?? '',
      request.rawBody ?? '',
    )
    state.release = await acquire(state.keyHash)
    let record
    try {
      const now = toEpochMicros(deps.clock.now())
      record = await deps.store.get(state.keyHash)
      if (record && now - toEpochMicros(record.createdAt) >= IDEMPOTENCY_TTL_MICROS) {
        // Expired: forget it now, or the store would keep it over this request's fresh answer.
        await purge(now, request.log)
        record = undefined
      }
      if (!record) await admit(request, reply, state)
    } catch (err) {
      state.release()
      throw err
    }
    if (!record) {
      state.remember = true
      return
    }
    state.release()
    if (record.requestHash !== state.requestHash) {
      throw new AppError(
        'idempotency_key_reused',
        'This Idempotency-Key was already used for a different request (method, path or body) in the last 24 hours',
      )
    }
    if (record.body === undefined) {
      // Running it again could apply a write twice; the status tells the client how it ended.
      throw new AppError(
        'idempotency_answer_not_kept',
        `This request was already answered ${record.status} under this Idempotency-Key, but its answer ` +
          `(${record.storedBytes} bytes compressed) was over the ${limits.maxAnswerBytes} bytes kept per key, ` +
          'so it cannot be replayed; read the result back instead of retrying',
      )
    }
    reply.code(record.status).header(REPLAYED_HEADER, 'true').type(V1_CONTENT_TYPE)
    return reply.send(record.body)
  })

  // Remembered before the answer leaves, so a retry that follows it always finds it.
  app.addHook('onSend', async (request, reply, payload) => {
    const state = request.idempotency
    if (!state?.remember || state.requestHash === undefined) return payload
    state.remember = false
    if (reply.statusCode >= 500 || typeof payload !== 'string') return payload
    try {
      const outcome = await deps.store.put(
        {
          keyHash: state.keyHash,
          requestHash: state.requestHash,
          status: reply.statusCode,
          body: payload,
          createdAt: deps.clock.now(),
          callerHash: state.callerHash,
        },
        { maxStoredBytes: limits.maxAnswerBytes, recordOverheadBytes: limits.recordOverheadBytes },
      )
      if (!outcome.kept)
        request.log.warn(
          { storedBytes: outcome.storedBytes },
          'idempotent answer too large to keep; only its marker is remembered',
        )
    } catch (err) {
      // The answer itself is good; only a retry will run the request again.
      request.log.error({ err }, 'could not remember idempotent answer')
    } finally {
      state.unreserve()
    }
    return payload
  })

  app.addHook('onResponse', async (request) => {
    request.idempotency?.release()
    request.idempotency?.unreserve()
    const now = toEpochMicros(deps.clock.now())
    if (lastPurge === undefined || now - lastPurge >= PURGE_INTERVAL_MICROS)
      void purge(now, request.log)
  })

  app.addHook('onRequestAbort', async (request) => {
    request.idempotency?.release()
    request.idempotency?.unreserve()
  })
}
