/**
 * The bounded cache of token validations (keystonemiddleware's `token_cache_time`): keyed by the
 * SHA-256 of the token (never the token), each entry with its own deadline, least recently used
 * entries evicted past `maxEntries`. A JavaScript Map keeps insertion order, so re-inserting on
 * every hit makes its first key the least recently used one.
 */

/** One cached answer: a principal, or `null` for a token Keystone refused. */
interface Entry<T> {
  value: T
  expiresAtMs: number
}

/** A size-bounded map whose entries expire. */
export class ValidationCache<T> {
  readonly #entries = new Map<string, Entry<T>>()
  readonly #maxEntries: number

  constructor(maxEntries: number) {
    this.#maxEntries = Math.max(0, Math.floor(maxEntries))
  }

  /** The value under `key` if it has not expired at `nowMs`. */
  get(key: string, nowMs: number): T | undefined {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    this.#entries.delete(key)
    if (entry.expiresAtMs <= nowMs) return undefined
    this.#entries.set(key, entry)
    return entry.value
  }

  /** Keeps `value` until `expiresAtMs` (nothing is kept when that is not after `nowMs`). */
  set(key: string, value: T, expiresAtMs: number, nowMs: number): void {
    this.#entries.delete(key)
    if (expiresAtMs <= nowMs || this.#maxEntries === 0) return
    this.#entries.set(key, { value, expiresAtMs })
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next()
      if (oldest.done) break
      this.#entries.delete(oldest.value)
    }
  }

  /** Entries held (expired ones included until they are next looked up or evicted). */
  get size(): number {
    return this.#entries.size
  }
}
