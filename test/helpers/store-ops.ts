/**
 * One method per write operation over a store's single write path, for tests: production code
 * writes through `ActionStore.write` (the domain service's `apply`), so these wrappers live here
 * rather than on the store. Each sends one write and unwraps its outcome with `expectRecord`.
 */
import type { ActionEvent, Instance, InstanceAction } from '../../src/domain/instance-action.js'
import type { Timestamp } from '../../src/domain/timestamp.js'
import { recordOf, type WriteOutcome, type WriteRecord } from '../../src/domain/write-operation.js'
import type {
  ActionFinish,
  ActionListQuery,
  ActionSearch,
  ActionStart,
  ActionStore,
  EventFinish,
  EventSearch,
  EventStart,
  FoundEvent,
  InstanceFilter,
  InstancePut,
  StoreWrite,
} from '../../src/store/action-store.js'

/**
 * The record of kind `kind` that one write left, with whether the write created it. A failed
 * write throws its own AppError, so `assert.rejects(…, (e) => isAppError(e, code))` works on it.
 */
export function expectRecord<K extends WriteRecord['kind']>(
  outcome: WriteOutcome | undefined,
  kind: K,
): Extract<WriteRecord, { kind: K }> & { created: boolean } {
  const record = recordOf(outcome, kind)
  return { ...record, created: outcome?.ok === true && outcome.created }
}

/** An ActionStore with a method for each write operation. */
export class TestStore implements ActionStore {
  /** The store under test. */
  readonly store: ActionStore

  constructor(store: ActionStore) {
    this.store = store
  }

  async #one<K extends WriteRecord['kind']>(op: StoreWrite, kind: K) {
    return expectRecord((await this.store.write([op]))[0], kind)
  }

  write(ops: readonly StoreWrite[]): Promise<WriteOutcome[]> {
    return this.store.write(ops)
  }

  getInstance(uuid: string): Promise<Instance | undefined> {
    return this.store.getInstance(uuid)
  }

  listInstances(filter: InstanceFilter): Promise<Instance[]> {
    return this.store.listInstances(filter)
  }

  getAction(instanceUuid: string, requestId: string): Promise<InstanceAction | undefined> {
    return this.store.getAction(instanceUuid, requestId)
  }

  listActions(instanceUuid: string, query: ActionListQuery): Promise<InstanceAction[]> {
    return this.store.listActions(instanceUuid, query)
  }

  listEvents(actionId: number): Promise<ActionEvent[]> {
    return this.store.listEvents(actionId)
  }

  listEventsOfActions(
    actionIds: readonly number[],
    options?: { archived?: boolean },
  ): Promise<Map<number, ActionEvent[]>> {
    return this.store.listEventsOfActions(actionIds, options)
  }

  searchActions(search: ActionSearch): Promise<InstanceAction[]> {
    return this.store.searchActions(search)
  }

  searchEvents(search: EventSearch): Promise<FoundEvent[]> {
    return this.store.searchEvents(search)
  }

  close(): Promise<void> {
    return this.store.close()
  }

  /** Registers an instance or updates its name/owner. */
  async putInstance(values: InstancePut): Promise<Instance> {
    return (await this.#one({ op: 'instance_put', values }, 'instance')).instance
  }

  /** Marks an instance deleted; undefined when unknown. */
  async deleteInstance(uuid: string, at: Timestamp): Promise<Instance | undefined> {
    const [outcome] = await this.store.write([{ op: 'instance_delete', uuid, at }])
    if (outcome && !outcome.ok && outcome.error.code === 'instance_not_found') return undefined
    return expectRecord(outcome, 'instance').instance
  }

  /** Starts an action: the row, and whether this call created it (false on a retry). */
  async startAction(values: ActionStart): Promise<{ action: InstanceAction; created: boolean }> {
    const { action, created } = await this.#one({ op: 'action_start', values }, 'action')
    return { action, created }
  }

  /** Finishes an action. */
  async finishAction(values: ActionFinish): Promise<InstanceAction> {
    return (await this.#one({ op: 'action_finish', values }, 'action')).action
  }

  /** Starts an event. */
  async startEvent(values: EventStart): Promise<ActionEvent> {
    return (await this.#one({ op: 'event_start', values }, 'event')).event
  }

  /** Finishes an event. */
  async finishEvent(values: EventFinish): Promise<ActionEvent> {
    return (await this.#one({ op: 'event_finish', values }, 'event')).event
  }
}
