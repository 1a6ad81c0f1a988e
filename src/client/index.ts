/**
 * The HTTP client of ActionTrail: ActionTrailClient (write API, batches, read API) and
 * BufferedActionWriter (batched writes), both ActionWriters for the recorder.
 * @module actiontrail/client
 */
export {
  ActionTrailClient,
  resultError,
  type ActionTrailClientOptions,
  type BatchOptions,
  type FetchFunction,
  type ListActionsOptions,
  type NovaInstanceAction,
  type NovaInstanceActionDetail,
  type NovaInstanceActionEvent,
  type NovaInstanceActionList,
} from './action-trail-client.js'
export { BufferedActionWriter, type BatchSender, type BufferedActionWriterOptions } from './buffered-writer.js'
export { ClientClosedError, ClientHttpError, ClientNetworkError } from './client-errors.js'
export {
  actionFromBody,
  batchResultsFromBody,
  eventFromBody,
  instanceFromBody,
  type BatchResult,
  type WireAction,
  type WireError,
  type WireEvent,
  type WireInstance,
  type WireOp,
} from './wire.js'
