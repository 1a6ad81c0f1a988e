/**
 * `actiontrail follow-nova --metrics-port` (issue 14): the follower run on its own serves its
 * Prometheus metrics. The real command, the real RabbitMQ (the test plays Nova): two notifications
 * applied and one unparseable message dead-lettered show in a scrape as message counts by outcome,
 * along with the writes they made; SIGTERM still stops the command with exit 0. Inside `serve`
 * (ACTIONTRAIL_NOVA_AMQP_URL), the same counts are part of the server's own `/metrics`.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { StaticTokenAuthenticator } from '../../src/auth/token-file.js'
import { resolveServeConfig } from '../../src/config.js'
import { startServer } from '../../src/server.js'
import { TOKEN_ENTRIES } from '../helpers/build-app.js'
import { waitFor } from '../helpers/follower-rig.js'
import { newRequestId } from '../helpers/nova-notifications.js'
import { FakeNova, rabbitSkip, TEST_AMQP_URL, uniqueName } from '../helpers/rabbitmq.js'
import { startCli } from '../helpers/run-cli.js'

const skip = await rabbitSkip()

/** The value of one sample (`name{labels}`) in exposition text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('follow-nova --metrics-port', { skip }, () => {
  test('serves the follower’s counts at /metrics', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'actiontrail-follow-metrics-'))
    const nova = new FakeNova()
    await nova.connect()
    const queue = uniqueName('actiontrail.test')
    const child = startCli(
      [
        'follow-nova',
        '--amqp',
        TEST_AMQP_URL,
        '--exchange',
        nova.exchange,
        '--queue',
        queue,
        '--db',
        join(dir, 'actiontrail.db'),
        '--metrics-port',
        '0',
        '--log-level',
        'warn',
      ],
      {},
    )
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')))
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    t.after(async () => {
      if (child.exitCode === null) child.kill('SIGKILL')
      await nova.cleanUp([queue, `${queue}.dead`])
      rmSync(dir, { recursive: true, force: true })
    })

    await waitFor('the metrics URL', () => /Metrics at (\S+)/.test(stdout))
    const url = /Metrics at (\S+)/.exec(stdout)?.[1] ?? ''
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    const scrape = async () => {
      const res = await fetch(url)
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
      return res.text()
    }
    // The metrics answer at once; the follower's counters are there from the start.
    await waitFor('a first scrape', async () => {
      const text = await scrape()
      return sample(text, 'actiontrail_nova_messages_received_total') !== undefined
    })
    // Published messages are kept only once the follower's queue is bound: wait for its consumer.
    await waitFor('consuming', async () => {
      const { connect } = await import('amqplib')
      const connection = await connect(TEST_AMQP_URL)
      try {
        const channel = await connection.createChannel()
        channel.on('error', () => undefined)
        return (await channel.checkQueue(queue).catch(() => undefined))?.consumerCount === 1
      } finally {
        await connection.close().catch(() => undefined)
      }
    })

    const uuid = '878b0921-8f85-4257-88b6-2e743b5a975c'
    const create = newRequestId()
    await nova.publish(
      { eventType: 'instance.create.start', uuid, requestId: create },
      { eventType: 'instance.create.end', uuid, requestId: create },
    )
    nova.publishRaw('versioned_notifications.info', Buffer.from('not json'))
    await nova.confirmed()

    let text = ''
    await waitFor('the counts', async () => {
      text = await scrape()
      return (
        sample(text, 'actiontrail_nova_messages_total{outcome="applied"}') === 2 &&
        sample(text, 'actiontrail_nova_messages_total{outcome="dead_lettered"}') === 1
      )
    })
    assert.equal(sample(text, 'actiontrail_nova_messages_received_total'), 3)
    assert.equal(sample(text, 'actiontrail_nova_messages_total{outcome="requeued"}'), 0)
    assert.equal(sample(text, 'actiontrail_nova_reconnects_total'), 0)
    // The writes the notifications made, through the same store metrics as serve's.
    assert.ok(/^actiontrail_writes_total\{operation="[a-z_]+",outcome="ok"\} [1-9]/m.test(text))
    assert.ok(/^actiontrail_group_commit_operations_count [1-9]/m.test(text))
    // No label holds an id.
    assert.ok(!text.includes(uuid) && !text.includes(create))

    child.kill('SIGTERM')
    assert.equal(await exited, 0, stderr)
  })

  test('inside serve, the follower’s counts are in the server’s /metrics', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'actiontrail-serve-follow-metrics-'))
    const nova = new FakeNova()
    await nova.connect()
    const queue = uniqueName('actiontrail.test')
    const config = resolveServeConfig(
      { port: '0', db: join(dir, 'actiontrail.db'), logLevel: 'silent' },
      {
        ACTIONTRAIL_NOVA_AMQP_URL: TEST_AMQP_URL,
        ACTIONTRAIL_NOVA_EXCHANGE: nova.exchange,
        ACTIONTRAIL_NOVA_QUEUE: queue,
      },
    )
    const server = await startServer(config, new StaticTokenAuthenticator(TOKEN_ENTRIES))
    t.after(async () => {
      await server.close()
      await nova.cleanUp([queue, `${queue}.dead`])
      rmSync(dir, { recursive: true, force: true })
    })
    assert.ok(server.follower)
    await server.follower.whenConsuming()
    const uuid = '978b0921-8f85-4257-88b6-2e743b5a975c'
    const create = newRequestId()
    await nova.publish(
      { eventType: 'instance.create.start', uuid, requestId: create },
      { eventType: 'instance.create.end', uuid, requestId: create },
    )
    await waitFor('applied', async () => {
      const text = (await server.app.inject('/metrics')).body
      return sample(text, 'actiontrail_nova_messages_total{outcome="applied"}') === 2
    })
  })
})
