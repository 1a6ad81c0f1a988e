/**
 * The domain service: validates every input, sanitizes failures before they are stored, stamps
 * times from the injected clock, and answers the read queries the API and CLI need. It knows
 * nothing of HTTP or SQL.
 */
import type {
  ActionStore,
  ActionListQuery,
  ActionSearch,
  EventSearch,
  FoundEvent,
  InstanceFilter,
  StoreWrite,
} from '../store/action-store.js'
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
import type { WriteOperation, WriteOutcome } from './write-operation.js'
import type { DerivedOperation, EventMergeInput } from './merge-operation.js'
import type { ActionEvent, EventResult, Instance, InstanceAction } from './instance-action.js'
import { parseTimestamp, type Clock, type Timestamp } from './timestamp.js'
import {
  optionalName,
  optionalText,
  requireName,
  requireSegmentName,
  requireUuid,
  stripNul,
} from './validation.js'

/**
 * Turns raw failure text into what may be stored (see security/sanitize-traceback.ts). It may
 * answer later: a large text is sanitized off the event loop (security/sanitize-pool.ts).
 */
export type TracebackSanitizer = (text: string) => string | Promise<string>

/** Dependencies of the ActionService. */
export interface ActionServiceDeps {
  store: ActionStore
  /**
   * Where the query API's searches and exports read (`search*`, `listEventsOfActions`): a read
   * replica's routed reads when one is configured, `store` when absent. The Nova API and the
   * write API's look-ups, which must see their own writes, always read `store`.
   */
  queries?: Pick<
    ActionStore,
    | 'searchActions'
    | 'searchEvents'
    | 'listInstances'
    | 'listEventsOfActions'
    | 'exportLinesOfActions'
  >
  clock: Clock
  sanitizeTraceback: TracebackSanitizer
  /**
   * Turns raw `details` into what may be stored: the traceback pipeline (controls, invisible
   * characters, secrets, paths) and the 255-byte cap (see security/sanitize-traceback.ts).
   */
  sanitizeDetails: TracebackSanitizer
}

/** An event failure's texts after sanitizing (what `#prepareEventFinish` stores). */
interface SanitizedFailure {
  traceback: string | null
  details: string | null
}

/** An action with its events, as `show` returns it. */
export interface ActionWithEvents {
  action: InstanceAction
  events: ActionEvent[]
}

/** Longest message id a receipt keeps (the column of migration 0010). */
const MAX_MESSAGE_ID_LENGTH = 64

function timeOrNow(field: string, value: string | undefined, clock: Clock): Timestamp {
  if (value === undefined) return clock.now()
  if (typeof value !== 'string')
    throw new AppError('invalid_input', `${field} must be an ISO 8601 string`)
  const ts = parseTimestamp(value)
  if (!ts) throw new AppError('invalid_input', `${field} is not a valid ISO 8601 date-time`)
  return ts
}

/**
 * The failure texts as a merge stores them: without NUL (whatever the injected sanitizer does) and
 * details cut to 255 UTF-8 bytes; null when absent or invalid.
 */
function storedFailure(failure: SanitizedFailure | undefined): SanitizedFailure {
  return {
    traceback: typeof failure?.traceback === 'string' ? stripNul(failure.traceback) : null,
    details:
      typeof failure?.details === 'string'
        ? truncateUtf8(stripNul(failure.details), MAX_DETAILS_BYTES)
        : null,
  }
}

/** A merge's `sourceCreatedAt`, validated, as a spreadable field (none when not given). */
function sourceCreatedAt(
  value: string | null | undefined,
  clock: Clock,
): { sourceCreatedAt?: Timestamp } {
  return value == null ? {} : { sourceCreatedAt: timeOrNow('source_created_at', value, clock) }
}

/** The fields that start an action, validated alike for a start and a merge. */
function actionFields(input: ActionStartInput, clock: Clock) {
  return {
    instanceUuid: requireUuid('instance_uuid', input.instanceUuid),
    action: requireName('action', input.action),
    requestId: requireSegmentName('request_id', input.requestId),
    userId: optionalName('user_id', input.userId),
    projectId: optionalName('project_id', input.projectId),
    startTime: timeOrNow('start_time', input.startTime, clock),
  }
}

/** An event's result as given to a finish or a merge: 'Success' or 'Error'. */
function requireResult(result: unknown): asserts result is EventResult {
  if (result !== 'Success' && result !== 'Error')
    throw new AppError('invalid_input', "result must be 'Success' or 'Error'")
}

/** Validating, sanitizing facade over an ActionStore. */
export class ActionService implements ActionWriter {
  readonly #deps: ActionServiceDeps

  constructor(deps: ActionServiceDeps) {
    this.#deps = deps
  }

  /**
   * Validates and applies write operations in order, in one store transaction. An invalid or
   * failing operation is reported at its index and does not affect the others.
   */
  async apply(ops: readonly WriteOperation[]): Promise<WriteOutcome[]> {
    return this.applyDerived(ops)
  }

  /**
   * `apply` for derived writers (merge-operation.ts): the write operations plus merges and message
   * receipts, validated, sanitized and applied the same way, in one store transaction.
   */
  async applyDerived(ops: readonly DerivedOperation[]): Promise<WriteOutcome[]> {
    const outcomes: (WriteOutcome | undefined)[] = new Array(ops.length)
    const valid: StoreWrite[] = []
    const positions: number[] = []
    // Every failure text first, all at once: the sanitizer may run them in parallel off the event
    // loop. Then each operation is checked and stamped in request order, as before.
    const failures = await Promise.all(ops.map((op) => this.#sanitizeFailure(op)))
    ops.forEach((op, i) => {
      try {
        valid.push(this.#prepare(op, failures[i]))
        positions.push(i)
      } catch (err) {
        if (!(err instanceof AppError)) throw err
        outcomes[i] = { ok: false, error: err }
      }
    })
    const applied = await this.#deps.store.write(valid)
    applied.forEach((outcome, j) => {
      outcomes[positions[j] as number] = outcome
    })
    return outcomes as WriteOutcome[]
  }

  // The ActionWriter methods: each is `apply` of one operation, resolving once it is committed.
  // The stored records stay available to the API through `apply`, which returns them.

  async putInstance(input: InstanceInput): Promise<void> {
    await this.#one({ op: 'instance_put', input })
  }

  async deleteInstance(uuid: string): Promise<void> {
    await this.#one({ op: 'instance_delete', input: { uuid } })
  }

  async actionStart(input: ActionStartInput): Promise<void> {
    await this.#one({ op: 'action_start', input })
  }

  async actionFinish(input: ActionFinishInput): Promise<void> {
    await this.#one({ op: 'action_finish', input })
  }

  async eventStart(input: EventStartInput): Promise<void> {
    await this.#one({ op: 'event_start', input })
  }

  async eventFinish(input: EventFinishInput): Promise<void> {
    await this.#one({ op: 'event_finish', input })
  }

  /**
   * Does nothing: the service holds nothing of its own, and the store belongs to whoever opened
   * it (the server, the CLI, the embedding application), which closes it after its last user.
   * The service stays usable, since the API may share it with a recorder.
   */
  async close(): Promise<void> {}

  async #one(op: WriteOperation): Promise<void> {
    const [outcome] = await this.apply([op])
    if (!outcome) throw new AppError('internal', 'write produced no outcome')
    if (!outcome.ok) throw outcome.error
  }

  /**
   * The sanitized traceback and details of a failed event finish; undefined for any other
   * operation, or when a text is not valid (#prepare then reports it).
   */
  async #sanitizeFailure(w: DerivedOperation): Promise<SanitizedFailure | undefined> {
    if (
      w.op !== 'request_fault' &&
      ((w.op !== 'event_finish' && w.op !== 'event_merge') || w.input.result !== 'Error')
    )
      return undefined
    let rawTraceback: string | null
    let rawDetails: string | null
    try {
      rawTraceback = optionalText('traceback', w.input.traceback)
      rawDetails = optionalText('details', w.input.details)
    } catch {
      return undefined
    }
    const [traceback, details] = await Promise.all([
      rawTraceback === null ? null : this.#deps.sanitizeTraceback(rawTraceback),
      rawDetails === null ? null : this.#deps.sanitizeDetails(rawDetails),
    ])
    return { traceback, details }
  }

  /** Validates one operation and stamps its times; throws `invalid_input`. */
  #prepare(w: DerivedOperation, failure: SanitizedFailure | undefined): StoreWrite {
    const clock = this.#deps.clock
    switch (w.op) {
      case 'instance_put':
        return {
          op: 'instance_put',
          values: {
            uuid: requireUuid('instance_uuid', w.input.uuid),
            name: requireName('name', w.input.name),
            projectId: requireName('project_id', w.input.projectId),
            userId: requireName('user_id', w.input.userId),
            now: clock.now(),
          },
        }
      case 'instance_delete':
        return {
          op: 'instance_delete',
          uuid: requireUuid('instance_uuid', w.input.uuid),
          at: clock.now(),
        }
      case 'action_start':
        return {
          op: 'action_start',
          values: {
            ...actionFields(w.input, clock),
            createdAt: clock.now(),
            ...(w.input.writer ? { writer: w.input.writer } : {}),
          },
        }
      case 'action_finish':
        return {
          op: 'action_finish',
          values: {
            instanceUuid: requireUuid('instance_uuid', w.input.instanceUuid),
            requestId: requireName('request_id', w.input.requestId),
            finishTime: timeOrNow('finish_time', w.input.finishTime, clock),
          },
        }
      case 'event_start':
        return {
          op: 'event_start',
          values: {
            instanceUuid: requireUuid('instance_uuid', w.input.instanceUuid),
            requestId: requireName('request_id', w.input.requestId),
            event: requireSegmentName('event', w.input.event),
            host: optionalName('host', w.input.host),
            startTime: timeOrNow('start_time', w.input.startTime, clock),
            createdAt: clock.now(),
            ...(w.input.writer ? { writer: w.input.writer } : {}),
          },
        }
      case 'event_finish':
        return { op: 'event_finish', values: this.#prepareEventFinish(w.input, failure) }
      case 'instance_ensure':
        return {
          op: 'instance_put',
          values: {
            uuid: requireUuid('instance_uuid', w.input.uuid),
            name: requireName('name', w.input.name),
            projectId: requireName('project_id', w.input.projectId),
            userId: requireName('user_id', w.input.userId),
            now: clock.now(),
            keepName: true,
          },
        }
      case 'action_merge':
        return {
          op: 'action_merge',
          values: {
            ...actionFields(w.input, clock),
            finishTime:
              w.input.finishTime == null
                ? null
                : timeOrNow('finish_time', w.input.finishTime, clock),
            replaces: (w.input.replaces ?? []).map((name) => requireName('replaces', name)),
            createdAt: clock.now(),
            ...sourceCreatedAt(w.input.sourceCreatedAt, clock),
            ...(w.input.writer ? { writer: w.input.writer } : {}),
          },
        }
      case 'event_merge':
        return { op: 'event_merge', values: this.#prepareEventMerge(w.input, failure) }
      case 'message_receipt':
        return {
          op: 'message_receipt',
          values: {
            messageId: requireName('message_id', w.input.messageId, MAX_MESSAGE_ID_LENGTH),
            seenAt: clock.now(),
          },
        }
      case 'request_fault':
        return {
          op: 'request_fault',
          values: {
            requestId: requireName('request_id', w.input.requestId),
            host: requireName('host', w.input.host),
            failedAt: timeOrNow('failed_at', w.input.failedAt, clock),
            ...storedFailure(failure),
            createdAt: clock.now(),
            ...(w.input.writer ? { writer: w.input.writer } : {}),
          },
        }
      default:
        throw new AppError(
          'invalid_input',
          `unknown operation ${JSON.stringify((w as { op?: unknown }).op)}`,
        )
    }
  }

  #prepareEventMerge(input: EventMergeInput, failure: SanitizedFailure | undefined) {
    const clock = this.#deps.clock
    const startTime =
      input.startTime == null ? null : timeOrNow('start_time', input.startTime, clock)
    const finishTime =
      input.finishTime == null ? null : timeOrNow('finish_time', input.finishTime, clock)
    const result = input.result ?? null
    if (result !== null) requireResult(result)
    if (startTime === null && finishTime === null)
      throw new AppError('invalid_input', 'an event merge needs a start or a finish time')
    const failed = result === 'Error'
    return {
      instanceUuid: requireUuid('instance_uuid', input.instanceUuid),
      requestId: requireName('request_id', input.requestId),
      event: requireSegmentName('event', input.event),
      host: optionalName('host', input.host),
      startTime,
      finishTime,
      result: finishTime === null && !failed ? null : (result ?? 'Success'),
      ...storedFailure(failed ? failure : undefined),
      createdAt: clock.now(),
      ...sourceCreatedAt(input.sourceCreatedAt, clock),
      ...(input.writer ? { writer: input.writer } : {}),
    }
  }

  #prepareEventFinish(input: EventFinishInput, failure: SanitizedFailure | undefined) {
    requireResult(input.result)
    const failed = input.result === 'Error'
    // Nova writes no traceback or details on success, even when given. Checked again here (the
    // sanitizing step skipped invalid text), so that an invalid one is reported by name.
    if (failed) {
      optionalText('traceback', input.traceback)
      optionalText('details', input.details)
    }
    // NUL removed and details capped on what is stored, whatever the injected sanitizer does: a
    // failure record must be kept on every backend, not lost to a 400 or a 500 over one character.
    const { traceback, details } = storedFailure(failed ? failure : undefined)
    return {
      instanceUuid: requireUuid('instance_uuid', input.instanceUuid),
      requestId: requireName('request_id', input.requestId),
      event: requireName('event', input.event),
      result: input.result,
      finishTime: timeOrNow('finish_time', input.finishTime, this.#deps.clock),
      traceback,
      details,
      updatedAt: this.#deps.clock.now(),
      ...(input.writer ? { writer: input.writer } : {}),
    }
  }

  /**
   * The key of the writer tags, from the store (the same on every node and restart); undefined
   * for a store that keeps no tags.
   */
  async writerTagKey(): Promise<Buffer | undefined> {
    return this.#deps.store.writerTagKey?.()
  }

  /** An instance by uuid (deleted ones included), or undefined. */
  async getInstance(uuid: string): Promise<Instance | undefined> {
    return this.#deps.store.getInstance(uuid)
  }

  /** Instances visible in a project (all projects when `projectId` is undefined). */
  async listInstances(filter: {
    projectId?: string
    nameContains?: string
    limit: number
  }): Promise<Instance[]> {
    return this.#deps.store.listInstances({ ...filter, includeDeleted: false })
  }

  /** Instances matching the filter (deleted ones as it says), ordered by name then uuid. */
  async searchInstances(filter: InstanceFilter): Promise<Instance[]> {
    return (this.#deps.queries ?? this.#deps.store).listInstances(filter)
  }

  /** A page of an instance's actions, newest first. */
  async listActions(instanceUuid: string, query: ActionListQuery): Promise<InstanceAction[]> {
    return this.#deps.store.listActions(instanceUuid, query)
  }

  /** Actions of every instance matching the search, newest first (access is a filter of it). */
  async searchActions(search: ActionSearch): Promise<InstanceAction[]> {
    return (this.#deps.queries ?? this.#deps.store).searchActions(search)
  }

  /** Events of every instance matching the search (see ActionStore.searchEvents). */
  async searchEvents(search: EventSearch): Promise<FoundEvent[]> {
    return (this.#deps.queries ?? this.#deps.store).searchEvents(search)
  }

  /** The events of an action (by its store id), newest first. */
  async listEvents(actionId: number): Promise<ActionEvent[]> {
    return this.#deps.store.listEvents(actionId)
  }

  /** The events of each of these actions (by store id), each list newest first, in one read. */
  async listEventsOfActions(
    actionIds: readonly number[],
    options: { archived?: boolean } = {},
  ): Promise<Map<number, ActionEvent[]>> {
    return (this.#deps.queries ?? this.#deps.store).listEventsOfActions(actionIds, options)
  }

  /**
   * Export lines as JSON text the database builds; undefined where the store does not build
   * them (ActionStore.exportLinesOfActions).
   */
  get exportLinesOfActions(): ActionStore['exportLinesOfActions'] {
    return (this.#deps.queries ?? this.#deps.store).exportLinesOfActions
  }

  /** One action with its events, or undefined. */
  async getAction(instanceUuid: string, requestId: string): Promise<ActionWithEvents | undefined> {
    const action = await this.#deps.store.getAction(instanceUuid, requestId)
    if (!action) return undefined
    return { action, events: await this.#deps.store.listEvents(action.id) }
  }
}
