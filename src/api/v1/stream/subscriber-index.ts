/**
 * The live subscribers, in groups of equal filters (subscriber-group.ts), and the groups indexed
 * by the most selective key their filter is sure to have, so that handing out a change looks at
 * the groups that may want it, not at all of them: by instance, else by owner project (every
 * non-admin has one: their own), else in the list of those who watch everything (admins without
 * an instance or owner filter). The other filters are checked once per group (StreamItem.matches).
 */
import { filterKey, SubscriberGroup } from './subscriber-group.js'
import type { Subscriber } from './subscriber.js'

/** Groups of subscribers by index key. */
export class SubscriberIndex {
  readonly #byInstance = new Map<string, Map<string, SubscriberGroup>>()
  readonly #byOwner = new Map<string, Map<string, SubscriberGroup>>()
  readonly #everything = new Map<string, SubscriberGroup>()
  /** Each subscriber's group (its key is computed once). */
  readonly #groupOf = new Map<Subscriber, SubscriberGroup>()

  /** How many subscribers are indexed. */
  get size(): number {
    return this.#groupOf.size
  }

  /** Adds a subscriber to the group of its filter. */
  add(s: Subscriber): void {
    if (this.#groupOf.has(s)) return
    const bucket = this.#bucket(s, true) as Map<string, SubscriberGroup>
    const key = filterKey(s.filter)
    let group = bucket.get(key)
    if (!group) bucket.set(key, (group = new SubscriberGroup(key, s.filter)))
    group.members.add(s)
    this.#groupOf.set(s, group)
  }

  /** Removes a subscriber (and its group when it was the last member). */
  delete(s: Subscriber): void {
    const group = this.#groupOf.get(s)
    if (!group) return
    this.#groupOf.delete(s)
    group.members.delete(s)
    if (group.members.size > 0) return
    const bucket = this.#bucket(s, false)
    bucket?.delete(group.key)
    if (bucket?.size === 0 && bucket !== this.#everything) {
      const f = s.filter
      if (f.instanceUuid !== undefined) this.#byInstance.delete(f.instanceUuid)
      else this.#byOwner.delete((f.scopeProject ?? f.ownerProjectId) as string)
    }
  }

  /** Calls `fn` for every group that may want a change of this instance and owner. */
  candidates(instanceUuid: string, ownerProject: string, fn: (g: SubscriberGroup) => void): void {
    this.#byInstance.get(instanceUuid)?.forEach(fn)
    this.#byOwner.get(ownerProject)?.forEach(fn)
    this.#everything.forEach(fn)
  }

  /** Every subscriber. */
  all(): Subscriber[] {
    return [...this.#groupOf.keys()]
  }

  #bucket(s: Subscriber, create: boolean): Map<string, SubscriberGroup> | undefined {
    const f = s.filter
    const [map, key] =
      f.instanceUuid !== undefined
        ? [this.#byInstance, f.instanceUuid]
        : (f.scopeProject ?? f.ownerProjectId) !== undefined
          ? [this.#byOwner, (f.scopeProject ?? f.ownerProjectId) as string]
          : [undefined, undefined]
    if (!map || key === undefined) return this.#everything
    let bucket = map.get(key)
    if (!bucket && create) map.set(key, (bucket = new Map()))
    return bucket
  }
}
