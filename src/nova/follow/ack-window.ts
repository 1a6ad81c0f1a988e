/**
 * The acknowledgements of one AMQP channel, sent in as few frames as possible without ever
 * acknowledging a delivery before its handling is over.
 *
 * A delivery's acknowledgement may cover every earlier one of the channel (`multiple`). The window
 * keeps the channel's deliveries in delivery-tag order; when the oldest ones are all settled (their
 * writes committed, or already requeued), one frame acknowledges them all. A delivery still being
 * handled holds back the acknowledgement of every later one, which is short (one commit). A
 * delivery waiting for its requeue delay (store trouble, up to 30 s) would hold them back for
 * long, so behind a parked delivery each settled one is acknowledged alone.
 *
 * Measured with bench/follow.ts: one ack frame per delivery cost the bare consumer about a tenth of
 * its CPU in socket writes (cpu profile, `writeBuffer`).
 */
import type { Channel, Message } from 'amqplib'

type State = 'open' | 'parked' | 'ack' | 'done'

/** A delivery tracked by an {@link AckWindow}. */
export interface Tracked {
  readonly message: Message
  /** open: being handled; parked: waiting to be requeued; ack: to acknowledge; done: settled. */
  state: State
}

/** The deliveries of one channel not yet acknowledged or requeued, oldest first. */
export class AckWindow {
  readonly #channel: Channel
  #entries: Tracked[] = []
  #head = 0

  constructor(channel: Channel) {
    this.#channel = channel
  }

  /** Tracks a delivery; call in delivery order (amqplib delivers in delivery-tag order). */
  track(message: Message): Tracked {
    const entry: Tracked = { message, state: 'open' }
    this.#entries.push(entry)
    return entry
  }

  /** The delivery's writes are committed (or it was dead-lettered): acknowledge it. */
  ack(entry: Tracked): void {
    if (entry.state === 'done') return
    entry.state = 'ack'
    this.#flush()
  }

  /** The delivery waits for its requeue: later deliveries are acknowledged without it. */
  park(entry: Tracked): void {
    if (entry.state !== 'open') return
    entry.state = 'parked'
    this.#flush()
  }

  /** Requeues the delivery (the broker delivers it again). */
  requeue(entry: Tracked): void {
    if (entry.state === 'done') return
    entry.state = 'done'
    this.#send(() => this.#channel.nack(entry.message, false, true))
    this.#flush()
  }

  #flush(): void {
    let last: Tracked | undefined
    while (this.#head < this.#entries.length) {
      const entry = this.#entries[this.#head] as Tracked
      if (entry.state === 'open' || entry.state === 'parked') break
      if (entry.state === 'ack') last = entry
      entry.state = 'done'
      this.#head++
    }
    // Every earlier delivery is settled: one frame acknowledges them all (requeued ones are no
    // longer outstanding, so `multiple` does not touch them).
    if (last) {
      const message = last.message
      this.#send(() => this.#channel.ack(message, true))
    }
    if (this.#entries[this.#head]?.state === 'parked') {
      for (let i = this.#head + 1; i < this.#entries.length; i++) {
        const entry = this.#entries[i] as Tracked
        if (entry.state !== 'ack') continue
        entry.state = 'done'
        this.#send(() => this.#channel.ack(entry.message))
      }
    }
    // Drop the settled prefix now and then, not at every call.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head)
      this.#head = 0
    }
  }

  #send(frame: () => void): void {
    try {
      frame()
    } catch {
      // The channel is gone: the broker redelivers whatever it had not been told about.
    }
  }
}
