/** The query API's records as the page receives them (src/api/v1/views.ts, query-common.ts). */

/** An event; `traceback`, `host` and `details` are present for admins only. */
export interface TrailEvent {
  event: string
  start_time: string
  finish_time: string | null
  result: 'Success' | 'Error' | null
  traceback?: string | null
  host?: string | null
  details?: string | null
  updated_at: string | null
}

/** An action, with its events when asked for (`include=events`). */
export interface TrailAction {
  instance_uuid: string
  action: string
  request_id: string
  user_id: string | null
  project_id: string | null
  start_time: string
  finish_time: string | null
  message: string | null
  updated_at: string | null
  events?: TrailEvent[]
}

/** An event of the events query (`GET /v1/events`): the event with its action's keys. */
export interface QueriedEvent extends TrailEvent {
  instance_uuid: string
  request_id: string
  action: string
}

/** An event message of the stream: the event and its action's keys. */
export interface TrailEventItem {
  instance_uuid: string
  request_id: string
  action: string
  event: TrailEvent
}

/** An instance. */
export interface TrailInstance {
  uuid: string
  name: string
  project_id: string
  deleted_at: string | null
}
