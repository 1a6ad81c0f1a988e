/**
 * The HTTP client of ActionTrail, a package entry of its own (`actiontrail/client`) that loads no
 * server code and no Node built-in: ActionTrailClient (write API, batches, read API) and
 * BufferedActionWriter (batched writes), both ActionWriters for the recorder, over HttpTransport
 * (fetch with timeouts and retries). It runs wherever `fetch`, `AbortSignal`, `setTimeout` and
 * Web Crypto exist: Node 20, browsers, workers.
 * @module actiontrail/client
 */
export {
  ActionTrailClient,
  resultError,
  type ActionTrailClientOptions,
  type BatchOptions,
  type ListActionsOptions,
} from './action-trail-client.js'
export {
  BufferedActionWriter,
  type BatchSender,
  type BufferedActionWriterOptions,
} from './buffered-writer.js'
export { ClientClosedError, ClientHttpError, ClientNetworkError } from './client-errors.js'
export type { FailureKind } from './failure-kind.js'
export type {
  NovaInstanceAction,
  NovaInstanceActionDetail,
  NovaInstanceActionEvent,
  NovaInstanceActionList,
  NovaInstanceActionWithEvents,
} from './read-types.js'
export { parseRetryAfter } from './retry-after.js'
export { RetryPolicy, type RetryPolicyDeps, type RetryPolicyOptions } from './retry-policy.js'
export {
  HttpTransport,
  type FetchFunction,
  type TransportAnswer,
  type TransportDeps,
  type TransportOptions,
  type TransportRequest,
} from './transport.js'
export { batchResultsFromBody, type BatchResult, type WireError, type WireOp } from './wire.js'
// What a client-only user needs of the domain, so that `actiontrail/client` suffices on its own.
export type {
  ActionFinishInput,
  ActionStartInput,
  ActionWriter,
  EventFinishInput,
  EventStartInput,
  InstanceInput,
} from '../domain/action-writer.js'
export { AppError, isAppError, type ErrorCode } from '../domain/errors.js'
export type { EventResult } from '../domain/instance-action.js'
export type { Clock, Timestamp } from '../domain/timestamp.js'
