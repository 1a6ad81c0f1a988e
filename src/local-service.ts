/**
 * The composition of the domain service over a store with the real clock and sanitizer — what the
 * server, the CLI and an embedding application use.
 */
import { ActionService, type ActionServiceDeps } from './domain/action-service.js'
import { systemClock, type Clock } from './domain/timestamp.js'
import { createSanitizerPool, type SanitizerPool } from './security/sanitize-pool.js'
import type { ActionStore } from './store/action-store.js'

// One pool per process, shared by every service built here: its workers start only when a large
// traceback arrives and never keep the process alive, so nobody has to close it.
let sharedPool: SanitizerPool | undefined

/**
 * Builds the ActionService for a store; `clock` is injectable for tests. Tracebacks and details
 * are sanitized off the event loop when large (security/sanitize-pool.ts), with the output of
 * sanitizeTraceback / sanitizeDetails. `queries` serves the query API's reads (a read replica's
 * routed reads: the stores' `queries`); `store` when absent.
 */
export function createActionService(
  store: ActionStore,
  clock: Clock = systemClock(),
  queries?: ActionServiceDeps['queries'],
): ActionService {
  const pool = (sharedPool ??= createSanitizerPool())
  return new ActionService({
    store,
    ...(queries ? { queries } : {}),
    clock,
    sanitizeTraceback: (text) => pool.traceback(text),
    sanitizeDetails: (text) => pool.details(text),
  })
}
