/**
 * The real RabbitMQ for the follower's tests (127.0.0.1:5672, guest/guest; AMQP URL overridable
 * with ACTIONTRAIL_TEST_AMQP_URL), and a fake Nova that declares its own topic exchange and
 * publishes notifications on it. Installs nothing: without a broker the suites are skipped loudly,
 * and with ACTIONTRAIL_REQUIRE_BACKENDS=1 (CI, which starts rabbitmq-server) they fail instead.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib'
import { REQUIRE_BACKENDS } from './backends.js'
import { notificationBody, routingKeyOf, type NotificationSpec } from './nova-notifications.js'

/** The broker the tests use. */
export const TEST_AMQP_URL =
  process.env.ACTIONTRAIL_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

/** Why RabbitMQ cannot be used here, or undefined when it can. */
export async function rabbitProblem(): Promise<string | undefined> {
  try {
    const connection = await connect(TEST_AMQP_URL)
    await connection.close()
    return undefined
  } catch (err) {
    const where = TEST_AMQP_URL.replace(/:[^:@/]*@/, ':***@')
    return `RabbitMQ does not answer at ${where} (${err instanceof Error ? err.message : String(err)})`
  }
}

/** The `skip` option of a RabbitMQ suite: false when it can run (or CI requires it), else the reason. */
export async function rabbitSkip(): Promise<string | false> {
  const problem = await rabbitProblem()
  if (!problem || REQUIRE_BACKENDS) return false
  console.error(`\n*** ${problem}: the RabbitMQ suites are SKIPPED ***\n`)
  return problem
}

/** Why the broker cannot be restarted by a test (rabbitmqctl as root on this machine), or undefined. */
export function brokerRestartProblem(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v rabbitmqctl'], { encoding: 'utf8' })
  if (found.status !== 0) return 'rabbitmqctl is not installed'
  if (process.getuid?.() !== 0) return 'restarting the broker needs root'
  return undefined
}

function rabbitmqctl(...args: string[]): void {
  const run = spawnSync('rabbitmqctl', args, { encoding: 'utf8', timeout: 120_000 })
  if (run.status !== 0) throw new Error(`rabbitmqctl ${args.join(' ')} failed: ${run.stderr}`)
}

/**
 * Restarts the broker's application (every connection is closed; non-durable exchanges, their
 * bindings and non-durable queues are gone afterwards).
 */
export function restartBroker(): void {
  rabbitmqctl('stop_app')
  rabbitmqctl('start_app')
  rabbitmqctl('await_startup')
}

/** A unique name for this test's exchanges and queues. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`
}

/** Plays Nova: owns a (non-durable, like Nova's default) topic exchange and publishes to it. */
export class FakeNova {
  readonly exchange: string
  #connection: ChannelModel | undefined
  #channel: ConfirmChannel | undefined

  constructor(exchange = uniqueName('nova')) {
    this.exchange = exchange
  }

  /** Connects (again, after a broker restart) and declares the exchange as Nova does. */
  async connect(): Promise<void> {
    this.#connection = await connect(TEST_AMQP_URL)
    this.#connection.on('error', () => undefined)
    this.#channel = await this.#connection.createConfirmChannel()
    this.#channel.on('error', () => undefined)
    await this.#channel.assertExchange(this.exchange, 'topic', { durable: false })
  }

  /** Publishes notifications (publisher-confirmed, unlike Nova, so the test knows they are in). */
  async publish(...specs: NotificationSpec[]): Promise<void> {
    for (const spec of specs) this.publishRaw(routingKeyOf(spec.eventType), notificationBody(spec))
    await this.#channel?.waitForConfirms()
  }

  /**
   * Publishes any body with a routing key (confirm with `confirmed`); `persistent` as Nova does
   * with amqp_durable_queues (by default it does not).
   */
  publishRaw(routingKey: string, body: Buffer, persistent = false): boolean {
    if (!this.#channel) throw new Error('FakeNova is not connected')
    return this.#channel.publish(this.exchange, routingKey, body, {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      persistent,
    })
  }

  /** Waits for the broker to confirm what was published. */
  async confirmed(): Promise<void> {
    await this.#channel?.waitForConfirms()
  }

  /** Deletes the exchange and the given queues, and disconnects. */
  async cleanUp(queues: readonly string[] = []): Promise<void> {
    try {
      const connection = await connect(TEST_AMQP_URL)
      const channel = await connection.createChannel()
      channel.on('error', () => undefined)
      await channel.deleteExchange(this.exchange).catch(() => undefined)
      for (const queue of queues) await channel.deleteQueue(queue).catch(() => undefined)
      await connection.close()
    } finally {
      await this.#connection?.close().catch(() => undefined)
    }
  }

  /** Closes the connection (without deleting anything). */
  async disconnect(): Promise<void> {
    await this.#connection?.close().catch(() => undefined)
    this.#connection = undefined
  }
}

/** Takes up to `max` messages from a queue (acknowledged), with their headers. */
export async function drainQueue(
  queue: string,
  max = 100,
): Promise<{ body: Buffer; headers: Record<string, unknown> }[]> {
  const connection = await connect(TEST_AMQP_URL)
  try {
    const channel = await connection.createChannel()
    const out: { body: Buffer; headers: Record<string, unknown> }[] = []
    for (let i = 0; i < max; i++) {
      const message = await channel.get(queue, { noAck: true })
      if (!message) break
      out.push({
        body: message.content,
        headers: (message.properties.headers ?? {}) as Record<string, unknown>,
      })
    }
    return out
  } finally {
    await connection.close()
  }
}
