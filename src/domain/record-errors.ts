/**
 * The errors about records that are missing or already taken, with the text users see. Where Nova
 * has a message for the case (its not-found faults, which clients and tempest compare), the text
 * is Nova's, word for word; it is built here, in the domain, so that every backend and every write
 * path says the same thing and the store only decides *that* a record is missing.
 */
import { AppError } from './errors.js'

/** Nova's `InstanceNotFound`: no instance with this uuid. */
export function instanceNotFound(uuid: string): AppError {
  return new AppError('instance_not_found', `Instance ${uuid} could not be found.`)
}

/** Nova's `InstanceActionNotFound`: no action with this request id on the instance. */
export function actionNotFound(requestId: string, instanceUuid: string): AppError {
  return new AppError(
    'action_not_found',
    `Action for request_id ${requestId} on instance ${instanceUuid} not found`,
  )
}

/** Nova's `InstanceActionEventNotFound`: no event of this name in the action. */
export function eventNotFound(event: string, actionId: number): AppError {
  return new AppError('event_not_found', `Event ${event} not found for action id ${actionId}`)
}

/**
 * Nova's `MarkerNotFound` for an action list. Nova formats its lookup result, not the marker,
 * into the text, so it always names "None"; clients match that text.
 */
export function markerNotFound(): AppError {
  return new AppError('marker_not_found', 'Marker None could not be found.')
}

/**
 * ActionTrail's own (Nova has no unique request id): the request id already started a different
 * action on the instance.
 */
export function requestIdConflict(
  requestId: string,
  startedAction: string,
  instanceUuid: string,
): AppError {
  return new AppError(
    'conflict',
    `Request ${requestId} already started action '${startedAction}' on instance ${instanceUuid}`,
  )
}

/** What Nova's os-instance-actions `show` answers for an unknown request id (its API's own text). */
export function shownActionNotFound(requestId: string): AppError {
  return new AppError('action_not_found', `Action ${requestId} not found`)
}
