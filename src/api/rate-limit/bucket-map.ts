/**
 * The buckets of all callers, bounded in memory: at most `maxBuckets` are kept, in least recently
 * used order. Each use forgets up to two buckets at the cold end that have refilled (losing
 * nothing: a new bucket starts full), so an idle server keeps few; when the map is still at its cap,
 * the least recently used bucket goes even if not full, which can only let its caller through
 * sooner, never refuse anyone wrongly.
 */
import { TokenBucket, type BucketSettings, type Take } from './token-bucket.js'

/** Default cap on the buckets kept (a bucket is about 100 bytes with its key). */
export const DEFAULT_MAX_BUCKETS = 10_000

// Full buckets forgotten per use at most: constant work per request, enough to drain an idle map.
const SWEEP_PER_TAKE = 2

/** Keyed token buckets with a cap. */
export class BucketMap {
  // A Map iterates in insertion order; re-inserting on use keeps it least-recently-used first.
  readonly #buckets = new Map<string, TokenBucket>()

  constructor(
    private readonly settings: BucketSettings,
    private readonly maxBuckets = DEFAULT_MAX_BUCKETS,
  ) {}

  /** Buckets kept now. */
  get size(): number {
    return this.#buckets.size
  }

  /** Takes a token from `key`'s bucket (made full on first use). */
  take(key: string, nowMs: number): Take {
    let bucket = this.#buckets.get(key)
    if (bucket) this.#buckets.delete(key)
    this.#sweep(nowMs)
    if (!bucket) {
      if (this.#buckets.size >= this.maxBuckets) this.#evictOldest()
      bucket = new TokenBucket(this.settings, nowMs)
    }
    this.#buckets.set(key, bucket)
    return bucket.take(nowMs)
  }

  #sweep(nowMs: number): void {
    for (let i = 0; i < SWEEP_PER_TAKE; i++) {
      const oldest = this.#buckets.entries().next()
      if (oldest.done || !oldest.value[1].isFull(nowMs)) return
      this.#buckets.delete(oldest.value[0])
    }
  }

  #evictOldest(): void {
    const oldest = this.#buckets.keys().next()
    if (!oldest.done) this.#buckets.delete(oldest.value)
  }
}
