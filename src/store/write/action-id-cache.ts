/** A bounded map of (instance, request id) → action id, for executors (see write-programs.ts). */
import type { ActionIdCache } from './write-programs.js'

/** A Map-based cache that drops the oldest entries beyond `capacity`. */
export class BoundedActionIdCache implements ActionIdCache {
  readonly #map = new Map<string, number>()
  readonly #capacity: number

  constructor(capacity = 50_000) {
    this.#capacity = capacity
  }

  get(instanceUuid: string, requestId: string): number | undefined {
    return this.#map.get(`${instanceUuid}\n${requestId}`)
  }

  set(instanceUuid: string, requestId: string, id: number): void {
    this.#setKey(`${instanceUuid}\n${requestId}`, id)
  }

  /** Remembers everything `other` remembers (oldest first, so `other`'s newest stay longest). */
  absorb(other: BoundedActionIdCache): void {
    for (const [key, id] of other.#map) this.#setKey(key, id)
  }

  #setKey(key: string, id: number): void {
    if (this.#map.size >= this.#capacity) {
      const oldest = this.#map.keys().next()
      if (!oldest.done) this.#map.delete(oldest.value)
    }
    this.#map.set(key, id)
  }

  /** Forgets everything: after a rollback, cached ids may name rows that were never committed. */
  clear(): void {
    this.#map.clear()
  }
}
