/**
 * The write path as one principal uses it (issue 11 part 5): every operation is checked against
 * the principal's reach (static token-file scope and the `actiontrail:write` rule with the owner
 * project and host as target, see auth/policy.ts canWriteTo) and, when allowed, carries the
 * principal's writer tag to the store. An operation out of reach is answered `forbidden` at its
 * index and never reaches the store, so nothing of it is stored.
 *
 * The owner project is read before the write, outside its transaction: an administrator moving an
 * instance to another project at the same moment could let one write land on it after the move.
 * Scoped writers themselves cannot move instances (an instance_put out of or into scope is refused).
 */
import type { AccessPolicy } from '../../auth/access-policy.js'
import { canWriteTo, writesNeedTargets, type WriteTarget } from '../../auth/policy.js'
import type { Principal } from '../../auth/principal.js'
import type { ActionService } from '../../domain/action-service.js'
import { AppError } from '../../domain/errors.js'
import type { WriteOperation, WriteOutcome } from '../../domain/write-operation.js'
import { writerTag } from '../../security/writer-tag.js'

/** What the write routes apply operations through: ActionService itself, or a PrincipalWriter. */
export interface WriteApplier {
  apply(ops: readonly WriteOperation[]): Promise<WriteOutcome[]>
}

/** Fetches the writer tag key once per process (again after a failure); undefined: no tags. */
export function writerTagKeySource(service: ActionService): () => Promise<Buffer | undefined> {
  let pending: Promise<Buffer | undefined> | undefined
  return () => {
    pending ??= service.writerTagKey().catch((err: unknown) => {
      pending = undefined
      throw err
    })
    return pending
  }
}

const OUT_OF_SCOPE = 'This writer may not write to the project or host of this operation.'

/** An unfinished event started earlier in the same request, for a later finish's host. */
interface StartedEvent {
  key: string
  host: string | null
}

/** ActionService.apply for one principal: scope checks, then the writer tag on every record. */
export class PrincipalWriter implements WriteApplier {
  readonly #service: ActionService
  readonly #policy: AccessPolicy
  readonly #principal: Principal
  readonly #tagKey: () => Promise<Buffer | undefined>
  readonly #checks: boolean
  // Owner projects as this request has seen or set them (a batch may register an instance and
  // then write to it before either is stored).
  readonly #owners = new Map<string, string>()
  readonly #started: StartedEvent[] = []

  constructor(
    service: ActionService,
    policy: AccessPolicy,
    principal: Principal,
    tagKey: () => Promise<Buffer | undefined>,
  ) {
    this.#service = service
    this.#policy = policy
    this.#principal = principal
    this.#tagKey = tagKey
    this.#checks = writesNeedTargets(policy, principal)
  }

  async apply(ops: readonly WriteOperation[]): Promise<WriteOutcome[]> {
    const key = await this.#tagKey()
    const tag = key ? writerTag(key, this.#principal.userId) : undefined
    const outcomes: (WriteOutcome | undefined)[] = new Array(ops.length)
    const allowed: WriteOperation[] = []
    const positions: number[] = []
    for (const [i, op] of ops.entries()) {
      // In order: an operation may depend on an instance or event an earlier one creates.
      if (this.#checks && !(await this.#allowed(op))) {
        outcomes[i] = { ok: false, error: new AppError('forbidden', OUT_OF_SCOPE) }
        continue
      }
      allowed.push(tag ? tagged(op, tag) : op)
      positions.push(i)
    }
    if (allowed.length > 0) {
      const applied = await this.#service.apply(allowed)
      applied.forEach((outcome, j) => {
        outcomes[positions[j] as number] = outcome
      })
    }
    return outcomes as WriteOutcome[]
  }

  /** Whether the operation is in reach; an unknown instance is left to the store (404). */
  async #allowed(op: WriteOperation): Promise<boolean> {
    const may = (target: WriteTarget) => canWriteTo(this.#policy, this.#principal, target)
    if (op.op === 'instance_put') {
      const current = await this.#owner(op.input.uuid)
      // Moving an instance is allowed only between two projects both in reach.
      if (current !== undefined && !may({ ownerProject: current })) return false
      if (typeof op.input.projectId !== 'string') return true // the service answers 400
      if (!may({ ownerProject: op.input.projectId })) return false
      this.#owners.set(op.input.uuid, op.input.projectId)
      return true
    }
    const uuid = op.op === 'instance_delete' ? op.input.uuid : op.input.instanceUuid
    const owner = await this.#owner(uuid)
    if (owner === undefined) return true
    switch (op.op) {
      case 'event_start': {
        const host = op.input.host ?? null
        if (!may({ ownerProject: owner, host })) return false
        this.#started.push({ key: eventKey(uuid, op.input.requestId, op.input.event), host })
        return true
      }
      case 'event_finish': {
        const host = await this.#finishedHost(uuid, op.input.requestId, op.input.event)
        return may(host === undefined ? { ownerProject: owner } : { ownerProject: owner, host })
      }
      default:
        return may({ ownerProject: owner })
    }
  }

  async #owner(uuid: string): Promise<string | undefined> {
    const known = this.#owners.get(uuid)
    if (known !== undefined) return known
    const instance = await this.#service.getInstance(uuid)
    if (instance) this.#owners.set(uuid, instance.projectId)
    return instance?.projectId
  }

  /**
   * The host of the event a finish would finish (the oldest unfinished one of that name, as the
   * store chooses), stored or started earlier in this request; undefined when there is none (the
   * finish then changes nothing, or is a 404).
   */
  async #finishedHost(
    uuid: string,
    requestId: string,
    event: string,
  ): Promise<string | null | undefined> {
    const found = await this.#service.getAction(uuid, requestId)
    const unfinished = (found?.events ?? [])
      .filter((e) => e.event === event && e.finishTime === null)
      .sort((a, b) => a.id - b.id)[0]
    if (unfinished) return unfinished.host
    const key = eventKey(uuid, requestId, event)
    const index = this.#started.findIndex((s) => s.key === key)
    if (index < 0) return undefined
    const [started] = this.#started.splice(index, 1)
    return started?.host
  }
}

function eventKey(uuid: string, requestId: string, event: string): string {
  return JSON.stringify([uuid, requestId, event])
}

/** The operation with the writer's tag, for the writes that record one. */
function tagged(op: WriteOperation, writer: string): WriteOperation {
  switch (op.op) {
    case 'action_start':
    case 'event_start':
    case 'event_finish':
      return { ...op, input: { ...op.input, writer } } as WriteOperation
    default:
      return op
  }
}

/**
 * The request's write path, set by the write routes' access hook; a write route reached without
 * it is a wiring bug (it would write unchecked), so it throws instead of writing.
 */
export function writerOf(request: { writer?: WriteApplier }): WriteApplier {
  if (!request.writer) throw new AppError('internal', 'write route without a writer')
  return request.writer
}
