/**
 * The `_context_*` keys of a Nova notification, whitelisted (spec nova-notifications.md §1.6):
 * before oslo.messaging 14.4.0 the whole request context travels with every notification,
 * including `_context_auth_token`, a live Keystone token, and the client's address. Only the keys
 * below survive; everything else is dropped here, before anything is logged or stored.
 */

/** What the follower keeps of a notification's request context. */
export interface NovaContext {
  requestId: string | null
  globalRequestId: string | null
  userId: string | null
  projectId: string | null
  /** `_context_timestamp` as sent (`YYYY-MM-DDTHH:MM:SS.ffffff`, UTC); parsed by the caller. */
  timestamp: string | null
  userName: string | null
  projectName: string | null
}

const KEPT = {
  _context_request_id: 'requestId',
  _context_global_request_id: 'globalRequestId',
  _context_user_id: 'userId',
  _context_project_id: 'projectId',
  _context_timestamp: 'timestamp',
  _context_user_name: 'userName',
  _context_project_name: 'projectName',
} as const satisfies Record<string, keyof NovaContext>

/** The whitelisted context of an inner message; a non-string or empty value is null. */
export function pickContext(message: Readonly<Record<string, unknown>>): NovaContext {
  const context: NovaContext = {
    requestId: null,
    globalRequestId: null,
    userId: null,
    projectId: null,
    timestamp: null,
    userName: null,
    projectName: null,
  }
  for (const [key, field] of Object.entries(KEPT)) {
    const value = message[key]
    if (typeof value === 'string' && value !== '') context[field] = value
  }
  return context
}
