/** Who is doing what: the part of a request context that actions and events are recorded under. */

/** The request an action belongs to (Nova's RequestContext, reduced to what is recorded). */
export interface RequestContext {
  /** `req-<uuid4>`: the id returned to the API client that started the action. */
  requestId: string
  userId: string | null
  projectId: string | null
  /** When the request started (ISO 8601); the action's start_time. Now when absent. */
  timestamp?: string
}
