/**
 * `npm run bench:follow -- [--count N] [--prefetch N] [--publisher child|inline] [--backlog]`
 *
 * The Nova follower's consume-to-committed throughput (issue 12): N notifications (default
 * 100,000) of a realistic mix of families — action lifecycles of one `.start` and one `.end`
 * (or `.error`, one in 20), unique request ids over 1,000 instances — published to the local
 * RabbitMQ (ACTIONTRAIL_TEST_AMQP_URL, default guest@127.0.0.1:5672) on a fresh topic exchange
 * while the follower consumes them into a fresh SQLite file.
 *
 * Reports, measured alike in the same run, three consumers with the same prefetch: the floor (a
 * bare amqplib consumer that writes nothing and acknowledges each turn's deliveries in one frame),
 * the follower with a handler that writes nothing (its own AMQP cost), and the follower into
 * SQLite; and a fourth floor, the store alone (the same notifications through the same handler in
 * prefetch-sized batches, no broker: what SQLite takes, which bounds the follower). For each:
 * throughput from the first publish to the last commit, lag p50/p99 (envelope timestamp at
 * publish → handling resolved, i.e. committed), the consumer process's CPU time per notification
 * (less sensitive than rates to other load on the machine) and its peak RSS.
 *
 * The publisher runs in a child process by default, so that the consumer has a core of its own
 * as it would in production (Nova publishes from other machines); `--publisher inline` publishes
 * from this process, as the first measurements did (publishing then takes CPU from the consumer).
 * `--backlog` publishes everything before the consumer starts and times the consumer alone (a
 * follower catching up after a restart): the rate is then the consumer's own, not the publisher's,
 * and the lags only say how long the messages waited in the queue.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { connect, type ConsumeMessage } from 'amqplib'
import { createActionService } from '../src/local-service.js'
import { NovaFollower } from '../src/nova/follow/nova-follower.js'
import { resolveFollowSettings, type FollowSettings } from '../src/nova/follow/follow-settings.js'
import {
  createNotificationHandler,
  type NotificationHandler,
} from '../src/nova/notifications/notification-handler.js'
import { createLogger } from '../src/security/redacting-logger.js'
import { openStores } from '../src/store/open-store.js'
import {
  envelopeTime,
  newRequestId,
  notificationBody,
  routingKeyOf,
} from '../test/helpers/nova-notifications.js'
import { percentile } from './load.js'

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    prefetch: { type: 'string', default: '512' },
    publisher: { type: 'string', default: 'child' },
    backlog: { type: 'boolean', default: false },
    /** Internal: publish to this exchange, print the milliseconds it took, exit. */
    'publish-to': { type: 'string' },
  },
})
const COUNT = Number(values.count)
const PREFETCH = values.prefetch ?? '512'
const URL_ = process.env.ACTIONTRAIL_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const INLINE = values.publisher === 'inline'
const BACKLOG = values.backlog === true
if (!INLINE && values.publisher !== 'child') throw new Error('--publisher is child or inline')

// Families in rough proportion of a busy cloud's day (creates, deletes and reboots dominate).
const FAMILIES: readonly [string, number][] = [
  ['create', 20],
  ['delete', 18],
  ['reboot', 15],
  ['power_off', 10],
  ['power_on', 10],
  ['resize_prep', 5],
  ['shelve', 5],
  ['unshelve', 4],
  ['snapshot', 5],
  ['rebuild', 4],
  ['pause', 2],
  ['unpause', 2],
]
const WEIGHTS = FAMILIES.reduce((sum, [, w]) => sum + w, 0)
const INSTANCES = Array.from({ length: 1000 }, () => randomUUID())

function family(i: number): string {
  let pick = (i * 7919) % WEIGHTS
  for (const [name, weight] of FAMILIES) {
    if (pick < weight) return name
    pick -= weight
  }
  return 'reboot'
}

/** The COUNT notifications, as Nova would publish them: routing key and body. */
function* notifications(): Generator<{ routingKey: string; body: Buffer }> {
  for (let i = 0; i < COUNT / 2; i++) {
    const uuid = INSTANCES[i % INSTANCES.length] as string
    const requestId = newRequestId()
    const name = family(i)
    const end = i % 20 === 19 ? 'error' : 'end'
    for (const phase of ['start', end]) {
      const eventType = `instance.${name}.${phase}`
      const body = notificationBody({ eventType, uuid, requestId, timestamp: envelopeTime() })
      yield { routingKey: routingKeyOf(eventType), body }
    }
  }
}

/** Publishes COUNT notifications as fast as the broker takes them (publisher confirms, windows of 1,000). */
async function publish(exchange: string): Promise<number> {
  const connection = await connect(URL_)
  const channel = await connection.createConfirmChannel()
  const started = performance.now()
  let published = 0
  for (const { routingKey, body } of notifications()) {
    if (!channel.publish(exchange, routingKey, body))
      await new Promise((resolve) => channel.once('drain', resolve))
    if (++published % 1000 === 0) await channel.waitForConfirms()
  }
  await channel.waitForConfirms()
  await connection.close()
  return performance.now() - started
}

/** publish(), in this process or in a child process of its own (same script, `--publish-to`). */
function publishFrom(exchange: string): Promise<number> {
  if (INLINE) return publish(exchange)
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--publish-to',
      exchange,
      '--count',
      String(COUNT),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve(Number(out.trim())) : reject(new Error(`publisher exited ${code}`)),
    )
  })
}

if (values['publish-to'] !== undefined) {
  process.stdout.write(`${await publish(values['publish-to'])}\n`)
  process.exit(0)
}

// The envelope's timestamp, found near the start of the body (the inner message is a JSON string
// inside the outer one, so its quotes are escaped). Parsing both layers of every body, as this
// bench first did, cost the consumer under test ~6 µs a notification (2.9 % of a profile of
// `--count 30000 --backlog`): the measurement's own cost, charged to the follower and the floor
// but not to the store alone. The full parse remains for a body where the pattern is not found.
const ENVELOPE_TIME = /\\"timestamp\\": ?\\"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})/

function lagOf(body: Buffer): number {
  const head = body.toString('latin1', 0, Math.min(body.length, 600))
  let timestamp = ENVELOPE_TIME.exec(head)?.[1]
  if (timestamp === undefined) {
    const outer = JSON.parse(body.toString('utf8')) as { 'oslo.message': string }
    timestamp = (JSON.parse(outer['oslo.message']) as { timestamp: string }).timestamp
  }
  return Date.now() - Date.parse(`${timestamp.replace(' ', 'T').slice(0, 23)}Z`)
}

interface Row {
  name: string
  seconds: number
  perSecond: number
  p50: number
  p99: number
  /** The consumer process's CPU time (user + system) per notification, in microseconds. */
  cpuUs: number
  rssMb: number
  /** Publishing alone: its rate bounds the run's. */
  publishPerSecond: number
  /** Notifications per handler call (per store transaction, for the follower into SQLite). */
  perBatch: number
}

/** A consumer under test: started on the queue; `done` resolves once COUNT are committed. */
interface Consumer {
  done: Promise<void>
  stop: () => Promise<void>
}

/** Handler calls of the consumer under test (each a store transaction when it writes). */
let batches = 0

async function run(
  name: string,
  start: (settings: FollowSettings, lags: number[]) => Promise<Consumer>,
): Promise<Row> {
  batches = 0
  const exchange = `nova-bench-${randomUUID().slice(0, 8)}`
  const queue = `actiontrail.bench-${randomUUID().slice(0, 8)}`
  const admin = await connect(URL_)
  const adminChannel = await admin.createChannel()
  await adminChannel.assertExchange(exchange, 'topic', { durable: false })
  const settings = resolveFollowSettings({ amqp: URL_, exchange, queue, prefetch: PREFETCH }, {})
  if (!settings) throw new Error('no settings')
  const lags: number[] = []
  let publishMs = 0
  if (BACKLOG) {
    // The queue first (as the follower declares it), so that it keeps what is published.
    await adminChannel.assertQueue(settings.queue, { durable: true })
    for (const key of settings.routingKeys)
      await adminChannel.bindQueue(settings.queue, exchange, key)
    publishMs = await publishFrom(exchange)
  }
  let rss = 0
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 100)
  const started = performance.now()
  const cpu = process.cpuUsage()
  const consumer = await start(settings, lags)
  if (!BACKLOG) publishMs = await publishFrom(exchange)
  await consumer.done
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  clearInterval(sampler)
  await consumer.stop()
  await adminChannel.deleteQueue(settings.queue)
  await adminChannel.deleteQueue(settings.deadLetterQueue)
  await adminChannel.deleteExchange(exchange)
  await admin.close()
  lags.sort((a, b) => a - b)
  return {
    name,
    seconds,
    perSecond: COUNT / seconds,
    p50: percentile(lags, 50),
    p99: percentile(lags, 99),
    cpuUs: (used.user + used.system) / COUNT,
    rssMb: rss / 1e6,
    publishPerSecond: COUNT / (publishMs / 1000),
    perBatch: batches === 0 ? Number.NaN : COUNT / batches,
  }
}

/** The floor: amqplib alone, acknowledging each turn's deliveries in one frame (`multiple`). */
async function bareConsumer(settings: FollowSettings, lags: number[]): Promise<Consumer> {
  const connection = await connect(settings.url)
  const channel = await connection.createChannel()
  await channel.assertQueue(settings.queue, { durable: true })
  await channel.assertQueue(settings.deadLetterQueue, { durable: true })
  for (const key of settings.routingKeys)
    await channel.bindQueue(settings.queue, settings.exchange, key)
  await channel.prefetch(settings.prefetch)
  let acked = 0
  let unacked = 0
  let finished: () => void = () => undefined
  const allDone = new Promise<void>((resolve) => (finished = resolve))
  let last: ConsumeMessage | undefined
  // Counted as done once acknowledged, as the follower's are once committed.
  const ackAll = () => {
    if (last) channel.ack(last, true)
    last = undefined
    acked += unacked
    unacked = 0
    if (acked === COUNT) finished()
  }
  await channel.consume(settings.queue, (message) => {
    if (!message) return
    if (!last) setImmediate(ackAll)
    last = message
    unacked += 1
    lags.push(lagOf(message.content))
  })
  return { done: allDone, stop: () => connection.close() }
}

/** The follower, with `makeHandler`'s handler wrapped to record lags and count. */
function follower(
  makeHandler: () => Promise<{ handler: NotificationHandler; close: () => Promise<void> }>,
) {
  return async (settings: FollowSettings, lags: number[]): Promise<Consumer> => {
    const { handler: inner, close } = await makeHandler()
    let done = 0
    let finished: () => void = () => undefined
    const allDone = new Promise<void>((resolve) => (finished = resolve))
    const handled = (bodies: readonly Buffer[]) => {
      batches += 1
      for (const body of bodies) lags.push(lagOf(body))
      done += bodies.length
      if (done >= COUNT) finished()
    }
    const batch = inner.handleBatch?.bind(inner)
    const handler: NotificationHandler = {
      async handle(body) {
        const result = await inner.handle(body)
        handled([body])
        return result
      },
      ...(batch && {
        async handleBatch(bodies: readonly Buffer[]) {
          const results = await batch(bodies)
          handled(bodies)
          return results
        },
      }),
    }
    const { logger } = createLogger({
      level: 'warn',
      destination: new Writable({ write: (_c, _e, cb) => cb() }),
    })
    const consumer = new NovaFollower({ settings, handler, logger, statsIntervalMs: 0 })
    consumer.start()
    await consumer.whenConsuming()
    return {
      done: allDone,
      stop: async () => {
        await consumer.stop()
        await close()
      },
    }
  }
}

const floor = await run('floor: bare amqplib consumer, one ack frame per turn', bareConsumer)
const nothing = await run(
  'follower, handler writing nothing',
  follower(() => {
    const ignored = { kind: 'ignored', reason: 'floor' } as const
    return Promise.resolve({
      handler: {
        handle: () => Promise.resolve(ignored),
        handleBatch: (bodies: readonly Buffer[]) => Promise.resolve(bodies.map(() => ignored)),
      },
      close: () => Promise.resolve(),
    })
  }),
)
const quiet = createLogger({
  level: 'silent',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
}).logger
const dir = mkdtempSync(join(tmpdir(), 'actiontrail-bench-follow-'))
const follow = await run(
  'follower → SQLite',
  follower(async () => {
    const stores = await openStores(join(dir, 'follow.db'))
    return {
      handler: createNotificationHandler({
        service: createActionService(stores.actions),
        log: quiet,
      }),
      close: () => stores.close(),
    }
  }),
)

/**
 * The write floor: the same notifications through the same handler into a fresh SQLite file, in
 * batches of the prefetch size, with no broker at all — what the store itself takes. The follower
 * can only come near it, never past it.
 */
async function storeAlone(): Promise<Row> {
  const stores = await openStores(join(dir, 'alone.db'))
  const handler = createNotificationHandler({
    service: createActionService(stores.actions),
    log: quiet,
  })
  const bodies = [...notifications()].map((n) => n.body)
  const size = Number(PREFETCH)
  const started = performance.now()
  const cpu = process.cpuUsage()
  for (let i = 0; i < bodies.length; i += size) {
    const batch = bodies.slice(i, i + size)
    if (handler.handleBatch) await handler.handleBatch(batch)
    else for (const body of batch) await handler.handle(body)
  }
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  await stores.close()
  return {
    name: 'the store alone: the same notifications through the handler, no broker',
    seconds,
    perSecond: COUNT / seconds,
    p50: Number.NaN,
    p99: Number.NaN,
    cpuUs: (used.user + used.system) / COUNT,
    rssMb: process.memoryUsage().rss / 1e6,
    publishPerSecond: Number.NaN,
    perBatch: size,
  }
}
const alone = await storeAlone()
rmSync(dir, { recursive: true, force: true })

const [load1] = loadavg()
console.log(
  `\nbench:follow — ${COUNT} notifications, prefetch ${PREFETCH}${BACKLOG ? ', backlog' : ''}, ` +
    `publisher ${INLINE ? 'inline' : 'in a child process'}, load average ${load1?.toFixed(1)} (1 min) at the end\n`,
)
console.log(
  '| run | seconds | notifications/s | published/s | lag p50 ms | lag p99 ms | ' +
    'consumer CPU µs/notification | peak RSS MB | notifications per batch |',
)
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
const shown = (n: number) => (Number.isNaN(n) ? '—' : String(Math.round(n)))
for (const r of [floor, nothing, alone, follow])
  console.log(
    `| ${r.name} | ${r.seconds.toFixed(1)} | ${shown(r.perSecond)} | ${shown(r.publishPerSecond)} | ` +
      `${shown(r.p50)} | ${shown(r.p99)} | ${shown(r.cpuUs)} | ${shown(r.rssMb)} | ` +
      `${shown(r.perBatch)} |`,
  )
console.log(
  `\nfollower → SQLite: ${Math.round((100 * follow.perSecond) / floor.perSecond)} % of the bare ` +
    `consumer's rate, ${Math.round((100 * follow.perSecond) / alone.perSecond)} % of the store alone's`,
)
process.exit(0)
