/**
 * One stream connection. It first catches up from the database (when it resumes from a position
 * the process has already passed), in pages and at the pace the client reads, then takes live
 * changes from the process's change reader. Its memory is bounded: bytes queued for the socket
 * never exceed the buffer limit by more than one message; a live subscriber that would exceed it
 * gets `event: overflow` with the position to resume after, and is closed.
 */
import type { ServerResponse } from 'node:http'
import type { StreamItem, SubscriberFilter } from './stream-item.js'

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
  #drained: (() => void) | undefined
  /** Live changes taken in the current step (see offer). */
  #pending: string[] = []
  #pendingBytes = 0
  #pendingAfter: number
  #overflowing = false

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
    this.#pendingAfter = after
    this.#limitBytes = limitBytes
    this.#onClosed = onClosed
    // A client that goes away (or a write that fails) ends the subscription at once.
    res.on('close', () => this.#closed())
    res.on('error', () => this.#closed())
    res.on('drain', () => this.#wake())
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
    this.#res.write('retry: 1000\n: ready\n\n')
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
          // Catching up goes at the client's pace: wait for the socket rather than overflow.
          while (this.#state === 'catching-up' && !this.#fits(this.#queued(), text.length))
            await new Promise<void>((resolve) => {
              this.#drained = resolve
              // 'drain' comes only after a write that passed the socket's high-water mark, which
              // a small buffer limit may not reach: look again after a short pause too.
              setTimeout(resolve, DRAIN_RECHECK_MS)
            })
          if (this.#state !== 'catching-up') return
          this.#res.write(text)
        }
        this.#after = item.position
      }
    }
  }

  /**
   * A live change (the reader calls this only for candidates of the filter's index keys). It is
   * queued, and written with the others of the same step by `flush`: one socket write per
   * subscriber and step rather than one per change. A change that would take the bytes queued past
   * the buffer limit is not taken: the subscriber overflows at `flush`, after what fitted.
   */
  offer(item: StreamItem): void {
    if (this.#state !== 'live' || this.#overflowing || item.position <= this.#pendingAfter) return
    if (item.matches(this.filter)) {
      const text = item.text(this.filter.visibility)
      if (!this.#fits(this.#queued() + this.#pendingBytes, text.length)) {
        this.#overflowing = true
        return
      }
      this.#pending.push(text)
      this.#pendingBytes += text.length
    }
    this.#pendingAfter = item.position
  }

  /** Writes what `offer` queued in this step; overflows if something did not fit. */
  flush(): void {
    if (this.#state !== 'live') return
    if (this.#pending.length > 0) this.#res.write(this.#pending.join(''))
    this.#pending = []
    this.#pendingBytes = 0
    this.#after = this.#pendingAfter
    if (this.#overflowing) this.#overflow()
  }

  /** Writes a heartbeat comment (an overflow if even that does not fit). */
  heartbeat(): void {
    if (this.#state === 'closed') return
    if (this.#queued() > this.#limitBytes) {
      if (this.#state === 'live') this.#overflow()
      return
    }
    this.#res.write(': heartbeat\n\n')
  }

  /** Ends the stream (server shutdown): a client that does not read is cut after a second. */
  end(): void {
    if (this.#state === 'closed') return
    this.#res.end()
    this.#closed()
    const socket = this.#res.socket
    setTimeout(() => socket?.destroy(), SHUTDOWN_GRACE_MS).unref()
  }

  #goLive(): void {
    this.#state = 'live'
    this.#pendingAfter = this.#after
  }

  /** Whether a message fits after `queued` bytes: under the limit, or alone (a larger message). */
  #fits(queued: number, bytes: number): boolean {
    return queued === 0 || queued + bytes <= this.#limitBytes
  }

  #queued(): number {
    return this.#res.writableLength
  }

  #overflow(): void {
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

/** How often a catching-up subscriber that waits for its socket looks again. */
const DRAIN_RECHECK_MS = 20
