/**
 * The recording library that services embed: the TypeScript counterpart of Nova's
 * `InstanceAction`/`InstanceActionEvent` class methods, `EventReporter` and `wrap_instance_event`.
 * It writes through an ActionWriter: the local ActionService (embedded store) or the HTTP client.
 */
import type { ActionWriter } from '../domain/action-writer.js'
import { failureDetails } from '../domain/details.js'
import { isAppError } from '../domain/errors.js'
import { formatStackFrames } from './format-stack.js'
import type { RequestContext } from './request-context.js'

/** Options of an ActionRecorder. */
export interface ActionRecorderOptions {
  writer: ActionWriter
  /** This service's host name, recorded on every event (Nova's CONF.host). */
  host?: string | null
}

/** Options of withInstanceEvent. */
export interface InstanceEventOptions {
  /**
   * Mirrors Nova's `graceful_exit`: when the action has vanished by the time the event is
   * finished, swallow that error — and with it any error of the wrapped function — and resolve
   * `undefined`. Default false.
   */
  gracefulExit?: boolean
  /** Overrides the recorder's host for this event. */
  host?: string | null
}

/**
 * Records actions and events for one service. Each call resolves once its write is durable, with
 * nothing: the writer may not know the stored record (ActionWriter). The recorder does not own
 * its writer and never closes it; whoever made the writer closes it.
 *
 * @example
 * ```ts
 * const recorder = new ActionRecorder({ writer: service, host: 'compute-1' })
 * await recorder.actionStart(ctx, instanceUuid, 'reboot')
 * await recorder.withInstanceEvent(ctx, instanceUuid, 'compute_reboot_instance', () => reboot(instanceUuid))
 * ```
 */
export class ActionRecorder {
  readonly #writer: ActionWriter
  readonly #host: string | null

  constructor(options: ActionRecorderOptions) {
    this.#writer = options.writer
    this.#host = options.host ?? null
  }

  /** Starts an action under the context's request id, user and project. */
  actionStart(ctx: RequestContext, instanceUuid: string, action: string): Promise<void> {
    return this.#writer.actionStart({
      instanceUuid,
      action,
      requestId: ctx.requestId,
      userId: ctx.userId,
      projectId: ctx.projectId,
      startTime: ctx.timestamp,
    })
  }

  /** Marks the context's action on the instance finished. */
  actionFinish(ctx: RequestContext, instanceUuid: string): Promise<void> {
    return this.#writer.actionFinish({ instanceUuid, requestId: ctx.requestId })
  }

  /** Starts an event of the context's action; fails with `action_not_found` when there is none. */
  eventStart(
    ctx: RequestContext,
    instanceUuid: string,
    event: string,
    host: string | null = this.#host,
  ): Promise<void> {
    return this.#writer.eventStart({ instanceUuid, requestId: ctx.requestId, event, host })
  }

  /** Finishes an event with result Success. */
  eventFinish(ctx: RequestContext, instanceUuid: string, event: string): Promise<void> {
    return this.#writer.eventFinish({
      instanceUuid,
      requestId: ctx.requestId,
      event,
      result: 'Success',
    })
  }

  /**
   * Finishes an event with result Error. `failure` gives `details` by Nova's rule (a string or a
   * PublicError's message, else only the class name); `traceback` defaults to the failure's stack
   * frames. Both are sanitized by the writer before storage.
   */
  eventFinishWithFailure(
    ctx: RequestContext,
    instanceUuid: string,
    event: string,
    failure: unknown,
    traceback: string | null = formatStackFrames(failure),
  ): Promise<void> {
    return this.#writer.eventFinish({
      instanceUuid,
      requestId: ctx.requestId,
      event,
      result: 'Error',
      details: failure == null ? null : failureDetails(failure),
      traceback,
    })
  }

  /**
   * Runs `fn` inside an event on each instance: the event is started before (if that fails, `fn`
   * never runs), finished Success after, or on a throw finished Error with the sanitized failure,
   * after which the error is re-thrown.
   */
  async withInstanceEvent<T>(
    ctx: RequestContext,
    instanceUuids: string | readonly string[],
    event: string,
    fn: () => Promise<T> | T,
    options: InstanceEventOptions = {},
  ): Promise<T | undefined> {
    const uuids = typeof instanceUuids === 'string' ? [instanceUuids] : instanceUuids
    const host = options.host === undefined ? this.#host : options.host
    for (const uuid of uuids) await this.eventStart(ctx, uuid, event, host)
    let result: T | undefined
    let failure: unknown
    let failed = false
    try {
      result = await fn()
    } catch (err) {
      failed = true
      failure = err
    }
    for (const uuid of uuids) {
      try {
        if (failed) await this.eventFinishWithFailure(ctx, uuid, event, failure)
        else await this.eventFinish(ctx, uuid, event)
      } catch (finishError) {
        if (options.gracefulExit && isAppError(finishError, 'action_not_found')) return undefined
        throw finishError
      }
    }
    if (failed) throw failure
    return result
  }
}
