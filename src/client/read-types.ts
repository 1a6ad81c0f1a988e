/**
 * The bodies of the Nova-compatible read API (`/v2.1/servers/{id}/os-instance-actions`) as the
 * client returns them. They mirror the server's compute views (src/api/views/instance-action-view.ts,
 * by microversion and policy) and are the only place the client states those shapes, so that
 * they can be taken from the compute views' own schemas in one line.
 */

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
