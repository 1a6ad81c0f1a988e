/**
 * The live subscribers, indexed by the most selective key their filter is sure to have, so that
 * handing out a change looks at the subscribers that may want it, not at all of them: by instance,
 * else by owner project (every non-admin has one: their own), else in the list of those who watch
 * everything (admins without an instance or owner filter). The other filters are checked on each
 * candidate (StreamItem.matches).
 */
import type { Subscriber } from './subscriber.js'

/** Subscribers by index key. */
export class SubscriberIndex {
  readonly #byInstance = new Map<string, Set<Subscriber>>()
  readonly #byOwner = new Map<string, Set<Subscriber>>()
  readonly #everything = new Set<Subscriber>()
  #size = 0

  /** How many subscribers are indexed. */
  get size(): number {
    return this.#size
  }

  /** Adds a subscriber under its key. */
  add(s: Subscriber): void {
    const set = this.#bucket(s, true)
    if (set && !set.has(s)) {
      set.add(s)
      this.#size++
    }
  }

  /** Removes a subscriber. */
  delete(s: Subscriber): void {
    const set = this.#bucket(s, false)
    if (set?.delete(s)) {
      this.#size--
      const f = s.filter
      if (set.size === 0 && f.instanceUuid !== undefined) this.#byInstance.delete(f.instanceUuid)
      else if (set.size === 0 && set !== this.#everything)
        this.#byOwner.delete((f.scopeProject ?? f.ownerProjectId) as string)
    }
  }

  /** Calls `fn` for every subscriber that may want a change of this instance and owner. */
  candidates(instanceUuid: string, ownerProject: string, fn: (s: Subscriber) => void): void {
    this.#byInstance.get(instanceUuid)?.forEach(fn)
    this.#byOwner.get(ownerProject)?.forEach(fn)
    this.#everything.forEach(fn)
  }

  /** Every subscriber. */
  all(): Subscriber[] {
    return [
      ...[...this.#byInstance.values()].flatMap((s) => [...s]),
      ...[...this.#byOwner.values()].flatMap((s) => [...s]),
      ...this.#everything,
    ]
  }

  #bucket(s: Subscriber, create: boolean): Set<Subscriber> | undefined {
    const f = s.filter
    const [map, key] =
      f.instanceUuid !== undefined
        ? [this.#byInstance, f.instanceUuid]
        : (f.scopeProject ?? f.ownerProjectId) !== undefined
          ? [this.#byOwner, (f.scopeProject ?? f.ownerProjectId) as string]
          : [undefined, undefined]
    if (!map || key === undefined) return this.#everything
    let set = map.get(key)
    if (!set && create) map.set(key, (set = new Set()))
    return set
  }
}
