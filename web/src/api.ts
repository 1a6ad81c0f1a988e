/**
 * Calls to this server's /v1 query API with the session's token (`X-Auth-Token`, never in the URL).
 * A 401 means the token is gone (expired, revoked): the page asks to sign in again. Other failures
 * carry the API's own message (`{"error": {"status", "code", "message"}}`).
 */
import { sessionToken } from './session.js'
import type { QueriedEvent, TrailAction, TrailInstance } from './types.js'

/** The server refused the request; `message` is the API's own, safe to show. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** True for the failure that asks the user to sign in (again). */
export function needsSignIn(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401
}

/** The error an answer carries, or a generic one naming the status. */
export async function errorOf(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => undefined)) as
    { error?: { code?: unknown; message?: unknown } } | undefined
  const code = typeof body?.error?.code === 'string' ? body.error.code : 'http_error'
  const message =
    typeof body?.error?.message === 'string'
      ? body.error.message
      : `The server answered HTTP ${res.status}.`
  return new ApiError(res.status, code, message)
}

/** GET `path` with `params` and the session's token; the parsed JSON answer. */
export async function apiGet<T>(
  path: string,
  params?: URLSearchParams,
  signal?: AbortSignal,
): Promise<T> {
  const token = sessionToken()
  if (!token) throw new ApiError(401, 'unauthorized', 'Sign in first.')
  const query = params && [...params.keys()].length > 0 ? `?${params.toString()}` : ''
  const res = await fetch(`${path}${query}`, {
    headers: { 'x-auth-token': token, accept: 'application/json' },
    cache: 'no-store',
    ...(signal ? { signal } : {}),
  })
  if (!res.ok) throw await errorOf(res)
  return (await res.json()) as T
}

/** A page of actions. */
export interface ActionsPage {
  actions: TrailAction[]
  next_cursor: string | null
}

/** A page of events. */
export interface EventsPage {
  events: QueriedEvent[]
  next_cursor: string | null
}

/** A page of instances. */
export interface InstancesPage {
  instances: TrailInstance[]
  next_cursor: string | null
}

/** `GET /v1/actions`. */
export function queryActions(params: URLSearchParams, signal?: AbortSignal): Promise<ActionsPage> {
  return apiGet<ActionsPage>('/v1/actions', params, signal)
}

/** `GET /v1/events`. */
export function queryEvents(params: URLSearchParams, signal?: AbortSignal): Promise<EventsPage> {
  return apiGet<EventsPage>('/v1/events', params, signal)
}

/** `GET /v1/instances`. */
export function queryInstances(
  params: URLSearchParams,
  signal?: AbortSignal,
): Promise<InstancesPage> {
  return apiGet<InstancesPage>('/v1/instances', params, signal)
}
