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
    if (this.#map.size >= this.#capacity) {
      const oldest = this.#map.keys().next()
      if (!oldest.done) this.#map.delete(oldest.value)
    }
    this.#map.set(`${instanceUuid}\n${requestId}`, id)
  }

  /** Every remembered (instance, request id, action id), oldest first. */
  *entries(): IterableIterator<[string, string, number]> {
    for (const [key, id] of this.#map) {
      // Instance uuids never contain a newline, so the first one separates the two parts.
      const cut = key.indexOf('\n')
      yield [key.slice(0, cut), key.slice(cut + 1), id]
    }
  }

  /** Forgets everything: after a rollback, cached ids may name rows that were never committed. */
  clear(): void {
    this.#map.clear()
  }
}
