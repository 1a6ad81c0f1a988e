/**
 * The Nova notification follower: consumes Nova's versioned notifications from RabbitMQ through
 * ActionTrail's own durable queue and hands each one to a NotificationHandler (spec
 * nova-notifications.md §1.2, §5.2–5.3, §7; docs/nova-integration.md).
 *
 * - Nova's exchange is never declared, only checked passively: declaring it with other flags than
 *   Nova's would break Nova's own publishing. Until it exists the follower waits and retries.
 * - On every (re)connection the queue and the dead-letter queue are asserted and the queue is bound
 *   again: Nova's exchange is not durable by default, and a broker restart drops every binding to it.
 * - A message is acknowledged only after its handling resolved, i.e. after its writes committed;
 *   so a crash or a lost connection means a redelivery (deduplicated by the handler), never a loss.
 * - Deliveries are handled in batches, each in one store transaction, when the handler can
 *   (`handleBatch`), and acknowledged together (ack-window.ts). A batch grows while the previous
 *   one is being handled (at most MAX_BATCH; in practice at most the prefetch), and goes once that
 *   one is done: a slow commit makes the next transaction larger instead of queueing many small
 *   ones, each paying its own commit. A batch whose transaction fails for another reason than the store
 *   being unavailable is handled again one message at a time, so that one message that breaks a
 *   transaction neither holds back nor requeues the others.
 * - Poison goes to the dead-letter queue (publisher-confirmed) with its reason in the headers, and
 *   only then is acknowledged; a handler rejection (store down) is requeued after a growing delay.
 */
import {
  connect,
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
} from 'amqplib'
import type { Logger } from 'pino'
import { AppError } from '../../domain/errors.js'
import type { HandleResult, NotificationHandler } from '../notifications/notification-handler.js'
import { AckWindow, type Tracked } from './ack-window.js'
import { backoffDelay, type Backoff } from './backoff.js'
import { zeroCounters, type FollowCounters } from './follow-counters.js'
import { redactAmqpUrl, type FollowSettings } from './follow-settings.js'

/** Header of a dead-lettered message: why it could not be processed. */
export const DEAD_REASON_HEADER = 'x-actiontrail-reason'

/** Options of a follower. */
export interface NovaFollowerOptions {
  settings: FollowSettings
  handler: NotificationHandler
  logger: Logger
  /** Waits between connection attempts (default 0.5 s doubling to 30 s, jittered). */
  reconnect?: Backoff
  /** Waits before a failed message is requeued (default 0.2 s doubling to 30 s, jittered). */
  requeue?: Backoff
  /** How often the counters are logged (default 60 s; 0: never). */
  statsIntervalMs?: number
}

/**
 * Most deliveries handled in one batch: with the follower's ~4 writes per notification, below the
 * group committer's 5,000 writes per transaction.
 */
const MAX_BATCH = 1000

/** A delivery on its way through the follower. */
interface Delivery {
  channel: ConfirmChannel
  window: AckWindow
  message: ConsumeMessage
  tracked: Tracked
}

// The store did not answer (locked, down): the whole batch waits and is requeued, rather than
// being tried again message by message against a store that is not there.
function storeUnavailable(err: unknown): boolean {
  return err instanceof AppError && err.code === 'store_unavailable'
}

// amqplib error texts name the broker's reason (e.g. "NOT_FOUND - no exchange 'nova'"), never the
// URL or its password; cut them short anyway, they reach the log.
function reasonOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 200)
}

/** A follower; `start` it, read `counters`, `stop` it. */
export class NovaFollower {
  readonly #options: NovaFollowerOptions
  readonly #counters: FollowCounters = zeroCounters()
  readonly #inFlight = new Set<Promise<void>>()
  #connection: ChannelModel | undefined
  #channel: ConfirmChannel | undefined
  #consumerTag: string | undefined
  #stopping = false
  #loop: Promise<void> | undefined
  #wake: (() => void) | undefined
  #connectedWaiters: (() => void)[] = []
  #failures = 0
  #batch: Delivery[] = []
  #batchScheduled = false
  /** Batches being handled (more than one only when a batch reached MAX_BATCH meanwhile). */
  #batchesRunning = 0
  #requeueTimers = new Set<{ timer: NodeJS.Timeout; fire: () => void }>()
  #stats: NodeJS.Timeout | undefined

  constructor(options: NovaFollowerOptions) {
    this.#options = options
  }

  /** A snapshot of the counters. */
  get counters(): FollowCounters {
    return { ...this.#counters }
  }

  /** True while consuming. */
  get consuming(): boolean {
    return this.#consumerTag !== undefined
  }

  /** Starts connecting and consuming in the background; connection failures are retried forever. */
  start(): void {
    if (this.#loop) return
    const interval = this.#options.statsIntervalMs ?? 60_000
    if (interval > 0) {
      this.#stats = setInterval(() => this.#logCounters(), interval)
      this.#stats.unref()
    }
    this.#loop = this.#run()
  }

  /** Resolves when the follower is (again) consuming; for tests and start-up messages. */
  whenConsuming(): Promise<void> {
    if (this.consuming) return Promise.resolve()
    return new Promise((resolve) => this.#connectedWaiters.push(resolve))
  }

  /**
   * Stops: no new deliveries, waits for the messages being handled (requeueing those waiting for
   * a retry at once), then closes the connection.
   */
  async stop(): Promise<void> {
    this.#stopping = true
    if (this.#stats) clearInterval(this.#stats)
    this.#wake?.()
    const channel = this.#channel
    const tag = this.#consumerTag
    if (channel && tag) await channel.cancel(tag).catch(() => undefined)
    this.#consumerTag = undefined
    this.#flushBatch(true)
    for (const pending of this.#requeueTimers) {
      clearTimeout(pending.timer)
      pending.fire()
    }
    while (this.#inFlight.size > 0 || this.#batch.length > 0) {
      // What gathered behind the last batch goes at once: no new delivery comes now.
      this.#flushBatch(true)
      await Promise.allSettled([...this.#inFlight])
    }
    // The channel first: its close goes after the acks on the channel's own frame stream, while a
    // connection close (channel 0) can overtake acks still queued in amqplib's multiplexer (seen:
    // 4 of 5 acks lost that way, the messages redelivered).
    await this.#channel?.close().catch(() => undefined)
    await this.#connection?.close().catch(() => undefined)
    await this.#loop
    this.#logCounters()
  }

  #logCounters(): void {
    this.#options.logger.info({ nova_follower: this.counters }, 'nova follower counters')
  }

  async #run(): Promise<void> {
    const { logger, settings } = this.#options
    const reconnect = this.#options.reconnect ?? { initialMs: 500, maxMs: 30_000 }
    let attempt = 0
    let everConnected = false
    while (!this.#stopping) {
      let connection: ChannelModel | undefined
      try {
        connection = await connect(settings.url)
        this.#connection = connection
        const closed = new Promise<void>((resolve) => connection?.once('close', () => resolve()))
        connection.on('error', (err: unknown) => {
          logger.warn(`nova follower: connection error: ${reasonOf(err)}`)
        })
        await this.#setUp(connection)
        if (everConnected) this.#counters.reconnects += 1
        everConnected = true
        attempt = 0
        logger.info(
          `nova follower: consuming ${settings.queue} from exchange ${settings.exchange} ` +
            `at ${redactAmqpUrl(settings.url)}`,
        )
        for (const resolve of this.#connectedWaiters.splice(0)) resolve()
        await closed
        this.#consumerTag = undefined
        this.#channel = undefined
        if (!this.#stopping) logger.warn('nova follower: connection lost, reconnecting')
      } catch (err) {
        this.#consumerTag = undefined
        this.#channel = undefined
        await connection?.close().catch(() => undefined)
        if (this.#stopping) break
        logger.warn(`nova follower: cannot consume yet (${reasonOf(err)}), retrying`)
      }
      if (this.#stopping) break
      await this.#sleep(backoffDelay(reconnect, attempt++))
    }
  }

  // Check Nova's exchange on a channel of its own (a failed passive check closes the channel),
  // then assert both queues, bind, and consume on a confirm channel.
  async #setUp(connection: ChannelModel): Promise<void> {
    const { settings } = this.#options
    const probe: Channel = await connection.createChannel()
    probe.on('error', () => undefined)
    try {
      await probe.checkExchange(settings.exchange)
    } catch (err) {
      throw new Error(`exchange ${settings.exchange} is not there yet: ${reasonOf(err)}`)
    }
    await probe.close().catch(() => undefined)
    const channel = await connection.createConfirmChannel()
    channel.on('error', (err: unknown) => {
      this.#options.logger.warn(`nova follower: channel error: ${reasonOf(err)}`)
    })
    // A channel closed by the broker alone (e.g. the queue was deleted) ends the connection too,
    // so that the loop sets everything up again.
    channel.on('close', () => {
      if (!this.#stopping) void connection.close().catch(() => undefined)
    })
    await channel.assertQueue(settings.queue, { durable: true })
    await channel.assertQueue(settings.deadLetterQueue, { durable: true })
    for (const key of settings.routingKeys)
      await channel.bindQueue(settings.queue, settings.exchange, key)
    await channel.prefetch(settings.prefetch)
    this.#channel = channel
    const window = new AckWindow(channel)
    const { consumerTag } = await channel.consume(
      settings.queue,
      (message) => this.#deliver(channel, window, message),
      { noAck: false },
    )
    this.#consumerTag = consumerTag
  }

  #deliver(channel: ConfirmChannel, window: AckWindow, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (queue deleted): start over.
      void this.#connection?.close().catch(() => undefined)
      return
    }
    this.#counters.received += 1
    const delivery = { channel, window, message, tracked: window.track(message) }
    if (!this.#options.handler.handleBatch) {
      this.#track(this.#processOne(delivery))
      return
    }
    this.#batch.push(delivery)
    if (this.#batch.length >= MAX_BATCH) this.#flushBatch()
    // While a batch is being handled, this one grows; it goes when that one is done.
    else if (this.#batchesRunning === 0) this.#scheduleFlush()
  }

  // setImmediate: after every delivery read from the socket in this turn has arrived. After a
  // batch, that turn's reads are also what arrived during its commit, which on SQLite blocks the
  // event loop (the deliveries wait in the socket meanwhile).
  #scheduleFlush(): void {
    if (this.#batchScheduled || this.#batch.length === 0) return
    this.#batchScheduled = true
    setImmediate(() => this.#flushBatch())
  }

  /** Hands the gathered deliveries over, unless a batch is still being handled (`force`: anyway). */
  #flushBatch(force = false): void {
    this.#batchScheduled = false
    if (this.#batch.length === 0) return
    if (!force && this.#batchesRunning > 0 && this.#batch.length < MAX_BATCH) return
    const batch = this.#batch
    this.#batch = []
    this.#batchesRunning += 1
    let running = true
    // Once the batch's transaction is over, not its settling: a message waiting out its requeue
    // delay (up to 30 s) must not hold back the next batch.
    const done = () => {
      if (!running) return
      running = false
      this.#batchesRunning -= 1
      if (this.#batchesRunning === 0) this.#scheduleFlush()
    }
    this.#track(this.#processBatch(batch, done).finally(done))
  }

  #track(work: Promise<void>): void {
    const tracked: Promise<void> = work.finally(() => this.#inFlight.delete(tracked))
    this.#inFlight.add(tracked)
  }

  /** Handles a batch, calls `handled` once its transaction (or their transactions) are over. */
  async #processBatch(batch: readonly Delivery[], handled: () => void): Promise<void> {
    const handleBatch = this.#options.handler.handleBatch
    if (!handleBatch || batch.length === 1) {
      const { settled } = await this.#attempt(batch[0] as Delivery)
      handled()
      return settled
    }
    let results: HandleResult[]
    try {
      results = await handleBatch.call(
        this.#options.handler,
        batch.map((d) => d.message.content),
      )
    } catch (err) {
      if (storeUnavailable(err)) {
        handled()
        this.#failed(err)
        await Promise.all(batch.map((d) => this.#requeue(d)))
        return
      }
      // Nothing of the batch was committed: each message again, alone, one after the other (at
      // once, they would share a transaction again). Their settling (a requeue delay, a
      // dead-lettering) does not hold up the next one.
      this.#options.logger.warn(
        `nova follower: a batch of ${batch.length} failed (${reasonOf(err)}), ` +
          'handling its messages one at a time',
      )
      const settling: Promise<void>[] = []
      for (const delivery of batch) settling.push((await this.#attempt(delivery)).settled)
      handled()
      await Promise.all(settling)
      return
    }
    handled()
    this.#failures = 0
    await Promise.all(batch.map((d, i) => this.#settle(d, results[i] as HandleResult)))
  }

  async #processOne(delivery: Delivery): Promise<void> {
    await (
      await this.#attempt(delivery)
    ).settled
  }

  // Handles one message; resolves, once handled, with its settling (ack, dead-letter or requeue).
  async #attempt(delivery: Delivery): Promise<{ settled: Promise<void> }> {
    let result: HandleResult
    try {
      result = await this.#options.handler.handle(delivery.message.content)
    } catch (err) {
      this.#failed(err)
      return { settled: this.#requeue(delivery) }
    }
    this.#failures = 0
    return { settled: this.#settle(delivery, result) }
  }

  #failed(err: unknown): void {
    this.#failures += 1
    if (this.#failures === 1 || this.#failures % 100 === 0)
      this.#options.logger.warn(
        `nova follower: handling failed (${reasonOf(err)}), requeueing (${this.#failures} in a row)`,
      )
  }

  // The message keeps its prefetch slot during the delay, so a store that is down slows the
  // follower down instead of spinning it through redeliveries.
  async #requeue(delivery: Delivery): Promise<void> {
    delivery.window.park(delivery.tracked)
    await this.#requeueDelay()
    delivery.window.requeue(delivery.tracked)
    this.#counters.requeued += 1
  }

  async #settle(delivery: Delivery, result: HandleResult): Promise<void> {
    switch (result.kind) {
      case 'applied':
        this.#counters.applied += 1
        break
      case 'duplicate':
        this.#counters.duplicate += 1
        break
      case 'ignored':
        this.#counters.ignored += 1
        break
      case 'poison':
        try {
          await this.#deadLetter(delivery.channel, delivery.message, result.reason)
        } catch (err) {
          this.#options.logger.warn(`nova follower: dead-lettering failed (${reasonOf(err)})`)
          return this.#requeue(delivery)
        }
        this.#counters.deadLettered += 1
        break
    }
    delivery.window.ack(delivery.tracked)
  }

  #deadLetter(channel: ConfirmChannel, message: ConsumeMessage, reason: string): Promise<void> {
    const { settings } = this.#options
    return new Promise((resolve, reject) => {
      channel.sendToQueue(
        settings.deadLetterQueue,
        message.content,
        {
          persistent: true,
          contentType: message.properties.contentType as string | undefined,
          headers: {
            [DEAD_REASON_HEADER]: reason.slice(0, 500),
            'x-actiontrail-routing-key': message.fields.routingKey,
            'x-actiontrail-exchange': message.fields.exchange,
          },
        },
        (err: unknown) =>
          err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
      )
    })
  }

  #requeueDelay(): Promise<void> {
    if (this.#stopping) return Promise.resolve()
    const delay = backoffDelay(
      this.#options.requeue ?? { initialMs: 200, maxMs: 30_000 },
      Math.max(0, this.#failures - 1),
    )
    return new Promise((resolve) => {
      const pending = {
        fire: () => {
          this.#requeueTimers.delete(pending)
          resolve()
        },
        timer: setTimeout(() => pending.fire(), delay),
      }
      this.#requeueTimers.add(pending)
    })
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#wake = done
    })
  }
}
