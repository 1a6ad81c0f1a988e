/**
 * The domain service: validates every input, sanitizes failures before they are stored, stamps
 * times from the injected clock, and answers the read queries the API and CLI need. It knows
 * nothing of HTTP or SQL.
 */
import type { ActionStore, ActionListQuery } from '../store/action-store.js'
import type {
  ActionFinishInput,
  ActionStartInput,
  ActionWriter,
  EventFinishInput,
  EventStartInput,
  InstanceInput,
} from './action-writer.js'
import { MAX_DETAILS_BYTES, truncateUtf8 } from './details.js'
import { AppError } from './errors.js'
import type { ActionEvent, Instance, InstanceAction } from './instance-action.js'
import { parseTimestamp, type Clock, type Timestamp } from './timestamp.js'
import { optionalName, requireName, requireUuid } from './validation.js'

/** Turns raw failure text into what may be stored (see security/sanitize-traceback.ts). */
export type TracebackSanitizer = (text: string) => string

/** Dependencies of the ActionService. */
export interface ActionServiceDeps {
  store: ActionStore
  clock: Clock
  sanitizeTraceback: TracebackSanitizer
  /** Masks secrets in short public text (details). */
  maskSecrets: (text: string) => string
}

/** An action with its events, as `show` returns it. */
export interface ActionWithEvents {
  action: InstanceAction
  events: ActionEvent[]
}

function timeOrNow(field: string, value: string | undefined, clock: Clock): Timestamp {
  if (value === undefined) return clock.now()
  if (typeof value !== 'string') throw new AppError('invalid_input', `${field} must be an ISO 8601 string`)
  const ts = parseTimestamp(value)
  if (!ts) throw new AppError('invalid_input', `${field} is not a valid ISO 8601 date-time`)
  return ts
}

/** Validating, sanitizing facade over an ActionStore. */
export class ActionService implements ActionWriter {
  readonly #deps: ActionServiceDeps

  constructor(deps: ActionServiceDeps) {
    this.#deps = deps
  }

  async putInstance(input: InstanceInput): Promise<Instance> {
    return this.#deps.store.putInstance({
      uuid: requireUuid('uuid', input.uuid),
      name: requireName('name', input.name),
      projectId: requireName('project_id', input.projectId),
      userId: requireName('user_id', input.userId),
      now: this.#deps.clock.now(),
    })
  }

  async deleteInstance(uuid: string): Promise<Instance> {
    const id = requireUuid('uuid', uuid)
    const instance = await this.#deps.store.deleteInstance(id, this.#deps.clock.now())
    if (!instance) throw new AppError('instance_not_found', `Instance ${id} could not be found.`)
    return instance
  }

  async actionStart(input: ActionStartInput): Promise<InstanceAction> {
    const { action } = await this.#deps.store.startAction({
      instanceUuid: requireUuid('instance_uuid', input.instanceUuid),
      action: requireName('action', input.action),
      requestId: requireName('request_id', input.requestId),
      userId: optionalName('user_id', input.userId),
      projectId: optionalName('project_id', input.projectId),
      startTime: timeOrNow('start_time', input.startTime, this.#deps.clock),
      createdAt: this.#deps.clock.now(),
    })
    return action
  }

  async actionFinish(input: ActionFinishInput): Promise<InstanceAction> {
    return this.#deps.store.finishAction({
      instanceUuid: requireUuid('instance_uuid', input.instanceUuid),
      requestId: requireName('request_id', input.requestId),
      finishTime: timeOrNow('finish_time', input.finishTime, this.#deps.clock),
    })
  }

  async eventStart(input: EventStartInput): Promise<ActionEvent> {
    return this.#deps.store.startEvent({
      instanceUuid: requireUuid('instance_uuid', input.instanceUuid),
      requestId: requireName('request_id', input.requestId),
      event: requireName('event', input.event),
      host: optionalName('host', input.host),
      startTime: timeOrNow('start_time', input.startTime, this.#deps.clock),
      createdAt: this.#deps.clock.now(),
    })
  }

  async eventFinish(input: EventFinishInput): Promise<ActionEvent> {
    if (input.result !== 'Success' && input.result !== 'Error') {
      throw new AppError('invalid_input', "result must be 'Success' or 'Error'")
    }
    const failed = input.result === 'Error'
    // Nova writes no traceback or details on success, even when given.
    const traceback = failed && input.traceback != null ? this.#deps.sanitizeTraceback(String(input.traceback)) : null
    const details =
      failed && input.details != null
        ? truncateUtf8(this.#deps.maskSecrets(String(input.details)), MAX_DETAILS_BYTES)
        : null
    return this.#deps.store.finishEvent({
      instanceUuid: requireUuid('instance_uuid', input.instanceUuid),
      requestId: requireName('request_id', input.requestId),
      event: requireName('event', input.event),
      result: input.result,
      finishTime: timeOrNow('finish_time', input.finishTime, this.#deps.clock),
      traceback,
      details,
      updatedAt: this.#deps.clock.now(),
    })
  }

  /** An instance by uuid (deleted ones included), or undefined. */
  async getInstance(uuid: string): Promise<Instance | undefined> {
    return this.#deps.store.getInstance(uuid)
  }

  /** Instances visible in a project (all projects when `projectId` is undefined). */
  async listInstances(filter: { projectId?: string; nameContains?: string; limit: number }): Promise<Instance[]> {
    return this.#deps.store.listInstances({ ...filter, includeDeleted: false })
  }

  /** A page of an instance's actions, newest first. */
  async listActions(instanceUuid: string, query: ActionListQuery): Promise<InstanceAction[]> {
    return this.#deps.store.listActions(instanceUuid, query)
  }

  /** One action with its events, or undefined. */
  async getAction(instanceUuid: string, requestId: string): Promise<ActionWithEvents | undefined> {
    const action = await this.#deps.store.getAction(instanceUuid, requestId)
    if (!action) return undefined
    return { action, events: await this.#deps.store.listEvents(action.id) }
  }
}
