/**
 * `npm run bench:follow -- [--count N] [--prefetch N]`
 *
 * The Nova follower's consume-to-committed throughput (issue 12): N notifications (default
 * 100,000) of a realistic mix of families — action lifecycles of one `.start` and one `.end`
 * (or `.error`, one in 20), unique request ids over 1,000 instances — published to the local
 * RabbitMQ (ACTIONTRAIL_TEST_AMQP_URL, default guest@127.0.0.1:5672) on a fresh topic exchange
 * while the follower consumes them into a fresh SQLite file.
 *
 * Reports, measured in the same run: the floor (a bare amqplib consumer with the same prefetch
 * that acknowledges without writing anything) and the follower: throughput from the first
 * publish to the last commit, lag p50/p99 (envelope timestamp at publish → handle resolved, i.e.
 * committed), and the process's peak RSS. Publisher and consumer share this process (and its two
 * cores), in both rows.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import { connect } from 'amqplib'
import { createActionService } from '../src/local-service.js'
import { NovaFollower } from '../src/nova/follow/nova-follower.js'
import { resolveFollowSettings } from '../src/nova/follow/follow-settings.js'
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
  },
})
const COUNT = Number(values.count)
const PREFETCH = values.prefetch ?? '512'
const URL_ = process.env.ACTIONTRAIL_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

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

/** Publishes COUNT notifications as fast as the broker takes them (publisher confirms, windows of 1,000). */
async function publish(exchange: string): Promise<number> {
  const connection = await connect(URL_)
  const channel = await connection.createConfirmChannel()
  const started = performance.now()
  for (let i = 0; i < COUNT / 2; i++) {
    const uuid = INSTANCES[i % INSTANCES.length] as string
    const requestId = newRequestId()
    const name = family(i)
    const end = i % 20 === 19 ? 'error' : 'end'
    for (const phase of ['start', end]) {
      const eventType = `instance.${name}.${phase}`
      const body = notificationBody({ eventType, uuid, requestId, timestamp: envelopeTime() })
      if (!channel.publish(exchange, routingKeyOf(eventType), body))
        await new Promise((resolve) => channel.once('drain', resolve))
    }
    if (i % 500 === 499) await channel.waitForConfirms()
  }
  await channel.waitForConfirms()
  await connection.close()
  return performance.now() - started
}

function lagOf(body: Buffer): number {
  const outer = JSON.parse(body.toString('utf8')) as { 'oslo.message': string }
  const inner = JSON.parse(outer['oslo.message']) as { timestamp: string }
  return Date.now() - Date.parse(`${inner.timestamp.replace(' ', 'T').slice(0, 23)}Z`)
}

interface Row {
  name: string
  seconds: number
  perSecond: number
  p50: number
  p99: number
  rssMb: number
  /** Publishing alone: its rate bounds the run's. */
  publishPerSecond: number
}

async function run(
  name: string,
  makeHandler: () => Promise<{ handler: NotificationHandler; close: () => Promise<void> }>,
): Promise<Row> {
  const exchange = `nova-bench-${randomUUID().slice(0, 8)}`
  const queue = `actiontrail.bench-${randomUUID().slice(0, 8)}`
  const admin = await connect(URL_)
  const adminChannel = await admin.createChannel()
  await adminChannel.assertExchange(exchange, 'topic', { durable: false })
  const settings = resolveFollowSettings({ amqp: URL_, exchange, queue, prefetch: PREFETCH }, {})
  if (!settings) throw new Error('no settings')
  const { handler: inner, close } = await makeHandler()
  const lags: number[] = []
  let done = 0
  let finished: () => void = () => undefined
  const allDone = new Promise<void>((resolve) => (finished = resolve))
  const handler: NotificationHandler = {
    async handle(body) {
      const result = await inner.handle(body)
      lags.push(lagOf(body))
      if (++done === COUNT) finished()
      return result
    },
  }
  const { logger } = createLogger({
    level: 'warn',
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
  })
  const follower = new NovaFollower({ settings, handler, logger, statsIntervalMs: 0 })
  follower.start()
  await follower.whenConsuming()
  let rss = 0
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 100)
  const started = performance.now()
  const publishMs = await publish(exchange)
  await allDone
  const seconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  await follower.stop()
  await close()
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
    rssMb: rss / 1e6,
    publishPerSecond: COUNT / (publishMs / 1000),
  }
}

const floor = await run('floor: bare consumer, ack without writing', async () => ({
  handler: { handle: () => Promise.resolve({ kind: 'ignored', reason: 'floor' } as const) },
  close: () => Promise.resolve(),
}))
const quiet = createLogger({
  level: 'silent',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
}).logger
const dir = mkdtempSync(join(tmpdir(), 'actiontrail-bench-follow-'))
const follow = await run('follower → SQLite', async () => {
  const stores = await openStores(join(dir, 'follow.db'))
  return {
    handler: createNotificationHandler({
      service: createActionService(stores.actions),
      log: quiet,
    }),
    close: () => stores.close(),
  }
})
rmSync(dir, { recursive: true, force: true })

console.log(`\nbench:follow — ${COUNT} notifications, prefetch ${PREFETCH}\n`)
console.log(
  '| run | seconds | notifications/s | published/s | lag p50 ms | lag p99 ms | peak RSS MB |',
)
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
for (const r of [floor, follow])
  console.log(
    `| ${r.name} | ${r.seconds.toFixed(1)} | ${Math.round(r.perSecond)} | ${Math.round(r.publishPerSecond)} | ` +
      `${Math.round(r.p50)} | ` +
      `${Math.round(r.p99)} | ${Math.round(r.rssMb)} |`,
  )
process.exit(0)
