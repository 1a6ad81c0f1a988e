/**
 * Helpers for the /v1 write API suites: requests as a given token, the /v1 error-body assertion,
 * and a clock the tests move by hand.
 */
import assert from 'node:assert/strict'
import type { LightMyRequestResponse } from 'fastify'
import {
  fromEpochMicros,
  parseTimestamp,
  toEpochMicros,
  type Clock,
  type Timestamp,
} from '../../src/domain/timestamp.js'
import { TOKENS, type Harness } from '../helpers/build-app.js'
import { assertRequestId, json } from '../helpers/seed.js'

/** The instance the suites write to. */
export const VM = '11111111-2222-4333-8444-555555555555'

/** An instance nobody registered. */
export const UNKNOWN_VM = '99999999-8888-4777-8666-555555555555'

/** Options of a /v1 request. */
export interface V1RequestOptions {
  /** Token; the service token of project A unless told. `null` sends none. */
  token?: string | null
  headers?: Record<string, string>
}

/** Sends a /v1 request; an object or array payload is sent as JSON. */
export async function v1(
  h: Harness,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  url: string,
  payload?: unknown,
  opts: V1RequestOptions = {},
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...opts.headers }
  const token = opts.token === undefined ? TOKENS.serviceA : opts.token
  if (token !== null) headers['x-auth-token'] = token
  if (payload === undefined) return h.app.inject({ method, url, headers })
  if (typeof payload === 'string') return h.app.inject({ method, url, headers, payload })
  return h.app.inject({ method, url, headers, payload: payload as object })
}

/** The body of a /v1 answer with the expected status. */
export function ok(res: LightMyRequestResponse, status: number): Record<string, unknown> {
  assert.equal(res.statusCode, status, `status ${res.statusCode}: ${res.body.slice(0, 500)}`)
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  return json(res)
}

/**
 * The response is a /v1 error `{"error": {"status", "code", "message"}}` with the given status and
 * code, the message exact or matching; returns the message.
 */
export function assertV1Error(
  res: LightMyRequestResponse,
  status: number,
  code: string,
  message?: string | RegExp,
): string {
  assert.equal(res.statusCode, status, `status ${res.statusCode}: ${res.body.slice(0, 500)}`)
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  const body = json(res)
  assert.deepEqual(Object.keys(body), ['error'])
  const error = body.error as Record<string, unknown>
  assert.deepEqual(Object.keys(error), ['status', 'code', 'message'])
  assert.equal(error.status, status)
  assert.equal(error.code, code)
  assert.equal(typeof error.message, 'string')
  if (typeof message === 'string') assert.equal(error.message, message)
  else if (message) assert.match(error.message as string, message)
  assert.doesNotMatch(res.body, /\.ts:\d+|node_modules|\bat [\w.<>]+ \(/, 'no stack trace')
  assertRequestId(res)
  return error.message as string
}

/**
 * Query strings both search routes (/v1/actions and /v1/events) refuse, each with what the 400's
 * message must match (the parameter it names): they parse these parameters alike.
 */
export const SEARCH_BAD_QUERIES: readonly (readonly [string, RegExp])[] = [
  ['bogus=1', /'bogus'/],
  ['instance=a&instance=b', /'instance'/],
  ['limit=0', /limit/],
  ['result=failed', /result/],
  ['since=yesterday', /since/],
  ['until=2026-13-01T00:00:00', /until/],
  ['since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z', /since/],
]

/** Each `GET path?query` (as an admin) is a 400 invalid_input whose message matches. */
export async function assertQueriesRefused(
  h: Harness,
  path: string,
  cases: readonly (readonly [string, RegExp])[],
): Promise<void> {
  for (const [q, message] of cases) {
    const res = await v1(h, 'GET', `${path}?${q}`, undefined, { token: TOKENS.admin })
    assertV1Error(res, 400, 'invalid_input', message)
  }
}

/** Registers VM (or `uuid`) through the API. */
export async function putVm(h: Harness, uuid = VM): Promise<void> {
  ok(
    await v1(h, 'PUT', `/v1/instances/${uuid}`, {
      name: 'vm-1',
      project_id: 'project-a',
      user_id: 'user-a',
    }),
    201,
  )
}

/** Starts action `requestId` (a reboot) on VM through the API. */
export async function startAction(h: Harness, requestId: string, action = 'reboot'): Promise<void> {
  const res = await v1(h, 'POST', `/v1/instances/${VM}/actions`, {
    action,
    request_id: requestId,
    user_id: 'u',
    project_id: 'p',
  })
  ok(res, 201)
}

/** A clock that stands still unless moved; each reading is 1 µs after the previous one. */
export class ManualClock implements Clock {
  #micros: bigint

  constructor(start = '2026-03-01T12:00:00.000000') {
    this.#micros = toEpochMicros(parseTimestamp(start) as Timestamp)
  }

  now(): Timestamp {
    this.#micros += 1n
    return fromEpochMicros(this.#micros)
  }

  /** Moves time forward. */
  advance(ms: number): void {
    this.#micros += BigInt(ms) * 1000n
  }
}

/** Hours in milliseconds. */
export function hours(n: number): number {
  return n * 60 * 60 * 1000
}
