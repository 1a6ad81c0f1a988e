/**
 * ActionTrail's public library surface: record instance actions and events from a TypeScript
 * service (ActionRecorder over a local store or the HTTP client), and embed the server. The client
 * alone, without any server code, is the `actiontrail/client` entry (src/client/index.ts), also
 * re-exported here.
 * @module actiontrail
 */
export * from './domain/errors.js'
export * from './domain/instance-action.js'
export * from './domain/action-writer.js'
export * from './domain/action-names.js'
export { PublicError, failureDetails, truncateUtf8, MAX_DETAILS_BYTES } from './domain/details.js'
export { ActionService, type ActionWithEvents } from './domain/action-service.js'
export { parseTimestamp, systemClock, type Clock, type Timestamp } from './domain/timestamp.js'
export {
  ActionRecorder,
  type ActionRecorderOptions,
  type InstanceEventOptions,
} from './recorder/action-recorder.js'
export type { RequestContext } from './recorder/request-context.js'
export { createActionService } from './local-service.js'
export type { ActionStore, ActionListQuery } from './store/action-store.js'
export type { IdempotencyRecord, IdempotencyStore } from './store/idempotency-store.js'
export { openStore, openStores, type Stores } from './store/open-store.js'
export {
  sanitizeTraceback,
  sanitizeDetails,
  maskSecrets,
  MAX_TRACEBACK_BYTES,
} from './security/sanitize-traceback.js'
export { hostId } from './security/host-id.js'
export { createLogger } from './security/redacting-logger.js'
export { buildApp, type AppDeps } from './api/app.js'
export { startServer, type RunningServer } from './server.js'
export { StaticTokenAuthenticator, loadTokenFile } from './auth/token-file.js'
export type { Authenticator, Principal, Role } from './auth/principal.js'
export {
  AccessPolicy,
  DEFAULT_POLICY,
  type AccessPolicyOptions,
  type EffectiveRule,
} from './auth/access-policy.js'
export { loadAccessPolicy } from './auth/policy-file.js'
export * from './client/index.js'
