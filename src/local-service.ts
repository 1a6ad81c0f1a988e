/**
 * The composition of the domain service over a store with the real clock and sanitizer — what the
 * server, the CLI and an embedding application use.
 */
import { ActionService } from './domain/action-service.js'
import { systemClock, type Clock } from './domain/timestamp.js'
import { sanitizeDetails, sanitizeTraceback } from './security/sanitize-traceback.js'
import type { ActionStore } from './store/action-store.js'

/** Builds the ActionService for a store; `clock` is injectable for tests. */
export function createActionService(
  store: ActionStore,
  clock: Clock = systemClock(),
): ActionService {
  return new ActionService({
    store,
    clock,
    sanitizeTraceback: (text) => sanitizeTraceback(text),
    sanitizeDetails: (text) => sanitizeDetails(text),
  })
}
