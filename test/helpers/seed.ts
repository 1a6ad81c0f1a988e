/**
 * Seeding and assertion helpers for the HTTP API suites: servers, actions and events written
 * through the real ActionService, with explicit times so that responses are predictable.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import type { Harness } from './build-app.js'
import { PROJECT_A, USER_A } from './build-app.js'

/** The project and host of Nova's samples, whose hostId docs/nova-behaviour.md §8.3 gives as a check value. */
export const SAMPLE_PROJECT = '6f70656e737461636b20342065766572'
export const SAMPLE_HOST_ID = '2091634baaccdc4c5a1d57069c833e402921df696b7f970791b12ec6'

/** Server ids used by the suites. */
export const SERVER = '11111111-2222-4333-8444-555555555555'
export const UNKNOWN_SERVER = '99999999-8888-4777-8666-555555555555'

/** Host header used where links matter. */
export const HOST = 'nova.example:8774'

/** One event of a seeded action. */
export interface EventSeed {
  event: string
  host?: string | null
  startTime?: string
  /** Finish with this result; left running when absent. */
  result?: 'Success' | 'Error'
  finishTime?: string
  traceback?: string | null
  details?: string | null
}

/** One seeded action. */
export interface ActionSeed {
  server?: string
  action: string
  requestId: string
  userId?: string | null
  projectId?: string | null
  startTime?: string
  events?: EventSeed[]
}

/** Registers a server (project A, user A unless told). */
export async function seedServer(
  h: Harness,
  opts: { uuid?: string; name?: string; projectId?: string; userId?: string } = {},
): Promise<string> {
  const uuid = opts.uuid ?? SERVER
  await h.service.putInstance({
    uuid,
    name: opts.name ?? 'vm-1',
    projectId: opts.projectId ?? PROJECT_A,
    userId: opts.userId ?? USER_A,
  })
  return uuid
}

/** Starts an action and runs its events in order. */
export async function seedAction(h: Harness, a: ActionSeed): Promise<void> {
  const instanceUuid = a.server ?? SERVER
  await h.service.actionStart({
    instanceUuid,
    action: a.action,
    requestId: a.requestId,
    userId: a.userId === undefined ? USER_A : a.userId,
    projectId: a.projectId === undefined ? PROJECT_A : a.projectId,
    ...(a.startTime ? { startTime: a.startTime } : {}),
  })
  for (const e of a.events ?? []) {
    await h.service.eventStart({
      instanceUuid,
      requestId: a.requestId,
      event: e.event,
      host: e.host === undefined ? 'compute' : e.host,
      ...(e.startTime ? { startTime: e.startTime } : {}),
    })
    if (e.result) {
      await h.service.eventFinish({
        instanceUuid,
        requestId: a.requestId,
        event: e.event,
        result: e.result,
        ...(e.finishTime ? { finishTime: e.finishTime } : {}),
        traceback: e.traceback ?? null,
        details: e.details ?? null,
      })
    }
  }
}

/** Request ids and times of the samples' situation (see seedCreateStop). */
export const CREATE_REQ = 'req-50189019-626d-47fb-b944-b8342af09679'
export const STOP_REQ = 'req-14122cb1-4256-4a16-a4f9-6faf494afaa7'
export const TIMES = {
  createStart: '2018-04-25T01:26:25.877278',
  stopStart: '2018-04-25T01:26:29.074293',
  eventStart: '2018-04-25T01:26:29.299627',
  eventFinish: '2018-04-25T01:26:29.585618',
} as const

/**
 * Nova's sample situation: a server with a `create` action, then a `stop` action with one
 * `compute_stop_instance` event on host `compute` that finished with Success.
 */
export async function seedCreateStop(
  h: Harness,
  opts: { server?: string; projectId?: string; actionProjectId?: string; userId?: string } = {},
): Promise<string> {
  const server = await seedServer(h, {
    uuid: opts.server ?? SERVER,
    ...(opts.projectId ? { projectId: opts.projectId } : {}),
    ...(opts.userId ? { userId: opts.userId } : {}),
  })
  const projectId = opts.actionProjectId ?? opts.projectId ?? PROJECT_A
  const userId = opts.userId ?? USER_A
  await seedAction(h, {
    server,
    action: 'create',
    requestId: CREATE_REQ,
    projectId,
    userId,
    startTime: TIMES.createStart,
  })
  await seedAction(h, {
    server,
    action: 'stop',
    requestId: STOP_REQ,
    projectId,
    userId,
    startTime: TIMES.stopStart,
    events: [
      {
        event: 'compute_stop_instance',
        host: 'compute',
        startTime: TIMES.eventStart,
        result: 'Success',
        finishTime: TIMES.eventFinish,
      },
    ],
  })
  return server
}

/** Lower-case hex SHA-224 of project + host, computed independently of the implementation. */
export function sha224(text: string): string {
  return createHash('sha224').update(text, 'utf8').digest('hex')
}

/** The parsed JSON body of a response. */
export function json(res: LightMyRequestResponse): Record<string, unknown> {
  return JSON.parse(res.body) as Record<string, unknown>
}

const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** Both request-id headers are present, equal, and `req-<uuid4>`. */
export function assertRequestId(res: LightMyRequestResponse): string {
  const id = res.headers['x-openstack-request-id']
  assert.equal(typeof id, 'string', 'x-openstack-request-id present')
  assert.match(id as string, REQUEST_ID)
  assert.equal(res.headers['x-compute-request-id'], id)
  return id as string
}

const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
}

/**
 * The response is Nova's fault `{"<faultName>": {"code", "message"}}` with Nova's content type,
 * the given status, and (when given) the exact message or a message matching the pattern.
 * Returns the message.
 */
export function assertFault(
  res: LightMyRequestResponse,
  status: number,
  message?: string | RegExp,
): string {
  assert.equal(res.statusCode, status, `status ${res.statusCode}: ${res.body.slice(0, 300)}`)
  assert.equal(res.headers['content-type'], 'application/json; charset=UTF-8')
  const body = json(res)
  const name = FAULT_NAMES[status] ?? 'computeFault'
  assert.deepEqual(Object.keys(body), [name], `fault name for ${status}`)
  const fault = body[name] as Record<string, unknown>
  assert.deepEqual(Object.keys(fault).sort(), ['code', 'message'])
  assert.equal(fault.code, status)
  assert.equal(typeof fault.message, 'string')
  if (typeof message === 'string') assert.equal(fault.message, message)
  else if (message) assert.match(fault.message as string, message)
  assertRequestId(res)
  return fault.message as string
}
