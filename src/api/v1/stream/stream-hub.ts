/**
 * The stream's one change reader per process, and its subscribers. The reader polls the change
 * feed (`position > head ORDER BY position LIMIT k`) every `pollMs`, and at once after each commit
 * this process makes, while anyone is subscribed; it loads the current rows of the changed actions
 * and events (one query per kind and poll) and hands each change to the subscribers indexed under
 * its instance or owner project (subscriber-index.ts), not to every subscriber, and to groups of
 * subscribers with equal filters (subscriber-group.ts). A change's message is built once per kind of
 * caller (stream-item.ts), and a step's bytes once per group. Heartbeats come from one timer for all.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Change, ChangeFeed } from '../../../store/change-feed.js'
import type { ServerResponse } from 'node:http'
import { StreamItem, type SubscriberFilter } from './stream-item.js'
import type { SubscriberGroup } from './subscriber-group.js'
import { SubscriberIndex } from './subscriber-index.js'
import { Subscriber, type CatchUpSource } from './subscriber.js'

/** Settings of the stream (config.ts: ACTIONTRAIL_STREAM_*). */
export interface StreamSettings {
  /** Milliseconds between polls of the change feed (default 50). */
  pollMs: number
  /** Bytes a subscriber may have queued before it overflows (default 1 MiB). */
  bufferBytes: number
  /** Subscribers at once; more get 503 (default 1000). */
  maxSubscribers: number
  /** Milliseconds between heartbeat comments (default 15000). */
  heartbeatMs: number
}

/** The defaults of the stream settings. */
export const DEFAULT_STREAM_SETTINGS: Readonly<StreamSettings> = {
  pollMs: 50,
  bufferBytes: 1024 * 1024,
  maxSubscribers: 1000,
  heartbeatMs: 15_000,
}

/**
 * Changes read per poll: bounds the reader's memory whatever the write rate (the loaded rows of up
 * to this many records); a reader that is behind reads the next page at once. 2,000 was tried
 * (fewer, larger wakes: fewer socket writes per change) and lost in all three bench:stream pairs
 * run interleaved with 500 on a loaded machine: 229–668 against 331–932 acknowledged writes/s, lag
 * p99 1.5–1.7 s against 0.9–1.0 s (docs/benchmarks.md, issue 10, 2026-12-07); a longer
 * synchronous turn delays the batches. The machine's noise was ±40 %: worth a quiet re-run.
 */
const POLL_PAGE = 500

/**
 * Where catching-up subscribers read (a read replica, store/read-replica.ts): each call gives
 * reads bound to one node, so that a page's rows come from the node that gave its changes.
 */
export type CatchUpReads = () => Pick<ChangeFeed, 'readChanges' | 'actionsByIds' | 'eventsByIds'>

/** The reader and the subscribers of one process. */
export class StreamHub implements CatchUpSource {
  readonly #feed: ChangeFeed
  readonly #catchUp: CatchUpReads | undefined
  readonly #settings: StreamSettings
  readonly #log: FastifyBaseLogger
  readonly #live = new SubscriberIndex()
  readonly #all = new Set<Subscriber>()
  #head = 0
  #started: Promise<void> | undefined
  #polling = false
  #again = false
  #pollTimer: NodeJS.Timeout | undefined
  #heartbeatTimer: NodeJS.Timeout | undefined
  #unsubscribeCommits: (() => void) | undefined
  #closed = false
  #dropped = 0

  /** `catchUp` serves the catch-up pages (a read replica); `feed` when absent. */
  constructor(
    feed: ChangeFeed,
    settings: StreamSettings,
    log: FastifyBaseLogger,
    catchUp?: CatchUpReads,
  ) {
    this.#feed = feed
    this.#catchUp = catchUp
    this.#settings = settings
    this.#log = log
  }

  /** The last position handed to live subscribers. */
  get head(): number {
    return this.#head
  }

  /** Subscribers connected (catching up or live). */
  get size(): number {
    return this.#all.size
  }

  /** Subscribers closed since start because they fell too far behind (overflow). */
  get dropped(): number {
    return this.#dropped
  }

  /**
   * Subscribes a response that has its headers: from `after` (a resume position) or, when
   * undefined, from the current head. Resolves once the subscription is registered and `: ready`
   * is written; catching up goes on in the background.
   */
  async subscribe(
    res: ServerResponse,
    filter: SubscriberFilter,
    after: number | undefined,
  ): Promise<void> {
    await this.#start()
    const sub = new Subscriber(res, filter, after ?? this.#head, this.#settings.bufferBytes, (s) =>
      this.#remove(s),
    )
    if (sub.state === 'closed') return
    this.#all.add(sub)
    this.#live.add(sub)
    sub.ready()
    sub.catchUp(this).catch((err: unknown) => {
      this.#log.warn({ err }, 'stream catch-up failed; closing the stream')
      sub.end()
    })
  }

  /** Ends every stream and stops reading (server shutdown). */
  close(): void {
    this.#closed = true
    this.#stop()
    for (const s of [...this.#all]) s.end()
  }

  async loadPage(after: number, limit: number): Promise<StreamItem[]> {
    if (this.#catchUp) {
      const reads = this.#catchUp()
      const changes = await reads.readChanges(after, limit)
      // A replica behind the reader ends its page short of the reader's head; the subscriber would
      // take that for pruned changes and skip to the head, so such a page comes from the primary.
      if (changes.length === limit || (changes.at(-1)?.position ?? after) >= this.#head)
        return this.#load(changes, reads)
    }
    return this.#load(await this.#feed.readChanges(after, limit), this.#feed)
  }

  /** Starts the reader (reads the head) unless it runs; rejects when the store is away. */
  start(): Promise<void> {
    return this.#start()
  }

  async #start(): Promise<void> {
    if (this.#started) return this.#started
    this.#started = (async () => {
      this.#head = await this.#feed.head()
      this.#unsubscribeCommits = this.#feed.onCommit(() => this.#kick())
      this.#heartbeatTimer = setInterval(() => {
        for (const s of [...this.#all]) s.heartbeat()
      }, this.#settings.heartbeatMs)
      this.#schedule()
    })()
    try {
      await this.#started
    } catch (err) {
      this.#started = undefined
      throw err
    }
  }

  /** Stops reading when nobody is subscribed; the next subscriber starts again from the head. */
  #stop(): void {
    clearTimeout(this.#pollTimer)
    clearInterval(this.#heartbeatTimer)
    this.#unsubscribeCommits?.()
    this.#unsubscribeCommits = undefined
    this.#pollTimer = undefined
    this.#heartbeatTimer = undefined
    this.#started = undefined
  }

  #remove(s: Subscriber): void {
    if (s.overflowed && this.#all.has(s)) this.#dropped++
    this.#all.delete(s)
    this.#live.delete(s)
    if (this.#all.size === 0 && !this.#polling) this.#stop()
  }

  #schedule(): void {
    if (this.#closed || !this.#started) return
    clearTimeout(this.#pollTimer)
    this.#pollTimer = setTimeout(() => this.#kick(), this.#settings.pollMs)
  }

  #kick(): void {
    if (this.#polling) {
      this.#again = true
      return
    }
    this.#polling = true
    void this.#poll().finally(() => {
      this.#polling = false
      if (this.#all.size === 0) this.#stop()
      else if (this.#again) {
        this.#again = false
        this.#kick()
      } else this.#schedule()
    })
  }

  async #poll(): Promise<void> {
    try {
      for (;;) {
        const changes = await this.#feed.readChanges(this.#head, POLL_PAGE)
        if (changes.length === 0 || this.#closed) return
        const items = await this.#load(changes, this.#feed)
        await this.#dispatch(items)
        if (this.#closed) return
        this.#head = Math.max(this.#head, changes.at(-1)?.position ?? this.#head)
        if (changes.length < POLL_PAGE) return
      }
    } catch (err) {
      // The database may be away for a while; subscribers stay, and the next poll tries again.
      this.#log.warn({ err }, 'stream: reading the change feed failed')
    }
  }

  /**
   * Hands the items to the live subscribers: each change is checked once per group of equal filters
   * (subscriber-group.ts) among the groups indexed under its instance or owner, then every group
   * writes its share of the wake to each member in one socket write, of bytes built once per group.
   * One write per subscriber and wake, not one per step of the whole page: a socket write costs a
   * system call (on loopback the receiving TCP stack's work too), and it was three quarters of the
   * stream's CPU in bench:stream's profile (Writable.uncork → writev), against a quarter for
   * reading, loading, matching and rendering. A group whose share exceeds a quarter of the buffer
   * limit (an unfiltered tail behind a page of large changes) writes it in several flushes with a
   * turn of the event loop between them: Node corks a response's socket for the rest of the turn
   * after a write, so everything written in one turn counts as queued, and a page of large changes
   * written at once would overflow even a client that reads as fast as it can. The head moves in
   * the same turn as the first flush hands out the changes up to it (see Subscriber.catchUp): a
   * subscriber that goes live later has caught those changes up and skips them.
   */
  async #dispatch(items: readonly StreamItem[]): Promise<void> {
    const stepBytes = Math.max(1, Math.floor(this.#settings.bufferBytes / 4))
    let pending: SubscriberGroup[] = []
    for (const item of items) {
      this.#live.candidates(item.instanceUuid, item.ownerProject, (g) => {
        if (g.consider(item)) pending.push(g)
      })
    }
    this.#head = Math.max(this.#head, items.at(-1)?.position ?? this.#head)
    while (pending.length > 0 && !this.#closed) {
      const more: SubscriberGroup[] = []
      for (const g of pending) if (g.flush(stepBytes)) more.push(g)
      pending = more
      if (pending.length > 0) await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /** The current rows of the changed records: one query per kind. */
  async #load(
    changes: readonly Change[],
    reads: Pick<ChangeFeed, 'actionsByIds' | 'eventsByIds'>,
  ): Promise<StreamItem[]> {
    if (changes.length === 0) return []
    const actionIds = [...new Set(changes.map((c) => c.actionId))]
    const eventIds = [...new Set(changes.flatMap((c) => (c.eventId === null ? [] : [c.eventId])))]
    const [actions, events] = await Promise.all([
      reads.actionsByIds(actionIds),
      eventIds.length > 0 ? reads.eventsByIds(eventIds) : Promise.resolve([]),
    ])
    const actionById = new Map(actions.map((a) => [a.id, a]))
    const eventById = new Map(events.map((e) => [e.id, e]))
    const items: StreamItem[] = []
    for (const c of changes) {
      // Retention's notes (issue 13) show nothing: an archived or purged action is gone.
      if (c.kind === 'archive' || c.kind === 'purge') {
        items.push(new StreamItem(c, undefined, undefined))
        continue
      }
      const event = c.eventId === null ? undefined : eventById.get(c.eventId)
      // A record removed since (archived or purged) has nothing left to show, but its position
      // still counts as passed.
      const gone = c.eventId !== null && !event
      items.push(new StreamItem(c, gone ? undefined : actionById.get(c.actionId), event))
    }
    return items
  }
}
