/**
 * One stream connection. It first catches up from the database (when it resumes from a position
 * the process has already passed), in pages and at the pace the client reads, then takes live
 * changes from the process's change reader. Its memory is bounded: bytes queued for the socket
 * never exceed the buffer limit by more than one message; a live subscriber that would exceed it
 * gets `event: overflow` with the position to resume after, and is closed.
 */
import type { ServerResponse } from 'node:http'
import type { StreamItem, SubscriberFilter } from './stream-item.js'
import type { StepDelivery } from './subscriber-group.js'

/** Where a subscriber is. */
export type SubscriberState = 'catching-up' | 'live' | 'closed'

/** What a subscriber needs from the process's change reader. */
export interface CatchUpSource {
  /** The last position the reader has handed to live subscribers. */
  readonly head: number
  /** Up to `limit` changes after `after`, loaded, in position order; [] when none. */
  loadPage(after: number, limit: number): Promise<StreamItem[]>
}

/**
 * Changes read per catch-up page: bounds the memory of one resuming subscriber (a page holds the
 * current rows of up to this many records, each at most a 64 KiB traceback and its details).
 */
export const CATCH_UP_PAGE = 200

/** A connected stream client. */
export class Subscriber {
  readonly filter: SubscriberFilter
  readonly #res: ServerResponse
  readonly #limitBytes: number
  readonly #onClosed: (s: Subscriber) => void
  /** Every change up to here was sent or did not match: where the client can resume after. */
  #after: number
  #state: SubscriberState = 'catching-up'
  #overflowed = false
  #drained: (() => void) | undefined

  constructor(
    res: ServerResponse,
    filter: SubscriberFilter,
    after: number,
    limitBytes: number,
    onClosed: (s: Subscriber) => void,
  ) {
    this.#res = res
    this.filter = filter
    this.#after = after
    this.#limitBytes = limitBytes
    this.#onClosed = onClosed
    // A client that goes away (or a write that fails) ends the subscription at once.
    res.on('close', () => this.#closed())
    res.on('error', () => this.#closed())
  }

  /** The current state. */
  get state(): SubscriberState {
    return this.#state
  }

  /** The last position sent or passed over. */
  get after(): number {
    return this.#after
  }

  /** Sends the stream's first bytes: the reconnection delay and the `: ready` comment. */
  ready(): void {
    this.#write('retry: 1000\n: ready\n\n')
  }

  /**
   * Catches up from the database until the reader's head, then turns live. The switch happens in
   * the same turn of the event loop as the check against the reader's head, and the reader moves
   * its head in the same turn as it hands out the changes up to it, so no change falls between
   * the last page and the live feed, and none is sent twice (live changes at or before `after`
   * are ignored).
   */
  async catchUp(source: CatchUpSource): Promise<void> {
    while (this.#state === 'catching-up') {
      if (this.#after >= source.head) {
        this.#goLive()
        return
      }
      const page = await source.loadPage(this.#after, CATCH_UP_PAGE)
      if (this.#state !== 'catching-up') return
      if (page.length === 0) {
        // Nothing stored after `after` although the reader is past it: the changes were pruned.
        this.#goLive()
        return
      }
      for (const item of page) {
        if (item.position <= this.#after) continue
        if (item.matches(this.filter)) {
          const text = item.text(this.filter.visibility)
          // Catching up goes at the client's pace: wait for the socket rather than overflow. Bytes
          // are queued only while one of our writes is unfinished, and each write's callback
          // wakes us, so the wait always ends (see #write).
          while (this.#state === 'catching-up' && !this.#fits(this.#queued(), text.length))
            await new Promise<void>((resolve) => (this.#drained = resolve))
          if (this.#state !== 'catching-up') return
          this.#write(text)
        }
        this.#after = item.position
      }
    }
  }

  /**
   * The live changes of one dispatch step for this subscriber's group (subscriber-group.ts): the
   * group's shared bytes in one socket write when they all fit under the buffer limit and none
   * is at or before the position this subscriber went live at (changes it caught up already).
   * Otherwise change by change: those before are skipped, and a change that would take the bytes
   * queued past the limit is not taken: the subscriber writes what fitted and overflows.
   */
  deliver(step: StepDelivery): void {
    if (this.#state !== 'live') return
    const { items, texts, chunk } = step
    const queued = this.#queued()
    if (
      items.length === 0 ||
      ((items[0] as StreamItem).position > this.#after &&
        (queued + chunk.length <= this.#limitBytes || (queued === 0 && items.length === 1)))
    ) {
      if (items.length > 0) this.#write(chunk)
      this.#after = Math.max(this.#after, step.last)
      return
    }
    const pending: string[] = []
    let bytes = queued
    let overflowing = false
    for (let k = 0; k < items.length; k++) {
      const position = (items[k] as StreamItem).position
      if (position <= this.#after) continue
      const text = texts[k] as string
      if (!this.#fits(bytes, text.length)) {
        overflowing = true
        break
      }
      pending.push(text)
      bytes += text.length
      this.#after = position
    }
    if (pending.length > 0) this.#write(pending.join(''))
    if (overflowing) this.#overflow()
    else this.#after = Math.max(this.#after, step.last)
  }

  /** Writes a heartbeat comment (an overflow if even that does not fit). */
  heartbeat(): void {
    if (this.#state === 'closed') return
    if (this.#queued() > this.#limitBytes) {
      if (this.#state === 'live') this.#overflow()
      return
    }
    this.#write(': heartbeat\n\n')
  }

  /**
   * Ends the stream (server shutdown) with `event: shutdown` and the position to resume after (on
   * another node, or this one once it is back); a client that does not read is cut after a second.
   */
  end(): void {
    if (this.#state === 'closed') return
    this.#res.end(
      `event: shutdown\ndata: ${JSON.stringify({ resume_after: String(this.#after) })}\n\n`,
    )
    this.#closed()
    const socket = this.#res.socket
    setTimeout(() => socket?.destroy(), SHUTDOWN_GRACE_MS).unref()
  }

  /**
   * Every write of the stream goes through here, with a callback that wakes a waiting catch-up
   * when the socket has taken the bytes. Waiting on 'drain' instead stalled for good: 'drain'
   * follows only a write that returned false (that passed the socket's 16 KiB high-water mark),
   * so with a buffer limit below it (ACTIONTRAIL_STREAM_BUFFER_BYTES=4096) catch-up waited after
   * 8 messages for an event that never came (test/api-v1/stream.test.ts, "smallest buffer").
   * The callback runs after the socket has subtracted the bytes from its writableLength, and on
   * an error or a destroyed socket too (then 'close' ends the subscription).
   */
  #write(text: string | Buffer): void {
    this.#res.write(text, () => this.#wake())
  }

  #goLive(): void {
    this.#state = 'live'
  }

  /** Whether a message fits after `queued` bytes: under the limit, or alone (a larger message). */
  #fits(queued: number, bytes: number): boolean {
    return queued === 0 || queued + bytes <= this.#limitBytes
  }

  #queued(): number {
    return this.#res.writableLength
  }

  /** True when the stream was closed because the client fell too far behind. */
  get overflowed(): boolean {
    return this.#overflowed
  }

  #overflow(): void {
    this.#overflowed = true
    this.#res.end(
      `event: overflow\ndata: ${JSON.stringify({ resume_after: String(this.#after) })}\n\n`,
    )
    this.#closed()
    // A client that never reads again would keep what is queued: the socket goes after a grace
    // period that lets a client that is merely slow read up to the overflow message.
    const socket = this.#res.socket
    setTimeout(() => socket?.destroy(), OVERFLOW_GRACE_MS).unref()
  }

  #wake(): void {
    const resolve = this.#drained
    this.#drained = undefined
    resolve?.()
  }

  #closed(): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#wake()
    this.#onClosed(this)
  }
}

/** How long an overflowed client may take to read what was queued before its socket is dropped. */
export const OVERFLOW_GRACE_MS = 30_000

/** How long a stream's client may take to read its last bytes when the server shuts down. */
export const SHUTDOWN_GRACE_MS = 1000
