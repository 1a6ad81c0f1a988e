/**
 * A set of record ids as bits: verify remembers which records it has met with flat memory (one
 * bit per id up to the largest, 125 KB per million), where a Set of numbers would take about
 * 40 bytes per id.
 */
export class IdBitset {
  #words = new Uint32Array(1024)

  /** True when `id` was added. */
  has(id: number): boolean {
    const word = id >>> 5
    return word < this.#words.length && (this.#words[word]! & (1 << (id & 31))) !== 0
  }

  /** Adds `id` (a non-negative integer below 2^32). */
  add(id: number): void {
    const word = id >>> 5
    if (word >= this.#words.length) {
      let size = this.#words.length
      while (size <= word) size *= 2
      const grown = new Uint32Array(size)
      grown.set(this.#words)
      this.#words = grown
    }
    this.#words[word]! |= 1 << (id & 31)
  }
}
