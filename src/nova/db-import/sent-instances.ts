/**
 * The instances an action walk has already sent to the writer, so that each goes once: a batch
 * carries only the instances its actions name that no earlier batch of the walk carried.
 *
 * Why: a batch writes its instances in its own transaction (an instance created in Nova after
 * the instance walk still gets its actions), and a batch of 1,000 actions names hundreds of
 * instances, mostly the same from batch to batch. Each was read, mapped, copied to the writer's
 * thread and passed through `import_instances` again in every batch: 1,000 instance records per
 * batch in bench:nova-import's cell (10,000 instances).
 *
 * Once sent, an instance is in the store for the rest of the walk: the writes are in order, and a
 * batch that is not written stops the walk. What a later batch no longer brings: a deletion of the
 * instance in Nova during the walk (the next import run, or the follower's notification, takes it
 * over). The set is bounded: past {@link SENT_LIMIT} instances
 * it starts over, so that memory stays flat at any size (an instance is then sent again, which
 * changes nothing). The chain planner (chain-planner.ts) reads the same set: an action's instance
 * is known to the store when its batch or an earlier one carried it.
 */
import type { ImportedInstance } from '../../store/action-store.js'

/** Instances remembered before the set starts over. */
export const SENT_LIMIT = 100_000

/** See the module. */
export class SentInstances {
  readonly #owners = new Map<string, string>()
  readonly #limit: number

  constructor(limit = SENT_LIMIT) {
    this.#limit = limit
  }

  /** The owner (project) of an instance sent, or undefined. */
  get(uuid: string): string | undefined {
    return this.#owners.get(uuid)
  }

  /** True when the instance was sent (the set may have started over since). */
  has(uuid: string): boolean {
    return this.#owners.has(uuid)
  }

  /** Starts a batch: over again when the set is full. */
  startBatch(): void {
    if (this.#owners.size >= this.#limit) this.#owners.clear()
  }

  /** Notes the instances a batch carries. */
  add(instances: readonly ImportedInstance[]): void {
    for (const i of instances) this.#owners.set(i.uuid, i.projectId)
  }
}
